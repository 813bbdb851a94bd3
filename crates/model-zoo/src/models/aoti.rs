//! An AOTInductor package (`model_type: aoti`): a `.pt2` file made by
//! `torch._inductor.aoti_compile_and_package` from a `torch.export`ed model whose forward takes
//! `(input_ids, attention_mask)`; its first output is the model's output.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// A loaded AOTInductor package.
pub struct Aoti {
    _private: (),
}

impl Aoti {
    /// Loads `path` for `device`.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`]: not implemented yet (issue 16).
    pub fn load(path: &Path, _device: Device, _kind: Kind) -> Result<Self> {
        Err(Error::CheckpointFile {
            path: path.to_owned(),
            message: "AOTInductor packages cannot be loaded by this build yet".to_owned(),
        })
    }
}

impl super::External for Aoti {
    fn num_parameters(&self) -> u64 {
        0
    }

    fn forward(&self, _input_ids: &Tensor, _attention_mask: &Tensor) -> Result<Tensor> {
        Err(Error::Inputs(
            "AOTInductor is not implemented yet".to_owned(),
        ))
    }
}
