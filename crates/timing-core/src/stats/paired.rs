//! Paired comparisons: two routines measured in alternating rounds (interleaved), so that drift
//! (thermal, clocks, a neighbour's load) falls on both alike.
//!
//! Each round gives one latency of `a` and one of `b` under the same conditions; the comparison
//! works on the per-round ratios `a_i / b_i`:
//!
//! - the ratio estimate is the median of the per-round ratios, with its distribution-free
//!   interval (order statistics of the ratios, as [`quantile_ci`]);
//! - the test is the Wilcoxon signed-rank test of the log ratios (two-sided, [`wilcoxon`]);
//! - the verdict is faster / slower (interval beyond 1, ratio beyond the noise threshold, test
//!   significant), equivalent (the whole interval within ±margin of 1: a CI gate can assert "no
//!   change", not only "no detected change"), or inconclusive.
//!
//! References: Wilcoxon (1945); Conover, *Practical Nonparametric Statistics*, 5.7; the
//! equivalence rule is the interval inclusion form of two one-sided tests (Schuirmann 1987).

use serde::Serialize;

use super::compare::{CompareConfig, Verdict};
use super::interval::Interval;
use super::quantile_ci::quantile_ci;
use super::samples::Samples;
use super::special::normal_sf;
use crate::error::{Error, Result};

/// The largest number of non-zero differences for which the exact null distribution is used
/// (scipy's limit for `method="auto"`).
const EXACT_MAX_N: usize = 50;

/// The result of a Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// `min(W+, W−)`, the sums of the ranks of the positive and the negative differences
    /// (scipy's two-sided `statistic`).
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// Non-zero differences used (zeros are dropped, scipy's `zero_method="wilcox"`).
    pub n: usize,
    /// Whether the p-value is exact (n ≤ 50, no tied absolute values) or from the normal
    /// approximation with the tie correction and no continuity correction.
    pub exact: bool,
}

/// The two-sided Wilcoxon signed-rank test of `differences` against a symmetric distribution
/// around 0: `scipy.stats.wilcoxon(differences)` with `zero_method="wilcox"`,
/// `correction=False`, and `method="exact"` for up to 50 non-zero differences without ties,
/// `"approx"` otherwise. No non-zero difference gives p = 1.
///
/// Cost: O(n log n), plus O(n³) for the exact distribution (n ≤ 50).
pub fn wilcoxon(differences: &[f64]) -> Wilcoxon {
    let mut nonzero: Vec<f64> = differences.iter().copied().filter(|d| *d != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return Wilcoxon {
            statistic: 0.0,
            p_value: 1.0,
            n,
            exact: true,
        };
    }
    nonzero.sort_by(|x, y| x.abs().total_cmp(&y.abs()));
    // Average ranks of |d| over ties.
    let (mut w_plus, mut tie_term, mut ties) = (0.0, 0.0, false);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && nonzero[j].abs() == nonzero[i].abs() {
            j += 1;
        }
        let count = (j - i) as f64;
        let rank = (i + j + 1) as f64 / 2.0;
        w_plus += rank * nonzero[i..j].iter().filter(|d| **d > 0.0).count() as f64;
        tie_term += count * count * count - count;
        ties |= j - i > 1;
        i = j;
    }
    let total = (n * (n + 1)) as f64 / 2.0;
    let statistic = w_plus.min(total - w_plus);
    if n <= EXACT_MAX_N && !ties {
        return Wilcoxon {
            statistic,
            p_value: exact_two_sided(n, statistic as usize),
            n,
            exact: true,
        };
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
    let p_value = if variance > 0.0 {
        (2.0 * normal_sf((mean - statistic) / variance.sqrt())).min(1.0)
    } else {
        1.0
    };
    Wilcoxon {
        statistic,
        p_value,
        n,
        exact: false,
    }
}

/// `2 · P(W ≤ w)` under the null, where W is the sum of the ranks 1..=n each counted with
/// probability ½ (the count of subsets of 1..=n per sum, by dynamic programming).
fn exact_two_sided(n: usize, w: usize) -> f64 {
    let total = n * (n + 1) / 2;
    let mut counts = vec![0f64; total + 1];
    counts[0] = 1.0;
    for rank in 1..=n {
        for sum in (rank..=total).rev() {
            counts[sum] += counts[sum - rank];
        }
    }
    let below: f64 = counts[..=w.min(total)].iter().sum();
    (2.0 * below / 2f64.powi(n as i32)).min(1.0)
}

/// The paired comparison of `a` with `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedComparison {
    /// Rounds compared.
    pub rounds: usize,
    /// The median of the per-round ratios `a_i / b_i`: below 1 means `a` is faster.
    pub ratio: f64,
    /// Its distribution-free confidence interval.
    pub ratio_ci: Interval,
    /// The Wilcoxon signed-rank test of the log ratios.
    pub test: Wilcoxon,
    /// The verdict, by the rules of [`compare`](super::compare) with this interval and test.
    pub verdict: Verdict,
}

/// Compares `a` with `b`, where `a[i]` and `b[i]` were measured in the same round.
///
/// # Errors
/// [`Error::InvalidConfig`] for different lengths, fewer than 2 rounds, a latency that is not
/// positive and finite, or a threshold or margin that is not a fraction ≥ 0.
/// (`config.bootstrap` is not used: the interval comes from order statistics.)
pub fn compare_paired(a: &[f64], b: &[f64], config: &CompareConfig) -> Result<PairedComparison> {
    let bad = |m: String| Err(Error::InvalidConfig(m));
    if a.len() != b.len() {
        return bad(format!(
            "paired comparison needs one latency of each per round, got {} and {}",
            a.len(),
            b.len()
        ));
    }
    if a.len() < 2 {
        return bad("paired comparison needs at least 2 rounds".to_owned());
    }
    if a.iter().chain(b).any(|x| !(x.is_finite() && *x > 0.0)) {
        return bad("paired latencies must be positive and finite".to_owned());
    }
    config.check()?;
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let samples = Samples::new(ratios)?;
    let ratio = samples.median();
    let ratio_ci = quantile_ci(&samples, 0.5, config.level);
    let test = wilcoxon(&logs);
    let significant = test.p_value < 1.0 - config.level.get();
    let verdict = config.verdict(ratio, &ratio_ci, significant);
    Ok(PairedComparison {
        rounds: a.len(),
        ratio,
        ratio_ci,
        test,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_small_cases() {
        // n = 3: sums 0..=6 have counts 1,1,1,2,1,1,1 of 8 subsets.
        assert!((exact_two_sided(3, 0) - 2.0 / 8.0).abs() < 1e-15);
        assert!((exact_two_sided(3, 3) - 1.0).abs() < 1e-15);
        assert!((exact_two_sided(3, 2) - 2.0 * 3.0 / 8.0).abs() < 1e-15);
    }

    #[test]
    fn zeros_are_dropped_and_all_zeros_is_p_one() {
        let w = wilcoxon(&[0.0, 0.0]);
        assert_eq!((w.n, w.p_value), (0, 1.0));
        assert_eq!(wilcoxon(&[0.0, 1.0, -2.0, 3.0]).n, 3);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let config = CompareConfig::default();
        assert!(compare_paired(&[1.0], &[1.0], &config).is_err());
        assert!(compare_paired(&[1.0, 2.0], &[1.0], &config).is_err());
        assert!(compare_paired(&[1.0, 0.0], &[1.0, 1.0], &config).is_err());
    }
}
