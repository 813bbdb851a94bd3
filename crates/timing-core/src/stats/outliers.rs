//! Tukey's fences: classify (never drop) outlying latencies.
//!
//! With quartiles Q1, Q3 and IQR = Q3 − Q1 (numpy's linear quantiles):
//!
//! ```text
//!  severe  |  mild  |        not outliers        |  mild  |  severe
//! ---------+--------+----------------------------+--------+---------
//!     Q1 − 3·IQR  Q1 − 1.5·IQR            Q3 + 1.5·IQR  Q3 + 3·IQR
//! ```
//!
//! A value exactly on a fence belongs to the inner side. Reference: Tukey, *Exploratory Data
//! Analysis* (1977), ch. 2. Latency SLOs live in the tail, so outliers are counted and reported.

use serde::Serialize;

use super::samples::Samples;

/// Counts of Tukey outliers on each side, with the fences used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outliers {
    /// Values below Q1 − 3·IQR.
    pub low_severe: usize,
    /// Values in [Q1 − 3·IQR, Q1 − 1.5·IQR).
    pub low_mild: usize,
    /// Values in (Q3 + 1.5·IQR, Q3 + 3·IQR].
    pub high_mild: usize,
    /// Values above Q3 + 3·IQR.
    pub high_severe: usize,
    /// The fences: [Q1 − 3·IQR, Q1 − 1.5·IQR, Q3 + 1.5·IQR, Q3 + 3·IQR].
    pub fences: [f64; 4],
}

impl Outliers {
    /// Classifies `samples` with Tukey's fences. Cost: O(n).
    pub fn tukey(samples: &Samples) -> Self {
        let (q1, q3) = (samples.quantile(0.25), samples.quantile(0.75));
        let iqr = q3 - q1;
        let fences = [
            q1 - 3.0 * iqr,
            q1 - 1.5 * iqr,
            q3 + 1.5 * iqr,
            q3 + 3.0 * iqr,
        ];
        let mut out = Self {
            low_severe: 0,
            low_mild: 0,
            high_mild: 0,
            high_severe: 0,
            fences,
        };
        for &x in samples.sorted() {
            if x < fences[0] {
                out.low_severe += 1;
            } else if x < fences[1] {
                out.low_mild += 1;
            } else if x > fences[3] {
                out.high_severe += 1;
            } else if x > fences[2] {
                out.high_mild += 1;
            }
        }
        out
    }

    /// Mild outliers on both sides.
    pub fn mild(&self) -> usize {
        self.low_mild + self.high_mild
    }

    /// Severe outliers on both sides.
    pub fn severe(&self) -> usize {
        self.low_severe + self.high_severe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_zone() {
        // 51..=70 plus five extremes; quartiles from numpy (tests/data/reference.py).
        let mut values: Vec<f64> = (51..=70).map(f64::from).collect();
        values.extend([10.0, 40.0, 90.0, 95.0, 150.0]);
        let s = Samples::new(values).unwrap();
        let o = Outliers::tukey(&s);
        // np.percentile(v, [25, 75]) = [55, 67], iqr = 12: fences 19, 37, 85, 103.
        assert_eq!(o.fences, [19.0, 37.0, 85.0, 103.0]);
        assert_eq!(
            (o.low_severe, o.low_mild, o.high_mild, o.high_severe),
            (1, 0, 2, 1)
        );
        assert_eq!((o.mild(), o.severe()), (2, 2));
    }
}
