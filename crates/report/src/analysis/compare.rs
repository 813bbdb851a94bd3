//! Pairwise comparisons within a shape group: the Python analyzer's ratios, plus, where both
//! records carry raw latencies, the speedup of medians with its interval and a verdict.
//!
//! Two designs: records of one interleaved run (`order` `interleaved`, the same plan and machine,
//! round values for the same rounds) are compared round by round ([`compare_paired`]: drift
//! falls on both alike); any other pair is compared as two independent sample sets
//! ([`compare`]: Mann-Whitney and a bootstrap of the median ratio), which assumes the machine did
//! not change between the two measurements.

use serde::Serialize;
use timing_core::stats::{Samples, Verdict, compare, compare_paired};

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
    /// Two-sided p-value: Wilcoxon signed-rank over rounds (paired design) or Mann-Whitney U
    /// (independent design).
    pub p_value: Option<f64>,
    /// A compared with B: `faster`, `slower`, `equivalent` (the whole interval within the
    /// equivalence margin) or `no_difference` (inconclusive); `None` without raw latencies.
    pub verdict: Option<Verdict>,
    /// Which design produced the interval, p-value and verdict; `None` without raw latencies.
    pub design: Option<Design>,
    /// Paired design: the rounds compared.
    pub rounds: Option<usize>,
}

/// How a pair's samples were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Round by round: both were measured in the same interleaved rounds; the speedup is the
    /// median of the per-round ratios, with a distribution-free interval, and the test is
    /// Wilcoxon's signed-rank test of the log ratios.
    Paired,
    /// As two independent sample sets: the ratio of medians with a bootstrap interval, and the
    /// Mann-Whitney U test.
    Independent,
}

impl std::fmt::Display for Design {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Paired => "paired",
            Self::Independent => "independent",
        })
    }
}

/// The round values of `a` and `b` when they were measured in the same interleaved rounds: both
/// `order` `interleaved`, one plan, one machine (device, host, threads: even when the analysis
/// groups machines together), and as many round values, at least 2, all positive and finite.
fn same_rounds<'r>(a: &'r ResultRow, b: &'r ResultRow) -> Option<(&'r [f64], &'r [f64])> {
    let interleaved = |r: &ResultRow| r.order.as_deref() == Some("interleaved");
    let one_run = interleaved(a)
        && interleaved(b)
        && a.plan_hash.is_some()
        && a.plan_hash == b.plan_hash
        && a.device_name == b.device_name
        && a.host_name == b.host_name
        && a.num_threads == b.num_threads
        && a.rounds == b.rounds
        && a.repeat_index == b.repeat_index;
    let (ra, rb) = (
        a.round_latencies_ms.as_deref()?,
        b.round_latencies_ms.as_deref()?,
    );
    let usable = |r: &[f64]| r.iter().all(|x| x.is_finite() && *x > 0.0);
    (one_run && ra.len() == rb.len() && ra.len() >= 2 && usable(ra) && usable(rb))
        .then_some((ra, rb))
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
            // Records of `--repeat` runs are compared within their run (the Repeated Runs
            // section compares runs).
            if a.repeat_index != b.repeat_index {
                continue;
            }
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
                design: None,
                rounds: None,
            };
            if let Some((ra, rb)) = same_rounds(a, b) {
                // ratio = median of a_i / b_i; the speedup of A is its inverse (order statistics
                // follow monotone maps too).
                let c = compare_paired(ra, rb, &config.compare)?;
                pair.median_speedup = Some(1.0 / c.ratio);
                pair.speedup_ci_low = c.ratio_ci.high.map(|h| 1.0 / h);
                pair.speedup_ci_high = c.ratio_ci.low.map(|l| 1.0 / l);
                pair.p_value = Some(c.test.p_value);
                pair.verdict = Some(c.verdict);
                pair.design = Some(Design::Paired);
                pair.rounds = Some(c.rounds);
            } else if let (Some(sa), Some(sb)) = (&samples[kept[i]], &samples[kept[j]]) {
                // compare(a, b) gives median(a)/median(b); the speedup of A is its inverse, and so
                // are the interval's bounds (the percentile interval follows monotone maps).
                let c = compare(sa, sb, &config.compare)?;
                pair.median_speedup = Some(1.0 / c.ratio);
                pair.speedup_ci_low = c.ratio_ci.high.map(|h| 1.0 / h);
                pair.speedup_ci_high = c.ratio_ci.low.map(|l| 1.0 / l);
                pair.p_value = Some(c.p_value);
                pair.verdict = Some(c.verdict);
                pair.design = Some(Design::Independent);
            }
            pairs.push(pair);
        }
    }
    Ok((pairs, indices.len() - kept.len()))
}
