//! The error type of `model-zoo`.

use std::path::PathBuf;

use crate::checkpoint::NameReport;

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
    /// A model entry or architecture setting that cannot work; the message names the key.
    #[error("{0}")]
    Config(String),
    /// A checkpoint file that cannot be used at all (missing, unreadable, wrong format).
    #[error("checkpoint {}: {message}", .path.display())]
    CheckpointFile {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A checkpoint whose tensors do not fit the architecture; lists every offending name.
    #[error("checkpoint {} does not fit {arch}: {report}", .path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// The architecture it was loaded into.
        arch: String,
        /// Every missing, misshaped and unexpected tensor.
        report: NameReport,
    },
    /// Model inputs of the wrong shape or type.
    #[error("inputs: {0}")]
    Inputs(String),
    /// libtorch failed while running a forward pass on valid inputs (e.g. out of memory).
    #[error("forward pass failed: {0}")]
    Forward(String),
    /// libtorch failed while building a model (e.g. out of memory while allocating weights).
    #[error("building the model failed: {0}")]
    Build(String),
    /// A `--lengths` distribution that cannot be parsed.
    #[error("lengths '{spec}': {reason}")]
    Lengths {
        /// The spec as given.
        spec: String,
        /// What is wrong, with the expected form.
        reason: String,
    },
    /// An input file (lengths, text, tokenizer) that cannot be read or used.
    #[error("{}: {message}", .path.display())]
    InputFile {
        /// The file.
        path: PathBuf,
        /// What is wrong; for text files with the line number.
        message: String,
    },
    /// CUDA allocator statistics that cannot be read (no such device, or no shim in this build).
    #[error("CUDA allocator memory: {0}")]
    CudaMemory(String),
    /// An inference runtime beside libtorch (ONNX Runtime) cannot be loaded or used.
    #[error("{0}")]
    Runtime(String),
    /// An error raised inside libtorch.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
