//! libtorch implementations of the BERT-family encoders that bert-latency times.
//!
//! Data flows from a config entry to a runnable model:
//!
//! 1. [`ModelEntry`] ([`config`]): the Python tool's keys (`name`, `model_type`, `task_type`,
//!    `pretrained_model_name`, `pretrained_checkpoint`, `num_labels`, `model_config`). The base
//!    architecture comes from a built-in preset ([`presets`]) or a local `config.json`; overrides
//!    are checked key by key.
//! 2. [`build`] ([`factory`]) makes a [`Model`]: FlexBERT / ModernBERT, MosaicBERT or BERT
//!    ([`models`]), with seeded random weights or a safetensors checkpoint whose every missing,
//!    misshaped and unexpected tensor is reported ([`checkpoint`]).
//! 3. [`Model::forward`] runs padded batches (`input_ids`, `attention_mask`); the model reports its
//!    parameter count and analytic FLOPs. [`blueprint`] reports the same without weights.
//!
//! 4. [`InputGenerator`] ([`inputs`]) makes the batches: seeded ids with a length distribution
//!    ([`Lengths`]), or real text through a HuggingFace `tokenizer.json`.
//!
//! Also here: the device a run uses and its fence ([`DeviceChoice`], [`synchronize`]) and the facts
//! about the linked libtorch ([`LibtorchInfo`]). This is the only crate that links libtorch.
//!
//! ```
//! use model_zoo::{BuildOptions, ModelEntry, build, tch::{Kind, Tensor}};
//!
//! let entry: ModelEntry = serde_json::from_value(serde_json::json!({
//!     "name": "tiny", "model_type": "hf_bert", "task_type": "classification",
//!     "model_config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
//!                      "intermediate_size": 64, "vocab_size": 100}
//! }))?;
//! let model = build(&entry, &BuildOptions::default())?;
//! let ids = Tensor::from_slice(&[1i64, 5, 7, 2]).view([1, 4]);
//! let logits = model.forward(&ids, &ids.ones_like())?;
//! assert_eq!(logits.size(), [1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod checkpoint;
pub mod config;
mod cuda_identity;
mod cuda_memory;
mod device;
mod dtype;
mod error;
pub mod factory;
pub mod inputs;
pub mod layers;
pub mod models;
pub mod presets;
mod rng;
mod runtime;

pub use crate::config::{ModelEntry, ModelType, TaskType};
pub use crate::cuda_identity::cuda_pci_bus_id;
pub use crate::cuda_memory::{
    CUDA_MEMORY_SUPPORTED, CudaMemory, cuda_memory, empty_cuda_cache, reset_cuda_peak,
};
pub use crate::device::{DeviceChoice, synchronize};
pub use crate::dtype::{Dtype, set_threads, threads};
pub use crate::error::{Error, Result};
pub use crate::factory::{Blueprint, BuildOptions, Model, blueprint, build};
pub use crate::inputs::{Batch, InputGenerator, Lengths, SpecialTokens};
pub use crate::runtime::LibtorchInfo;
pub use tch;
