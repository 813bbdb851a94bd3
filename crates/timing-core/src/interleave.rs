//! Interleaved rounds: several routines measured in alternation, so that drift in time (heat,
//! clock changes, a neighbour's load) falls on all of them alike.
//!
//! Each routine first warms up on its own. Then every round runs a block of `block` batches of
//! each routine, the routines in a shuffled order (seeded: the same seed gives the same orders),
//! each batch timed between two fences as [`Harness`](crate::Harness) does. Every batch is a
//! sample; the mean of each routine's block in a round is its round value, and the round values
//! of two routines are paired for [`stats::compare_paired`](crate::stats::compare_paired).

use std::time::Duration;

use crate::clock::{Clock, WallClock};
use crate::error::{Error, Result};
use crate::stats::Rng;

/// How the rounds run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterleaveConfig {
    /// Warm-up batches of each routine, run one routine after the other before the rounds.
    pub warmup_batches: usize,
    /// Rounds.
    pub rounds: usize,
    /// Batches of each routine per round.
    pub block: usize,
    /// Seed of the per-round shuffles.
    pub seed: u64,
}

impl Default for InterleaveConfig {
    fn default() -> Self {
        Self {
            warmup_batches: 10,
            rounds: 30,
            block: 3,
            seed: 0,
        }
    }
}

/// What one routine measured in the rounds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interleaved {
    /// Its warm-up timings, in order.
    pub warmup: Vec<Duration>,
    /// Every measured batch, in order.
    pub samples: Vec<Duration>,
    /// The mean of its block in each round, in round order.
    pub round_means: Vec<Duration>,
}

impl Interleaved {
    /// The samples in milliseconds.
    pub fn samples_ms(&self) -> Vec<f64> {
        self.samples.iter().map(|d| d.as_secs_f64() * 1e3).collect()
    }

    /// The round values in milliseconds.
    pub fn round_means_ms(&self) -> Vec<f64> {
        self.round_means
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect()
    }
}

/// Runs routines in interleaved rounds.
pub struct Interleaver<'a> {
    config: InterleaveConfig,
    clock: Box<dyn Clock + 'a>,
    fence: Box<dyn FnMut() + 'a>,
}

impl<'a> Interleaver<'a> {
    /// An interleaver with the wall clock and no fence.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero rounds or a zero block.
    pub fn new(config: InterleaveConfig) -> Result<Self> {
        if config.rounds == 0 || config.block == 0 {
            return Err(Error::InvalidConfig(format!(
                "interleaving needs at least 1 round and 1 batch per block, got {} and {}",
                config.rounds, config.block
            )));
        }
        Ok(Self {
            config,
            clock: Box::new(WallClock::new()),
            fence: Box::new(|| {}),
        })
    }

    /// Sets the fence, called before starting and before stopping the clock of every batch.
    pub fn with_fence(mut self, fence: impl FnMut() + 'a) -> Self {
        self.fence = Box::new(fence);
        self
    }

    /// Sets the clock (tests script one).
    pub fn with_clock(mut self, clock: impl Clock + 'a) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// One batch: fence, start, call, fence, stop; the output is dropped after the clock stops.
    fn batch<T, E>(&mut self, routine: &mut dyn FnMut() -> Result<T, E>) -> Result<Duration, E> {
        (self.fence)();
        let start = self.clock.now();
        let output = routine()?;
        (self.fence)();
        let elapsed = self.clock.now().saturating_sub(start);
        drop(output);
        Ok(elapsed)
    }

    /// Warms up each routine, then runs the rounds; one [`Interleaved`] per routine, in the
    /// routines' order.
    ///
    /// # Errors
    /// The first error of a routine.
    pub fn try_run<T, E>(
        &mut self,
        routines: &mut [&mut dyn FnMut() -> Result<T, E>],
    ) -> Result<Vec<Interleaved>, E> {
        let mut results = vec![Interleaved::default(); routines.len()];
        for (routine, result) in routines.iter_mut().zip(results.iter_mut()) {
            for _ in 0..self.config.warmup_batches {
                result.warmup.push(self.batch(&mut **routine)?);
            }
        }
        let mut rng = Rng::new(self.config.seed);
        let mut order: Vec<usize> = (0..routines.len()).collect();
        for _ in 0..self.config.rounds {
            // Fisher-Yates.
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for &index in &order {
                let mut total = Duration::ZERO;
                for _ in 0..self.config.block {
                    let d = self.batch(&mut *routines[index])?;
                    results[index].samples.push(d);
                    total += d;
                }
                results[index]
                    .round_means
                    .push(total / u32::try_from(self.config.block).unwrap_or(u32::MAX));
            }
        }
        Ok(results)
    }
}
