//! A dense layer `y = x·Wᵀ + b`, with PyTorch's `[out, in]` weight layout.

use tch::Tensor;

use super::params::{Init, ParamSource, placeholder};

/// A linear layer.
#[derive(Debug)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`, if the layer has a bias.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Takes `{path}.weight` (and `{path}.bias` when `bias`) from `params`.
    pub fn new(
        params: &mut dyn ParamSource,
        path: &str,
        input: i64,
        output: i64,
        bias: bool,
    ) -> Self {
        let weight = params.take(
            &format!("{path}.weight"),
            &[output, input],
            Init::Normal(0.02),
        );
        let bias = bias.then(|| params.take(&format!("{path}.bias"), &[output], Init::Zeros));
        Self { weight, bias }
    }

    /// One layer computing `parts` side by side (outputs concatenated in order), e.g. BERT's
    /// query, key and value as one matrix product; all parts have a bias or none has.
    ///
    /// Stand-ins ([`PlaceholderParams`](super::params::PlaceholderParams)) stay stand-ins.
    pub fn fuse(parts: Vec<Linear>) -> Self {
        let weights: Vec<Tensor> = parts.iter().map(|p| p.weight.shallow_clone()).collect();
        let biases: Option<Vec<Tensor>> = parts
            .iter()
            .map(|p| p.bias.as_ref().map(Tensor::shallow_clone))
            .collect();
        Self {
            weight: cat_rows(&weights),
            bias: biases.map(|b| cat_rows(&b)),
        }
    }

    /// Applies the layer to the last dimension of `x`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }

    /// Multiply-adds per input row, times 2: the FLOPs of one row.
    pub fn flops_per_row(&self) -> f64 {
        let size = self.weight.size();
        2.0 * (size[0] * size[1]) as f64
    }
}

/// `parts` concatenated along the first dimension; a stand-in of the result's shape when every
/// part is a stand-in (all strides 0), so that a blueprint allocates nothing.
fn cat_rows(parts: &[Tensor]) -> Tensor {
    let standins = parts
        .iter()
        .all(|p| p.numel() > 1 && p.stride().iter().all(|&s| s == 0));
    match parts.first() {
        Some(first) if standins => {
            let mut shape = first.size();
            shape[0] = parts.iter().map(|p| p.size()[0]).sum();
            placeholder(&shape, first.kind())
        }
        _ => Tensor::cat(parts, 0),
    }
}
