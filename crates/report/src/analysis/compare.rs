//! Pairwise comparisons within a shape group: the Python analyzer's ratios, plus, where both
//! records carry raw latencies, the speedup of medians with its interval and a verdict.

use serde::Serialize;
use timing_core::stats::{Samples, Verdict, compare};

use super::AnalysisConfig;
use crate::error::Result;
use crate::schema::{ResultRow, Shape};

/// The comparison of model A with model B (A before B in the file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pairwise {
    /// Model A.
    pub model_a: String,
    /// Model B.
    pub model_b: String,
    /// The shape group both belong to.
    pub shape: Shape,
    /// `mean_latency(B) / mean_latency(A)`: above 1, A is faster (the Python analyzer's ratio).
    pub latency_speedup: f64,
    /// `tokens_per_second(A) / tokens_per_second(B)`.
    pub throughput_ratio: f64,
    /// `peak_memory_mb(A) / peak_memory_mb(B)`, when both measured memory.
    pub memory_ratio: Option<f64>,
    /// With raw latencies: `median(B) / median(A)`.
    pub median_speedup: Option<f64>,
    /// Lower bound of the 95% bootstrap interval of `median_speedup`.
    pub speedup_ci_low: Option<f64>,
    /// Upper bound of that interval.
    pub speedup_ci_high: Option<f64>,
    /// Two-sided Mann-Whitney U p-value.
    pub p_value: Option<f64>,
    /// A compared with B: `faster`, `slower` or `no_difference`; `None` without raw latencies.
    pub verdict: Option<Verdict>,
}

/// Every pair among the records of group `shape` (`indices` into `rows`, in file order), limited to the
/// `max_pairwise_models` fastest; returns the pairs and how many records were left out. `samples`
/// holds each record's usable raw latencies (see [`super::notes`]); a pair gets an interval and a
/// verdict when both have them.
///
/// # Errors
/// Only an invalid `config.compare` (e.g. a negative threshold): data problems were caught, and
/// noted, when `samples` was made.
pub(crate) fn pairwise(
    rows: &[ResultRow],
    samples: &[Option<Samples>],
    shape: &Shape,
    indices: &[usize],
    config: &AnalysisConfig,
) -> Result<(Vec<Pairwise>, usize)> {
    let mut kept = indices.to_vec();
    if kept.len() > config.max_pairwise_models {
        kept.sort_by(|&a, &b| rows[a].mean_latency.total_cmp(&rows[b].mean_latency));
        kept.truncate(config.max_pairwise_models);
        kept.sort_unstable();
    }
    let mut pairs = Vec::new();
    for i in 0..kept.len() {
        for j in i + 1..kept.len() {
            let (a, b) = (&rows[kept[i]], &rows[kept[j]]);
            let mut pair = Pairwise {
                model_a: a.model_name.clone(),
                model_b: b.model_name.clone(),
                shape: shape.clone(),
                latency_speedup: b.mean_latency / a.mean_latency,
                throughput_ratio: a.tokens_per_second / b.tokens_per_second,
                memory_ratio: a
                    .ranked_memory_mb()
                    .zip(b.ranked_memory_mb())
                    .map(|(x, y)| x / y),
                median_speedup: None,
                speedup_ci_low: None,
                speedup_ci_high: None,
                p_value: None,
                verdict: None,
            };
            if let (Some(sa), Some(sb)) = (&samples[kept[i]], &samples[kept[j]]) {
                // compare(a, b) gives median(a)/median(b); the speedup of A is its inverse, and so
                // are the interval's bounds (the percentile interval follows monotone maps).
                let c = compare(sa, sb, &config.compare)?;
                pair.median_speedup = Some(1.0 / c.ratio);
                pair.speedup_ci_low = c.ratio_ci.high.map(|h| 1.0 / h);
                pair.speedup_ci_high = c.ratio_ci.low.map(|l| 1.0 / l);
                pair.p_value = Some(c.p_value);
                pair.verdict = Some(c.verdict);
            }
            pairs.push(pair);
        }
    }
    Ok((pairs, indices.len() - kept.len()))
}
