//! The architectures, one file each: configuration, modules, heads.
//!
//! - [`bert`]: classic BERT (`hf_bert`), HuggingFace names.
//! - [`mosaic_bert`]: MosaicBERT (ALiBi, fused QKV, GLU, post-norm), its training names.
//! - [`flex_bert`]: FlexBERT with its forward-pass knobs; HuggingFace ModernBERT
//!   (`modern_bert`) is FlexBERT with HuggingFace's names, masked mean pooling and config keys.
//! - [`torchscript`]: any TorchScript module taking `(input_ids, attention_mask)`.
//! - [`aoti`]: an AOTInductor package (`.pt2`) taking `(input_ids, attention_mask)`.
//! - [`onnx`]: an ONNX model run by ONNX Runtime, inputs `input_ids` and `attention_mask`.

pub mod aoti;
pub mod bert;
pub mod flex_bert;
pub mod modern_bert;
pub mod mosaic_bert;
pub mod onnx;
pub mod torchscript;

use serde::{Deserialize, Serialize};

/// What the model computes at its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Sequence classification: logits `[B, num_labels]`.
    Classification {
        /// Number of labels.
        num_labels: i64,
    },
    /// Masked language modelling: logits `[B, S, V]`.
    Mlm,
    /// The last hidden state `[B, S, H]`.
    Embedding,
}

/// Shape facts every architecture reports, for FLOP counts and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Vocabulary size (logit width of MLM).
    pub vocab: i64,
    /// Hidden size.
    pub hidden: i64,
    /// Encoder layers.
    pub layers: i64,
    /// Attention heads.
    pub heads: i64,
}

/// A model that comes whole from another tool's file (TorchScript, AOTInductor, ONNX): its
/// forward takes `input_ids` and `attention_mask` (int64 `[B, S]`), and its first output is the
/// model's output.
pub(crate) trait External {
    /// Parameters of the model, where the file says (0 when it cannot).
    fn num_parameters(&self) -> u64;

    /// Checks that a batch of shape `[batch, seq]` is within what the file accepts (e.g. the
    /// bounds it was exported with).
    ///
    /// # Errors
    /// [`crate::Error::Inputs`] naming the bound.
    fn check_shape(&self, batch: i64, seq: i64) -> crate::Result<()> {
        let _ = (batch, seq);
        Ok(())
    }

    /// The vocabulary the file states, when it does (token ids must be below it).
    fn vocab(&self) -> Option<i64> {
        None
    }

    /// Runs the model.
    ///
    /// # Errors
    /// [`crate::Error::Inputs`] (or [`crate::Error::Forward`]) with the runtime's message.
    fn forward(
        &self,
        input_ids: &tch::Tensor,
        attention_mask: &tch::Tensor,
    ) -> crate::Result<tch::Tensor>;
}
