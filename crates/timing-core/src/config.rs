//! `HarnessConfig`: how long to warm up, how many samples to take, and what one sample is.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::stats::Level;

/// Everything the harness needs to know before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessConfig {
    /// The warm-up phase.
    pub warmup: Warmup,
    /// When the measured phase stops.
    pub stop: StopRule,
    /// Calls of the routine between the two fences of one sample. 1 (the default) measures
    /// per-call latency; N > 1 is the batched mode for throughput: the sample is the mean per call
    /// over N calls with one fence pair.
    pub calls_per_sample: usize,
    /// A cap on the number of samples for the time-based rules, so that a very fast routine
    /// cannot exhaust memory; 1,000,000 by default. [`StopRule::Count`] is not capped.
    pub max_samples: usize,
}

impl Default for HarnessConfig {
    fn default() -> Self {
        Self {
            warmup: Warmup::default(),
            stop: StopRule::Count(100),
            calls_per_sample: 1,
            max_samples: 1_000_000,
        }
    }
}

/// The warm-up phase: it lasts at least `min_iters` samples *and* `min_time`, optionally until
/// steady state, and never longer than `max_time`. Warm-up timings are kept and reported (the
/// first is the cold call).
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    /// The least number of warm-up samples; 10 by default (the Python tool's `--warmup-batches`).
    pub min_iters: usize,
    /// The least warm-up time; 100 ms by default.
    pub min_time: Duration,
    /// The most warm-up time, which overrides the other bounds; 60 s by default.
    pub max_time: Duration,
    /// Keep warming up until the timings settle; off by default.
    pub steady_state: Option<SteadyState>,
}

impl Default for Warmup {
    fn default() -> Self {
        Self {
            min_iters: 10,
            min_time: Duration::from_millis(100),
            max_time: Duration::from_secs(60),
            steady_state: None,
        }
    }
}

/// Steady state: the median of the last `window` warm-up samples differs from the median of the
/// `window` before them by at most `tolerance` (relative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SteadyState {
    /// Samples per window; 10 is typical.
    pub window: usize,
    /// Relative change allowed between the two windows' medians, e.g. 0.03 for 3%.
    pub tolerance: f64,
}

/// When to stop measuring.
#[derive(Debug, Clone, PartialEq)]
pub enum StopRule {
    /// Exactly this many samples (the Python tool's `--measure-batches`).
    Count(usize),
    /// Until `budget` has passed, and at least `min_samples` were taken.
    Time {
        /// Time to spend measuring.
        budget: Duration,
        /// The least number of samples, whatever the budget.
        min_samples: usize,
    },
    /// Until the interval of a statistic is narrow enough.
    Adaptive(Adaptive),
}

/// Adaptive stopping: sample until the confidence interval of `statistic` is narrower than
/// `target_width` relative to its estimate, having taken at least `min_samples` and `min_time`,
/// but stop at `max_time` whatever the width (and report that the target was missed).
#[derive(Debug, Clone, PartialEq)]
pub struct Adaptive {
    /// The statistic whose interval decides.
    pub statistic: Statistic,
    /// Target relative width of the interval, `(high − low) / estimate`, e.g. 0.02.
    pub target_width: f64,
    /// The interval's confidence level.
    pub level: Level,
    /// The least number of samples.
    pub min_samples: usize,
    /// The least measuring time.
    pub min_time: Duration,
    /// The most measuring time.
    pub max_time: Duration,
}

impl Default for Adaptive {
    fn default() -> Self {
        Self {
            statistic: Statistic::Median,
            target_width: 0.02,
            level: Level::default(),
            min_samples: 10,
            min_time: Duration::ZERO,
            max_time: Duration::from_secs(60),
        }
    }
}

/// A statistic whose interval adaptive stopping watches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The median.
    Median,
    /// The quantile `q` in (0, 1), e.g. 0.99 for p99.
    Quantile(f64),
}

impl Statistic {
    /// The quantile this statistic is.
    pub fn q(self) -> f64 {
        match self {
            Self::Median => 0.5,
            Self::Quantile(q) => q,
        }
    }
}

impl HarnessConfig {
    /// Checks the settings for values that cannot work.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting: zero samples or calls, a steady-state window
    /// of 0 or a negative tolerance, a non-positive target width, a quantile outside (0, 1), or a
    /// maximum time below the minimum.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(msg));
        if self.calls_per_sample == 0 {
            return bad("calls per sample must be at least 1".into());
        }
        if self.max_samples == 0 {
            return bad("max samples must be at least 1".into());
        }
        if self.warmup.max_time < self.warmup.min_time {
            return bad(format!(
                "warm-up max time {:?} is below its min time {:?}",
                self.warmup.max_time, self.warmup.min_time
            ));
        }
        if let Some(steady) = self.warmup.steady_state {
            if steady.window == 0 || steady.tolerance.is_nan() || steady.tolerance < 0.0 {
                return bad(format!(
                    "steady state needs a window >= 1 and a tolerance >= 0, got {} and {}",
                    steady.window, steady.tolerance
                ));
            }
        }
        match &self.stop {
            StopRule::Count(0) => bad("measure count must be at least 1".into()),
            StopRule::Adaptive(a) => {
                if a.target_width.is_nan() || a.target_width <= 0.0 {
                    return bad(format!(
                        "target interval width {} must be > 0, e.g. 0.02",
                        a.target_width
                    ));
                }
                let q = a.statistic.q();
                if !(q > 0.0 && q < 1.0) {
                    return bad(format!("adaptive quantile {q} is outside (0, 1)"));
                }
                if a.max_time < a.min_time {
                    return bad(format!(
                        "max time {:?} is below min time {:?}",
                        a.max_time, a.min_time
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
