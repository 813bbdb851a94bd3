//! The error type of `report`.

use std::path::PathBuf;

/// What can go wrong while reading, writing or analysing results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {error}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (in the message, not repeated as a source, so that
        /// `{:#}` chains print it once).
        error: std::io::Error,
    },
    /// A results file whose extension is neither `.csv` nor `.json`.
    #[error("{}: unsupported results format: expected a .csv or .json file", .0.display())]
    UnsupportedFormat(PathBuf),
    /// A results file whose content does not fit the schema.
    #[error("{}: {location}: {message}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where: `line N, field 'x'` for CSV, `record N, field 'x'` for JSON.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A measured job whose record cannot be assembled (e.g. no samples).
    #[error("record {0}")]
    Record(String),
    /// A statistics error from `timing-core` (e.g. raw latencies that are not valid samples).
    #[error("statistics: {0}")]
    Stats(#[from] timing_core::Error),
    /// An error inside polars.
    #[error("analysis: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// A chart could not be drawn or written.
    #[error("plot {}: {message}", .path.display())]
    Plot {
        /// The chart file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error: source,
        }
    }
}
