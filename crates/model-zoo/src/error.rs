//! The error type of `model-zoo`.

/// What can go wrong while choosing a device, or building, loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A device name that is not `auto`, `cpu`, `cuda` or `cuda:N`.
    #[error("unknown device '{0}': expected auto, cpu, cuda or cuda:N")]
    UnknownDevice(String),
    /// CUDA was asked for, but libtorch sees no usable GPU.
    #[error("device '{requested}' requested, but {reason}")]
    CudaUnavailable {
        /// The device the user asked for.
        requested: String,
        /// Why it cannot be used, in words.
        reason: String,
    },
    /// An error raised inside libtorch.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
