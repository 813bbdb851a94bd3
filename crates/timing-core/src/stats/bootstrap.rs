//! Seeded percentile-bootstrap confidence intervals: the mean of one sample set, and the ratio of
//! the medians of two.
//!
//! Method: draw `resamples` resamples with replacement, compute the statistic on each, and take the
//! α/2 and 1 − α/2 quantiles of those values (Efron & Tibshirani, *An Introduction to the
//! Bootstrap*, ch. 13). The generator is seeded, so the same input gives the same interval.

use super::interval::{Interval, Level};
use super::percentiles::quantile;
use super::rng::Rng;
use super::samples::{Samples, mean};

/// How many resamples to draw, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// The number of resamples; 2,000 by default.
    pub resamples: usize,
    /// The generator's seed; the same seed and input give the same interval.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            resamples: 2_000,
            seed: 0x5EED,
        }
    }
}

impl Bootstrap {
    /// The percentile-bootstrap interval of the mean of `samples`.
    ///
    /// Cost: O(resamples · n) time, O(resamples) memory.
    pub fn mean_ci(&self, samples: &Samples, level: Level) -> Interval {
        let values = samples.sorted();
        let mut rng = Rng::new(self.seed);
        let mut scratch = vec![0.0; values.len()];
        let estimates = (0..self.resamples.max(1))
            .map(|_| {
                resample_into(values, &mut rng, &mut scratch);
                mean(&scratch)
            })
            .collect();
        percentile_interval(estimates, level)
    }

    /// The percentile-bootstrap interval of `median(a) / median(b)`, resampling both sets
    /// independently. A resample whose `b` median is 0 gives an infinite ratio, which can leave
    /// the upper bound `None`.
    ///
    /// Cost: O(resamples · (n_a + n_b)) time.
    pub fn median_ratio_ci(&self, a: &Samples, b: &Samples, level: Level) -> Interval {
        let mut rng = Rng::new(self.seed);
        let mut scratch_a = vec![0.0; a.len()];
        let mut scratch_b = vec![0.0; b.len()];
        let estimates = (0..self.resamples.max(1))
            .map(|_| {
                resample_into(a.sorted(), &mut rng, &mut scratch_a);
                resample_into(b.sorted(), &mut rng, &mut scratch_b);
                median_in_place(&mut scratch_a) / median_in_place(&mut scratch_b)
            })
            .collect();
        percentile_interval(estimates, level)
    }
}

fn resample_into(values: &[f64], rng: &mut Rng, out: &mut [f64]) {
    for slot in out.iter_mut() {
        *slot = values[rng.below(values.len())];
    }
}

/// The median with numpy's interpolation, found by selection rather than a full sort.
/// Reorders `values`. Cost: O(n).
pub(crate) fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    let mid = n / 2;
    let (lower, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        below + 0.5 * (upper - below)
    }
}

fn percentile_interval(mut estimates: Vec<f64>, level: Level) -> Interval {
    // NaN can only come from 0/0 ratios; it sorts last and so can only affect the upper bound.
    estimates.sort_by(f64::total_cmp);
    let finite = |x: f64| x.is_finite().then_some(x);
    Interval {
        low: finite(quantile(&estimates, level.tail())),
        high: finite(quantile(&estimates, 1.0 - level.tail())),
        level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_in_place_matches_numpy() {
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_in_place(&mut [5.0]), 5.0);
    }

    #[test]
    fn same_seed_same_interval_other_seed_other_interval() {
        let s = Samples::new((1..=50).map(|i| f64::from(i).sqrt()).collect::<Vec<_>>()).unwrap();
        let boot = Bootstrap::default();
        let a = boot.mean_ci(&s, Level::default());
        assert_eq!(a, boot.mean_ci(&s, Level::default()));
        let other = Bootstrap { seed: 1, ..boot }.mean_ci(&s, Level::default());
        assert_ne!(a, other);
        assert!(a.contains(s.mean()));
    }

    #[test]
    fn mean_ci_agrees_with_the_t_interval_on_a_large_normal_like_sample() {
        // For n = 400 the bootstrap and t intervals should agree to a few percent of their width.
        // Values: a deterministic, symmetric spread around 10 with sd ~ 1.
        let values: Vec<f64> = (0..400)
            .map(|i| 10.0 + ((f64::from(i) + 0.5) / 400.0 - 0.5) * 3.4641)
            .collect();
        let s = Samples::new(values).unwrap();
        let ci = Bootstrap {
            resamples: 10_000,
            seed: 3,
        }
        .mean_ci(&s, Level::default());
        let half = 1.966 * s.std_dev() / 400f64.sqrt(); // t(0.975, 399) = 1.9659
        let (low, high) = ci.bounds().unwrap();
        assert!(
            (low - (s.mean() - half)).abs() < 0.08 * half,
            "{low} vs {}",
            s.mean() - half
        );
        assert!(
            (high - (s.mean() + half)).abs() < 0.08 * half,
            "{high} vs {}",
            s.mean() + half
        );
    }
}
