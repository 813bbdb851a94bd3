//! Activation functions by their config names.

use tch::Tensor;

use crate::error::{Error, Result};

/// An activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exact GELU (erf), `gelu`.
    Gelu,
    /// GELU's tanh approximation: `gelu_new`, `gelu_pytorch_tanh`, `gelu_tanh`, `gelu_fast`.
    GeluTanh,
    /// SiLU / swish.
    Silu,
    /// ReLU.
    Relu,
    /// tanh.
    Tanh,
}

/// The names [`Activation::parse`] accepts.
pub const ACTIVATION_NAMES: &str =
    "gelu, gelu_new, gelu_pytorch_tanh, gelu_tanh, gelu_fast, silu, swish, relu, tanh";

impl Activation {
    /// The activation called `name` in configs; `key` names the config key for the error.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown name, listing the valid ones.
    pub fn parse(key: &str, name: &str) -> Result<Self> {
        match name {
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_tanh" | "gelu_fast" => Ok(Self::GeluTanh),
            "silu" | "swish" => Ok(Self::Silu),
            "relu" => Ok(Self::Relu),
            "tanh" => Ok(Self::Tanh),
            other => Err(Error::Config(format!(
                "{key}: unknown activation '{other}'; expected one of {ACTIVATION_NAMES}"
            ))),
        }
    }

    /// Applies the activation.
    pub fn forward(self, x: &Tensor) -> Tensor {
        match self {
            Self::Gelu => x.gelu("none"),
            Self::GeluTanh => x.gelu("tanh"),
            Self::Silu => x.silu(),
            Self::Relu => x.relu(),
            Self::Tanh => x.tanh(),
        }
    }
}
