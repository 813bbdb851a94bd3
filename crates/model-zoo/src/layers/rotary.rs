//! Rotary position embeddings (RoPE), NeoX half-rotation convention.

use tch::{Device, Kind, Tensor};

/// cos/sin tables for positions `0..len` of a rotary dimension `dim` and base `theta`.
#[derive(Debug)]
pub struct Rotary {
    /// `[len, dim]` (the half table repeated twice, as HF builds it).
    cos: Tensor,
    /// `[len, dim]`.
    sin: Tensor,
    dim: i64,
}

impl Rotary {
    /// Builds the tables exactly as PyTorch does in fp32: `inv_freq = 1 / theta^(arange(0, dim, 2) /
    /// dim)`, `freqs = pos ⊗ inv_freq`, then cos and sin (models.md §6.8).
    pub fn new(dim: i64, theta: f64, len: i64, device: Device) -> Self {
        let exponent = Tensor::arange_start_step(0, dim, 2, (Kind::Int64, device))
            .to_kind(Kind::Float)
            / dim as f64;
        let inv_freq = Tensor::pow_scalar(theta, &exponent).reciprocal();
        let positions = Tensor::arange(len, (Kind::Int64, device)).to_kind(Kind::Float);
        let freqs = positions.outer(&inv_freq);
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        Self {
            cos: emb.cos(),
            sin: emb.sin(),
            dim,
        }
    }

    /// Rotates the first `dim` channels of `x: [B, heads, S, head_dim]` by position (0..S).
    pub fn apply(&self, x: &Tensor) -> Tensor {
        let size = x.size();
        let (seq, head_dim) = (size[2], size[3]);
        let cos = self.cos.narrow(0, 0, seq).to_kind(x.kind());
        let sin = self.sin.narrow(0, 0, seq).to_kind(x.kind());
        let rotated_part = if self.dim == head_dim {
            x.shallow_clone()
        } else {
            x.narrow(3, 0, self.dim)
        };
        let half = self.dim / 2;
        let (x1, x2) = (
            rotated_part.narrow(3, 0, half),
            rotated_part.narrow(3, half, half),
        );
        let rotate_half = Tensor::cat(&[&(-&x2), &x1], -1);
        let out = &rotated_part * &cos + rotate_half * &sin;
        if self.dim == head_dim {
            out
        } else {
            Tensor::cat(&[&out, &x.narrow(3, self.dim, head_dim - self.dim)], -1)
        }
    }

    /// The same tables, sharing their storage.
    pub fn shallow_clone(&self) -> Self {
        Self {
            cos: self.cos.shallow_clone(),
            sin: self.sin.shallow_clone(),
            dim: self.dim,
        }
    }

    /// The number of positions the tables cover.
    pub fn len(&self) -> i64 {
        self.cos.size()[0]
    }

    /// Whether the tables cover no position.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
