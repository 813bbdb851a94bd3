//! The error type of `runner`.

/// What can go wrong before any job runs. Failures of single jobs are not errors: they are
/// [`Outcome::Failed`](crate::Outcome::Failed) and the run goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Settings that cannot work together (e.g. `--min-time` above `--max-time`); the message
    /// names the flags.
    #[error("{0}")]
    Settings(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
