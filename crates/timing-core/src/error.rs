//! The error type of `timing-core`.

/// What can be wrong with a sample set or a setting handed to `timing-core`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sample set with no samples: no statistic is defined.
    #[error("no samples: at least one is needed")]
    Empty,
    /// A sample that is NaN or infinite.
    #[error("sample {index} is {value}, not a finite number")]
    NotFinite {
        /// Its position in the input, from 0.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A negative duration.
    #[error("sample {index} is {value}, but a duration cannot be negative")]
    Negative {
        /// Its position in the input, from 0.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A line of a samples text that is not a finite, non-negative number.
    #[error("line {line}: '{text}' {problem}")]
    Parse {
        /// The line number, from 1.
        line: usize,
        /// The offending text, trimmed.
        text: String,
        /// What is wrong with it, e.g. "is not a number".
        problem: &'static str,
    },
    /// A confidence level outside (0, 1).
    #[error("confidence level {0} is outside (0, 1), e.g. 0.95")]
    InvalidLevel(f64),
    /// A harness or statistic setting that cannot work; the message names it.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
