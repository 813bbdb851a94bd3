//! The error type of `gpu-telemetry`.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong when reading telemetry or running the sampler.
///
/// A value a device or the operating system refuses to give is not an error: it is `None` with a
/// [`Missing`](crate::Missing) reason. Errors are for calls that cannot produce their result at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// NVML could not be loaded or initialised (no library, no driver, no permission).
    #[error("nvml is unavailable: {reason}")]
    NvmlUnavailable {
        /// What NVML or the loader said.
        reason: String,
    },
    /// An NVML query that a whole call depends on failed.
    #[error("nvml {what} failed: {reason}")]
    Nvml {
        /// The query, e.g. "device count".
        what: &'static str,
        /// What NVML said.
        reason: String,
    },
    /// A GPU index that NVML does not know.
    #[error("gpu index {index} is out of range: nvml sees {count} device(s)")]
    NoSuchDevice {
        /// The index asked for.
        index: u32,
        /// How many devices NVML sees.
        count: u32,
    },
    /// A sampling interval of zero or over an hour.
    #[error("sampling interval must be positive and at most one hour, got {0:?}")]
    InvalidInterval(Duration),
    /// `stop` called on a sampler that was already stopped.
    #[error("sampler already stopped")]
    AlreadyStopped,
    /// The operating system refused to start the sampler thread.
    #[error("sampler thread could not start: {0}")]
    Spawn(std::io::Error),
    /// The sampler thread panicked (a device reader bug); the message is the panic's.
    #[error("sampler thread panicked: {0}")]
    SamplerPanicked(String),
    /// A file that could not be read, e.g. `/proc/self/status` where there is no procfs.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said (in the message, not repeated as a source).
        error: std::io::Error,
    },
    /// A file whose contents are not what was expected.
    #[error("{path}: {problem}")]
    Parse {
        /// The file.
        path: &'static str,
        /// What is wrong, e.g. "no VmHWM line".
        problem: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
