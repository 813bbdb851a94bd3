//! Comparing two sample sets: ratio of medians with its interval, a rank test, and a verdict.

use serde::Serialize;

use super::bootstrap::Bootstrap;
use super::interval::{Interval, Level};
use super::mann_whitney::mann_whitney_u;
use super::samples::Samples;
use crate::error::{Error, Result};

/// How `a` compares with `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// `a` is faster than `b` beyond the noise threshold, with significance.
    Faster,
    /// `a` is slower than `b` beyond the noise threshold, with significance.
    Slower,
    /// The whole interval of the ratio lies within ±margin of 1 (and neither of the above): "no
    /// change" shown, not only "no change detected".
    Equivalent,
    /// Neither a difference that is both significant and larger than the threshold, nor shown
    /// equivalence: inconclusive.
    NoDifference,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Faster => "faster",
            Self::Slower => "slower",
            Self::Equivalent => "equivalent",
            Self::NoDifference => "no difference",
        })
    }
}

/// Settings of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareConfig {
    /// Confidence level of the ratio interval; its complement is the significance level of the
    /// rank test. 0.95 by default.
    pub level: Level,
    /// Relative change below which a difference is called noise; 0.02 (2%) by default.
    pub threshold: f64,
    /// Equivalence margin, as a fraction: the verdict is [`Verdict::Equivalent`] when the
    /// ratio's whole interval lies within `[1 − margin, 1 + margin]`. `None` (the default): the
    /// threshold.
    pub margin: Option<f64>,
    /// Resampling for the ratio interval (independent samples only).
    pub bootstrap: Bootstrap,
}

impl CompareConfig {
    /// The equivalence margin in effect: [`Self::margin`], or the threshold.
    pub fn equivalence_margin(&self) -> f64 {
        self.margin.unwrap_or(self.threshold)
    }

    /// Checks the threshold and the margin.
    pub(crate) fn check(&self) -> Result<()> {
        for (name, x) in [
            ("noise threshold", self.threshold),
            ("equivalence margin", self.equivalence_margin()),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "{name} {x} must be a fraction >= 0, e.g. 0.02"
                )));
            }
        }
        Ok(())
    }

    /// The verdict for a ratio estimate, its interval and whether the test was significant.
    pub(crate) fn verdict(&self, ratio: f64, ratio_ci: &Interval, significant: bool) -> Verdict {
        let margin = self.equivalence_margin();
        match ratio_ci.bounds() {
            Some((_, high)) if significant && high < 1.0 && ratio < 1.0 - self.threshold => {
                Verdict::Faster
            }
            Some((low, _)) if significant && low > 1.0 && ratio > 1.0 + self.threshold => {
                Verdict::Slower
            }
            Some((low, high)) if low >= 1.0 - margin && high <= 1.0 + margin => Verdict::Equivalent,
            _ => Verdict::NoDifference,
        }
    }
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            level: Level::default(),
            threshold: 0.02,
            margin: None,
            bootstrap: Bootstrap::default(),
        }
    }
}

/// The comparison of sample set `a` with sample set `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// `median(a) / median(b)`: below 1 means `a` is faster.
    pub ratio: f64,
    /// Bootstrap confidence interval of the ratio.
    pub ratio_ci: Interval,
    /// Two-sided Mann-Whitney U p-value.
    pub p_value: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Compares `a` with `b`.
///
/// The verdict is [`Verdict::Faster`] only when all three hold: the ratio's interval lies wholly
/// below 1, the ratio is below `1 − threshold`, and the rank test's p-value is below
/// `1 − level`; [`Verdict::Slower`] mirrors it above 1. Otherwise, when the whole interval lies
/// within ±[`CompareConfig::equivalence_margin`] of 1, it is [`Verdict::Equivalent`]; anything
/// else is [`Verdict::NoDifference`] (inconclusive). A speedup whose interval contains 1 is
/// therefore never reported.
///
/// The samples are taken as independent draws from two stable distributions: true when each set
/// was measured under the same conditions, not when the machine drifted between them (see
/// [`compare_paired`](super::compare_paired) for rounds measured in alternation).
///
/// Cost: O(resamples · (n_a + n_b)).
///
/// # Errors
/// [`Error::InvalidConfig`] when the threshold is negative or not finite, or when the median of
/// `b` is 0 (the ratio is undefined).
pub fn compare(a: &Samples, b: &Samples, config: &CompareConfig) -> Result<Comparison> {
    config.check()?;
    let (median_a, median_b) = (a.median(), b.median());
    if median_b == 0.0 {
        return Err(Error::InvalidConfig(
            "the baseline's median is 0, so no ratio can be formed".to_owned(),
        ));
    }
    let ratio = median_a / median_b;
    let ratio_ci = config.bootstrap.median_ratio_ci(a, b, config.level);
    let p_value = mann_whitney_u(a, b).p_value;
    let significant = p_value < 1.0 - config.level.get();
    let verdict = config.verdict(ratio, &ratio_ci, significant);
    Ok(Comparison {
        ratio,
        ratio_ci,
        p_value,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(center: f64, n: usize) -> Samples {
        // Deterministic values spread ±5% around `center`.
        let values: Vec<f64> = (0..n)
            .map(|i| center * (0.95 + 0.1 * ((i * 37) % n) as f64 / n as f64))
            .collect();
        Samples::new(values).unwrap()
    }

    #[test]
    fn clear_speedup_is_faster_and_its_mirror_slower() {
        let (fast, slow) = (spread(10.0, 200), spread(12.0, 200));
        let c = compare(&fast, &slow, &CompareConfig::default()).unwrap();
        assert_eq!(c.verdict, Verdict::Faster);
        assert!((c.ratio - 10.0 / 12.0).abs() < 0.01, "{}", c.ratio);
        assert!(c.ratio_ci.contains(c.ratio) && c.p_value < 1e-6);
        let back = compare(&slow, &fast, &CompareConfig::default()).unwrap();
        assert_eq!(back.verdict, Verdict::Slower);
    }

    #[test]
    fn same_distribution_is_equivalent_within_the_margin_and_inconclusive_without_one() {
        let (a, b) = (spread(10.0, 200), spread(10.0, 150));
        let c = compare(&a, &b, &CompareConfig::default()).unwrap();
        assert_eq!(c.verdict, Verdict::Equivalent, "{c:?}");
        assert!(c.ratio_ci.contains(1.0));
        // The interval is narrower than ±2% but wider than ±0.1%.
        let (low, high) = c.ratio_ci.bounds().unwrap();
        assert!(
            low > 0.98 && high < 1.02 && (low < 0.999 || high > 1.001),
            "{c:?}"
        );
        let tight = CompareConfig {
            margin: Some(0.001),
            ..CompareConfig::default()
        };
        assert_eq!(
            compare(&a, &b, &tight).unwrap().verdict,
            Verdict::NoDifference
        );
        // Few samples: an interval too wide to show equivalence.
        let c = compare(
            &spread(10.0, 5),
            &spread(10.0, 5),
            &CompareConfig::default(),
        )
        .unwrap();
        assert_eq!(c.verdict, Verdict::NoDifference, "{c:?}");
    }

    #[test]
    fn significant_but_below_threshold_is_no_difference() {
        let (a, b) = (spread(10.0, 2000), spread(10.1, 2000));
        let strict = CompareConfig {
            threshold: 0.0,
            ..CompareConfig::default()
        };
        assert_eq!(compare(&a, &b, &strict).unwrap().verdict, Verdict::Faster);
        // 1% faster, significant, below the 2% threshold: equivalent within ±2%, and with a
        // ±0.5% margin neither (the interval reaches beyond it).
        assert_eq!(
            compare(&a, &b, &CompareConfig::default()).unwrap().verdict,
            Verdict::Equivalent
        );
        let narrow = CompareConfig {
            margin: Some(0.005),
            ..CompareConfig::default()
        };
        assert_eq!(
            compare(&a, &b, &narrow).unwrap().verdict,
            Verdict::NoDifference
        );
    }

    #[test]
    fn bad_threshold_and_zero_baseline_are_errors() {
        let a = spread(1.0, 10);
        let bad = CompareConfig {
            threshold: -0.1,
            ..CompareConfig::default()
        };
        assert!(compare(&a, &a, &bad).is_err());
        let bad_margin = CompareConfig {
            margin: Some(f64::NAN),
            ..CompareConfig::default()
        };
        assert!(compare(&a, &a, &bad_margin).is_err());
        let zero = Samples::new(vec![0.0, 0.0, 1.0]).unwrap();
        assert!(compare(&a, &zero, &CompareConfig::default()).is_err());
    }
}
