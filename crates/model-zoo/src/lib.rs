//! libtorch implementations of the BERT-family encoders that bert-latency times.
//!
//! `model-zoo` owns everything that touches libtorch: the device a run uses and its fence
//! ([`DeviceChoice`], [`synchronize`]), the facts about the linked libtorch ([`LibtorchInfo`]), and
//! (as the model issues land) the architectures themselves, built from presets and configs and
//! loading safetensors and TorchScript checkpoints. It is the only crate of the workspace that links
//! libtorch, through `tch`.
//!
//! ```
//! use model_zoo::{DeviceChoice, LibtorchInfo};
//!
//! let info = LibtorchInfo::detect();
//! assert!(!info.version.is_empty());
//! let device = DeviceChoice::Cpu.resolve().unwrap();
//! assert_eq!(device, tch::Device::Cpu);
//! ```
#![deny(missing_docs)]

mod device;
mod error;
mod runtime;

pub use crate::device::{DeviceChoice, synchronize};
pub use crate::error::{Error, Result};
pub use crate::runtime::LibtorchInfo;
pub use tch;
