//! LayerNorm (with or without bias) and RMSNorm.

use tch::{Kind, Tensor};

use super::params::{Init, ParamSource};

/// Which normalisation, and its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormKind {
    /// LayerNorm; `bias: false` is ModernBERT's weight-only LayerNorm.
    LayerNorm {
        /// Epsilon.
        eps: f64,
        /// Whether the norm has a bias.
        bias: bool,
    },
    /// Llama-style RMSNorm, computed in fp32.
    RmsNorm {
        /// Epsilon.
        eps: f64,
    },
}

/// A normalisation layer.
#[derive(Debug)]
pub enum Norm {
    /// LayerNorm over the last dimension.
    Layer {
        /// `[H]`.
        weight: Tensor,
        /// `[H]`, if any.
        bias: Option<Tensor>,
        /// Epsilon.
        eps: f64,
    },
    /// RMSNorm over the last dimension.
    Rms {
        /// `[H]`.
        weight: Tensor,
        /// Epsilon.
        eps: f64,
    },
    /// No normalisation.
    Identity,
}

impl Norm {
    /// Takes `{path}.weight` (and `{path}.bias`) from `params`.
    pub fn new(params: &mut dyn ParamSource, path: &str, hidden: i64, kind: NormKind) -> Self {
        let weight = params.take(&format!("{path}.weight"), &[hidden], Init::Ones);
        match kind {
            NormKind::LayerNorm { eps, bias } => {
                let bias =
                    bias.then(|| params.take(&format!("{path}.bias"), &[hidden], Init::Zeros));
                Self::Layer { weight, bias, eps }
            }
            NormKind::RmsNorm { eps } => Self::Rms { weight, eps },
        }
    }

    /// Normalises the last dimension of `x`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Self::Layer { weight, bias, eps } => {
                let dim = *x.size().last().unwrap_or(&1);
                x.layer_norm([dim], Some(weight), bias.as_ref(), *eps, true)
            }
            Self::Rms { weight, eps } => {
                // Llama recipe: fp32 statistics, cast back, then scale.
                let xf = x.to_kind(Kind::Float);
                let variance = xf.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
                let normed = (xf * (variance + *eps).rsqrt()).to_kind(x.kind());
                normed * weight
            }
            Self::Identity => x.shallow_clone(),
        }
    }
}
