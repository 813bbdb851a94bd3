//! Statistics of latency samples: summaries, intervals, outliers and comparisons.

mod bootstrap;
mod compare;
mod interval;
mod mann_whitney;
mod outliers;
mod paired;
mod parse;
mod percentiles;
mod quantile_ci;
mod rng;
mod runs;
mod samples;
mod special;
mod summary;

pub use self::bootstrap::Bootstrap;
pub use self::compare::{CompareConfig, Comparison, Verdict, compare};
pub use self::interval::{Interval, Level};
pub use self::mann_whitney::{MannWhitney, mann_whitney_u};
pub use self::outliers::Outliers;
pub use self::paired::{PairedComparison, Wilcoxon, compare_paired, wilcoxon};
pub use self::parse::parse_lines;
pub use self::percentiles::{min_samples_for_quantile, quantile};
pub use self::quantile_ci::{quantile_ci, quantile_ci_ranks};
pub use self::rng::Rng;
pub use self::runs::{BetweenRuns, between_runs};
pub use self::samples::Samples;
pub use self::special::{binomial_cdf, erfc, normal_sf, student_t_quantile, student_t_sf};
pub use self::summary::{PERCENTILES, Summary, SummaryConfig};
