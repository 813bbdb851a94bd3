//! `Summary`: every statistic of one sample set, as the reports print them.

use serde::Serialize;

use super::bootstrap::Bootstrap;
use super::interval::{Interval, Level};
use super::outliers::Outliers;
use super::percentiles::min_samples_for_quantile;
use super::quantile_ci::quantile_ci;
use super::samples::Samples;

/// The reported percentiles: name and quantile.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

/// Settings of a summary: the confidence level and the bootstrap of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SummaryConfig {
    /// Level of every interval; 0.95 by default.
    pub level: Level,
    /// Resampling for the interval of the mean.
    pub bootstrap: Bootstrap,
}

/// The statistics of one sample set, in the unit of its samples.
///
/// Percentiles use numpy's linear interpolation. A percentile that the sample count cannot
/// support (fewer samples than [`min_samples_for_quantile`]) is still computed but is listed in
/// [`Summary::unsupported_percentiles`]; print it flagged, with its interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (equal to `p50`).
    pub median: f64,
    /// Sample standard deviation (n − 1); 0 for one sample.
    pub std: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// 50th percentile.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Interquartile range, p75 − p25.
    pub iqr: f64,
    /// Median absolute deviation from the median, unscaled (scipy's `median_abs_deviation`).
    pub mad: f64,
    /// Coefficient of variation, std / mean (0 when the mean is 0).
    pub cv: f64,
    /// Distribution-free interval of the median.
    pub median_ci: Interval,
    /// Distribution-free interval of p99.
    pub p99_ci: Interval,
    /// Seeded bootstrap interval of the mean.
    pub mean_ci: Interval,
    /// Tukey outlier counts.
    pub outliers: Outliers,
    /// Names of the percentiles (of `p90`, `p95`, `p99`, `p999`) with too few samples behind them.
    pub unsupported_percentiles: Vec<&'static str>,
}

impl Summary {
    /// Summarizes `samples`.
    ///
    /// Cost: O(n · resamples) for the bootstrap of the mean, O(n) for everything else.
    pub fn new(samples: &Samples, config: &SummaryConfig) -> Self {
        let median = samples.median();
        let mean = samples.mean();
        let std = samples.std_dev();
        let mut deviations: Vec<f64> = samples
            .sorted()
            .iter()
            .map(|x| (x - median).abs())
            .collect();
        deviations.sort_by(f64::total_cmp);
        let unsupported_percentiles = PERCENTILES
            .iter()
            .filter(|(_, q)| *q > 0.5 && samples.len() < min_samples_for_quantile(*q))
            .map(|(name, _)| *name)
            .collect();
        Self {
            n: samples.len(),
            mean,
            median,
            std,
            min: samples.min(),
            max: samples.max(),
            p50: median,
            p90: samples.quantile(0.9),
            p95: samples.quantile(0.95),
            p99: samples.quantile(0.99),
            p999: samples.quantile(0.999),
            iqr: samples.quantile(0.75) - samples.quantile(0.25),
            mad: super::quantile(&deviations, 0.5),
            cv: if mean > 0.0 { std / mean } else { 0.0 },
            median_ci: quantile_ci(samples, 0.5, config.level),
            p99_ci: quantile_ci(samples, 0.99, config.level),
            mean_ci: config.bootstrap.mean_ci(samples, config.level),
            outliers: Outliers::tukey(samples),
            unsupported_percentiles,
        }
    }

    /// Whether the percentile called `name` (`"p90"`, `"p99"`, …) has enough samples behind it.
    pub fn is_supported(&self, name: &str) -> bool {
        !self.unsupported_percentiles.contains(&name)
    }
}
