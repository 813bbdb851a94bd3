//! The harness: warm-up, then sampling until the stop rule says so, with a fence around each
//! sample.

use std::convert::Infallible;
use std::time::Duration;

use crate::clock::{Clock, WallClock};
use crate::config::{HarnessConfig, StopRule};
use crate::error::Result;
use crate::stats::{Samples, quantile_ci};

/// The phase the harness is in, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Warming up; these timings are kept apart from the samples.
    Warmup,
    /// Measuring.
    Measure,
}

/// A progress report, sent after every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The current phase.
    pub phase: Phase,
    /// Samples taken in this phase so far.
    pub iterations: usize,
    /// Time spent in this phase so far.
    pub elapsed: Duration,
}

/// Why the measured phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The fixed count was reached.
    Count,
    /// The time budget was spent.
    TimeBudget,
    /// The adaptive target width was reached.
    TargetMet,
    /// The adaptive maximum time passed before the target was met.
    MaxTime,
    /// The cap on the number of samples was reached.
    MaxSamples,
}

/// What one run of the harness measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Warm-up timings per call, in order; the first is the cold call (or cold batch).
    pub warmup: Vec<Duration>,
    /// Measured timings per call, in order (in batched mode, the mean per call of each batch).
    pub samples: Vec<Duration>,
    /// Calls per sample (1 unless batched).
    pub calls_per_sample: usize,
    /// Whether warm-up reached steady state; `None` when it was not asked for.
    pub warmup_steady: Option<bool>,
    /// Time spent warming up, fences and harness included.
    pub warmup_elapsed: Duration,
    /// Time spent measuring, fences and harness included.
    pub measure_elapsed: Duration,
    /// Why measuring stopped.
    pub stop_reason: StopReason,
    /// For adaptive stopping: the last relative interval width seen (`None` if the interval could
    /// not yet be formed).
    pub final_width: Option<f64>,
}

impl Measurement {
    /// The samples in milliseconds, the unit of every results file.
    pub fn samples_ms(&self) -> Vec<f64> {
        self.samples.iter().map(|d| d.as_secs_f64() * 1e3).collect()
    }

    /// The warm-up timings in milliseconds.
    pub fn warmup_ms(&self) -> Vec<f64> {
        self.warmup.iter().map(|d| d.as_secs_f64() * 1e3).collect()
    }

    /// For adaptive stopping, whether the target width was reached; `None` for other rules.
    pub fn target_met(&self) -> Option<bool> {
        match self.stop_reason {
            StopReason::TargetMet => Some(true),
            StopReason::MaxTime => Some(false),
            _ if self.final_width.is_some() => Some(false),
            _ => None,
        }
    }
}

/// Runs a routine through warm-up and measurement.
///
/// The fence runs before the clock starts and again before it stops (for CUDA, a device
/// synchronize; by default nothing), so device work queued by the routine is inside the sample.
pub struct Harness<'a> {
    config: HarnessConfig,
    clock: Box<dyn Clock + 'a>,
    fence: Box<dyn FnMut() + 'a>,
    progress: Option<Box<dyn FnMut(Progress) + 'a>>,
    phase_start: Option<Box<dyn FnMut(Phase) + 'a>>,
    phase_end: Option<Box<dyn FnMut(Phase) + 'a>>,
}

impl<'a> Harness<'a> {
    /// A harness with the wall clock, no fence and no progress reports.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when `config` cannot work.
    pub fn new(config: HarnessConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            clock: Box::new(WallClock::new()),
            fence: Box::new(|| {}),
            progress: None,
            phase_start: None,
            phase_end: None,
        })
    }

    /// Sets the fence, called before starting and before stopping the clock of every sample.
    pub fn with_fence(mut self, fence: impl FnMut() + 'a) -> Self {
        self.fence = Box::new(fence);
        self
    }

    /// Sets the clock (tests script one; the default is [`WallClock`]).
    pub fn with_clock(mut self, clock: impl Clock + 'a) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Sets a callback that receives a [`Progress`] after every sample.
    pub fn with_progress(mut self, progress: impl FnMut(Progress) + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Sets a callback run at the start of each phase, before its first sample and outside any
    /// timed region (e.g. to start a power sampler for the measured phase only).
    pub fn with_phase_start(mut self, hook: impl FnMut(Phase) + 'a) -> Self {
        self.phase_start = Some(Box::new(hook));
        self
    }

    /// Sets a callback run at the end of each phase, right after its last sample's clock stopped
    /// (e.g. to stop that power sampler before anything else runs). It is not called when the
    /// routine fails.
    pub fn with_phase_end(mut self, hook: impl FnMut(Phase) + 'a) -> Self {
        self.phase_end = Some(Box::new(hook));
        self
    }

    fn end_phase(&mut self, phase: Phase) {
        if let Some(hook) = self.phase_end.as_mut() {
            hook(phase);
        }
    }

    fn start_phase(&mut self, phase: Phase) {
        if let Some(hook) = self.phase_start.as_mut() {
            hook(phase);
        }
    }

    /// Warms up and measures `routine`. What it returns is dropped after the clock stops, so
    /// freeing a large output is not timed.
    pub fn run<T>(&mut self, mut routine: impl FnMut() -> T) -> Measurement {
        match self.try_run(|| Ok::<T, Infallible>(routine())) {
            Ok(measurement) => measurement,
            Err(never) => match never {},
        }
    }

    /// Warms up and measures a fallible `routine`, stopping at its first error. Its outputs are
    /// dropped after the clock of their sample stops.
    ///
    /// # Errors
    /// The routine's first error.
    pub fn try_run<T, E>(
        &mut self,
        mut routine: impl FnMut() -> Result<T, E>,
    ) -> Result<Measurement, E> {
        let (warmup, warmup_steady, warmup_elapsed) = self.warm_up(&mut routine)?;
        let (samples, stop_reason, final_width, measure_elapsed) = self.measure(&mut routine)?;
        Ok(Measurement {
            warmup,
            samples,
            calls_per_sample: self.config.calls_per_sample,
            warmup_steady,
            warmup_elapsed,
            measure_elapsed,
            stop_reason,
            final_width,
        })
    }

    /// One sample: fence, start, `calls_per_sample` calls, fence, stop; the time per call. The
    /// calls' outputs are kept until the clock has stopped, then dropped.
    fn sample<T, E>(&mut self, routine: &mut impl FnMut() -> Result<T, E>) -> Result<Duration, E> {
        let calls = self.config.calls_per_sample;
        let mut outputs = Vec::with_capacity(calls);
        (self.fence)();
        let start = self.clock.now();
        for _ in 0..calls {
            outputs.push(routine()?);
        }
        (self.fence)();
        let end = self.clock.now();
        drop(outputs);
        // `calls` fits in u32 for any batch a user would time; saturate rather than wrap beyond.
        Ok(end.saturating_sub(start) / u32::try_from(calls).unwrap_or(u32::MAX))
    }

    fn report(&mut self, phase: Phase, iterations: usize, elapsed: Duration) {
        if let Some(progress) = self.progress.as_mut() {
            progress(Progress {
                phase,
                iterations,
                elapsed,
            });
        }
    }

    #[allow(clippy::type_complexity)]
    fn warm_up<T, E>(
        &mut self,
        routine: &mut impl FnMut() -> Result<T, E>,
    ) -> Result<(Vec<Duration>, Option<bool>, Duration), E> {
        let warmup = self.config.warmup.clone();
        self.start_phase(Phase::Warmup);
        let start = self.clock.now();
        let mut timings = Vec::new();
        let mut steady = false;
        loop {
            let elapsed = self.clock.now().saturating_sub(start);
            let enough = timings.len() >= warmup.min_iters && elapsed >= warmup.min_time;
            if (enough && (warmup.steady_state.is_none() || steady)) || elapsed >= warmup.max_time {
                self.end_phase(Phase::Warmup);
                return Ok((timings, warmup.steady_state.map(|_| steady), elapsed));
            }
            timings.push(self.sample(routine)?);
            if let Some(rule) = warmup.steady_state {
                steady = is_steady(&timings, rule.window, rule.tolerance);
            }
            let elapsed = self.clock.now().saturating_sub(start);
            self.report(Phase::Warmup, timings.len(), elapsed);
        }
    }

    #[allow(clippy::type_complexity)]
    fn measure<T, E>(
        &mut self,
        routine: &mut impl FnMut() -> Result<T, E>,
    ) -> Result<(Vec<Duration>, StopReason, Option<f64>, Duration), E> {
        let stop = self.config.stop.clone();
        let max_samples = self.config.max_samples;
        self.start_phase(Phase::Measure);
        let start = self.clock.now();
        let mut samples = Vec::new();
        let mut final_width = None;
        let mut next_check = 1;
        loop {
            samples.push(self.sample(routine)?);
            let n = samples.len();
            let elapsed = self.clock.now().saturating_sub(start);
            self.report(Phase::Measure, n, elapsed);
            let reason = match &stop {
                StopRule::Count(count) => (n >= *count).then_some(StopReason::Count),
                StopRule::Time {
                    budget,
                    min_samples,
                } => (elapsed >= *budget && n >= *min_samples).then_some(StopReason::TimeBudget),
                StopRule::Adaptive(rule) => {
                    // Checking costs a sort, so check less often as the sample set grows.
                    if n >= next_check || elapsed >= rule.max_time {
                        next_check = n + (n / 20).max(1);
                        final_width = relative_width(&samples, rule.statistic.q(), rule.level);
                    }
                    let narrow = final_width.is_some_and(|w| w <= rule.target_width);
                    if narrow && n >= rule.min_samples && elapsed >= rule.min_time {
                        Some(StopReason::TargetMet)
                    } else if elapsed >= rule.max_time {
                        Some(StopReason::MaxTime)
                    } else {
                        None
                    }
                }
            };
            let capped = !matches!(stop, StopRule::Count(_)) && n >= max_samples;
            if let Some(reason) = reason.or(capped.then_some(StopReason::MaxSamples)) {
                self.end_phase(Phase::Measure);
                return Ok((samples, reason, final_width, elapsed));
            }
        }
    }
}

/// Whether the median of the last `window` timings is within `tolerance` of the median of the
/// `window` before them.
fn is_steady(timings: &[Duration], window: usize, tolerance: f64) -> bool {
    if timings.len() < 2 * window {
        return false;
    }
    let median_of = |part: &[Duration]| {
        let values: Vec<f64> = part.iter().map(Duration::as_secs_f64).collect();
        Samples::new(values).map(|s| s.median()).unwrap_or(0.0)
    };
    let last = median_of(&timings[timings.len() - window..]);
    let before = median_of(&timings[timings.len() - 2 * window..timings.len() - window]);
    if before == 0.0 {
        return last == 0.0;
    }
    (last / before - 1.0).abs() <= tolerance
}

/// The relative width of the `q`-quantile's interval over `samples`.
fn relative_width(samples: &[Duration], q: f64, level: crate::stats::Level) -> Option<f64> {
    let values: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    let samples = Samples::new(values).ok()?;
    quantile_ci(&samples, q, level).relative_width(samples.quantile(q))
}
