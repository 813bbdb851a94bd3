//! Confidence levels and intervals.

use serde::Serialize;

use crate::error::{Error, Result};

/// A confidence level in (0, 1), 0.95 by default.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Level(f64);

impl Level {
    /// Checks that `level` lies strictly between 0 and 1.
    ///
    /// # Errors
    /// [`Error::InvalidLevel`] otherwise (including NaN).
    pub fn new(level: f64) -> Result<Self> {
        if level > 0.0 && level < 1.0 {
            Ok(Self(level))
        } else {
            Err(Error::InvalidLevel(level))
        }
    }

    /// The level as a fraction, e.g. 0.95.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The probability left in each tail of a two-sided interval, (1 − level) / 2.
    pub fn tail(self) -> f64 {
        (1.0 - self.0) / 2.0
    }
}

impl Default for Level {
    fn default() -> Self {
        Self(0.95)
    }
}

/// A two-sided confidence interval. A bound is `None` when the data cannot support it (for
/// example the upper bound of p99 from 100 samples).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The lower bound, if the data support one.
    pub low: Option<f64>,
    /// The upper bound, if the data support one.
    pub high: Option<f64>,
    /// The confidence level the bounds hold at.
    pub level: Level,
}

impl Interval {
    /// Both bounds, when both exist.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        Some((self.low?, self.high?))
    }

    /// The width relative to `estimate`, `(high − low) / estimate`; `None` without both bounds or
    /// with a zero estimate.
    pub fn relative_width(&self, estimate: f64) -> Option<f64> {
        let (low, high) = self.bounds()?;
        (estimate > 0.0).then(|| (high - low) / estimate)
    }

    /// Whether `value` lies within the interval; a missing bound is unbounded on its side.
    pub fn contains(&self, value: f64) -> bool {
        self.low.is_none_or(|low| low <= value) && self.high.is_none_or(|high| value <= high)
    }
}
