//! `Samples`: a validated, sorted set of non-negative durations.

use crate::error::{Error, Result};

/// A non-empty set of finite, non-negative values (durations in any one unit), kept sorted.
///
/// Every statistic of this crate takes `Samples`, so the checks happen once, here. The unit is the
/// caller's: statistics come back in the same unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    sorted: Vec<f64>,
}

impl Samples {
    /// Validates and sorts `values`.
    ///
    /// Cost: O(n log n).
    ///
    /// # Errors
    /// [`Error::Empty`] for no values, [`Error::NotFinite`] for NaN or infinity,
    /// [`Error::Negative`] for a value below zero (the first offender is named).
    pub fn new(values: impl Into<Vec<f64>>) -> Result<Self> {
        let mut sorted = values.into();
        if sorted.is_empty() {
            return Err(Error::Empty);
        }
        for (index, &value) in sorted.iter().enumerate() {
            if !value.is_finite() {
                return Err(Error::NotFinite { index, value });
            }
            if value < 0.0 {
                return Err(Error::Negative { index, value });
            }
        }
        sorted.sort_by(f64::total_cmp);
        Ok(Self { sorted })
    }

    /// The values in ascending order.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// The number of values (at least 1).
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always `false`: `Samples` cannot be empty. Present for API symmetry with slices.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }

    /// The arithmetic mean. Cost: O(n).
    pub fn mean(&self) -> f64 {
        mean(&self.sorted)
    }

    /// The sample standard deviation (divisor n − 1), and 0 for a single value, as the Python tool
    /// reported it. Cost: O(n).
    pub fn std_dev(&self) -> f64 {
        let n = self.sorted.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let sum_sq: f64 = self.sorted.iter().map(|x| (x - mean) * (x - mean)).sum();
        (sum_sq / (n - 1) as f64).sqrt()
    }

    /// The `q`-quantile with numpy's default linear interpolation; see [`quantile`](super::quantile).
    ///
    /// # Panics
    /// If `q` is outside [0, 1].
    pub fn quantile(&self, q: f64) -> f64 {
        super::quantile(&self.sorted, q)
    }

    /// The median (the 0.5-quantile).
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }
}

/// The arithmetic mean of a non-empty slice (pairwise-free, plain summation; durations are all of
/// one sign and magnitude, so this loses nothing measurable).
pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input_with_its_position() {
        assert_eq!(Samples::new(Vec::new()), Err(Error::Empty));
        assert!(matches!(
            Samples::new(vec![1.0, f64::NAN]),
            Err(Error::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            Samples::new(vec![f64::INFINITY]),
            Err(Error::NotFinite { index: 0, .. })
        ));
        assert_eq!(
            Samples::new(vec![1.0, 2.0, -0.5]),
            Err(Error::Negative {
                index: 2,
                value: -0.5
            })
        );
    }

    #[test]
    fn single_sample_is_well_defined() {
        let s = Samples::new(vec![4.0]).unwrap();
        assert_eq!(
            (s.mean(), s.median(), s.std_dev(), s.min(), s.max()),
            (4.0, 4.0, 0.0, 4.0, 4.0)
        );
        assert_eq!(s.quantile(0.99), 4.0);
    }

    #[test]
    fn std_dev_uses_n_minus_one() {
        // numpy: np.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1) = 2.138089935299395
        let s = Samples::new(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!((s.std_dev() - 2.138_089_935_299_395).abs() < 1e-12);
    }
}
