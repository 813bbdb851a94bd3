//! The architectures, one file each: configuration, modules, heads.
//!
//! - [`bert`]: classic BERT (`hf_bert`), HuggingFace names.
//! - [`mosaic_bert`]: MosaicBERT (ALiBi, fused QKV, GLU, post-norm), its training names.
//! - [`flex_bert`]: FlexBERT with its forward-pass knobs; HuggingFace ModernBERT
//!   (`modern_bert`) is FlexBERT with HuggingFace's names, masked mean pooling and config keys.
//! - [`torchscript`]: any TorchScript module taking `(input_ids, attention_mask)`.

pub mod bert;
pub mod flex_bert;
pub mod modern_bert;
pub mod mosaic_bert;
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
