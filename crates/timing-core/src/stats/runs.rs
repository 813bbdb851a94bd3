//! Repeated runs: one statistic (e.g. the median latency) measured once per run, each run in a
//! fresh process, so that what a process fixes once (memory layout, the JIT and allocator state,
//! which CPU cores or clocks it got) varies between the values.
//!
//! The within-run interval of a median says how well one process measured it; the between-run
//! interval says how well the *machine's* median is known. It is the Student t interval of the
//! mean of the run values, as JMH reports across forks: the run values are taken as independent
//! and roughly normal (a median of many batches is, by the central limit theorem for sample
//! quantiles). With few runs it is wide on purpose.

use serde::Serialize;

use super::interval::{Interval, Level};
use super::special::student_t_quantile;
use crate::error::{Error, Result};

/// The spread of one statistic across runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BetweenRuns {
    /// Runs.
    pub runs: usize,
    /// The mean of the run values.
    pub mean: f64,
    /// Their standard deviation (n − 1 in the denominator); 0 for one run.
    pub std_dev: f64,
    /// `std_dev / mean`: the between-run spread as a fraction.
    pub cv: f64,
    /// The smallest run value.
    pub min: f64,
    /// The largest run value.
    pub max: f64,
    /// The t interval of the mean at `level`; unbounded for one run.
    pub ci: Interval,
}

/// The spread of `values`, one per run, with the Student t interval of their mean
/// (`scipy.stats.t.interval(level, n - 1, loc=mean, scale=sem)`).
///
/// # Errors
/// [`Error::InvalidConfig`] for no values or a value that is not finite.
pub fn between_runs(values: &[f64], level: Level) -> Result<BetweenRuns> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidConfig(
            "between-run statistics need at least one finite value per run".to_owned(),
        ));
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let std_dev = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let ci = if n > 1 {
        let half =
            student_t_quantile(1.0 - level.tail(), (n - 1) as f64) * std_dev / (n as f64).sqrt();
        Interval {
            low: Some(mean - half),
            high: Some(mean + half),
            level,
        }
    } else {
        Interval {
            low: None,
            high: None,
            level,
        }
    };
    Ok(BetweenRuns {
        runs: n,
        mean,
        std_dev,
        cv: if mean != 0.0 {
            std_dev / mean
        } else {
            f64::NAN
        },
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ci,
    })
}
