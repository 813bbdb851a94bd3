//! Masks and scaled dot-product attention: over padded `[B, heads, S, head_dim]` tensors, and per
//! unpadded sequence (`[1, heads, len, head_dim]`: global without a mask, sliding-window banded).

use tch::{Kind, Tensor};

/// The most negative finite value of `kind`, the additive mask value that keeps fully masked rows
/// finite (models.md §6.7).
pub fn mask_min(kind: Kind) -> f64 {
    match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.389_531_389_251_535e38,
        _ => f64::from(f32::MIN),
    }
}

/// `[B, 1, 1, S]`, true where the key is a real token.
pub fn key_mask(attention_mask: &Tensor) -> Tensor {
    attention_mask.ne(0).unsqueeze(1).unsqueeze(1)
}

/// `[S, S]`, true where `|i − j| ≤ half` (a sliding window of `2·half + 1` tokens).
pub fn window_mask(seq: i64, half: i64, device: tch::Device) -> Tensor {
    let pos = Tensor::arange(seq, (Kind::Int64, device));
    (pos.unsqueeze(1) - pos.unsqueeze(0)).abs().le(half)
}

/// A boolean "may attend" mask as an additive float mask of `kind`: 0 where allowed, the dtype's
/// minimum elsewhere (never summed twice, so never −inf).
pub fn additive(allowed: &Tensor, kind: Kind) -> Tensor {
    Tensor::zeros(allowed.size(), (kind, allowed.device()))
        .masked_fill(&allowed.logical_not(), mask_min(kind))
}

/// Splits `[B, S, heads·d]` into `[B, heads, S, d]`.
pub fn split_heads(x: &Tensor, heads: i64) -> Tensor {
    let size = x.size();
    x.view([size[0], size[1], heads, size[2] / heads])
        .transpose(1, 2)
}

/// Merges `[B, heads, S, d]` back into `[B, S, heads·d]`.
pub fn merge_heads(x: &Tensor) -> Tensor {
    let size = x.size();
    x.transpose(1, 2)
        .contiguous()
        .view([size[0], size[2], size[1] * size[3]])
}

/// Softmax attention with scale `1/sqrt(d)` and an additive float `mask` broadcastable to
/// `[B, heads, S, S]`, through libtorch's scaled-dot-product attention.
pub fn attend(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor) -> Tensor {
    Tensor::scaled_dot_product_attention(q, k, v, Some(mask), 0.0, false, None, false)
}

/// Splits a fused `[B, S, 3·H]` projection into q, k, v of `[B, heads, S, d]` (rows q | k | v, heads
/// contiguous within each; models.md §6.12).
pub fn split_qkv(qkv: &Tensor, heads: i64) -> (Tensor, Tensor, Tensor) {
    let hidden = qkv.size()[2] / 3;
    let q = split_heads(&qkv.narrow(2, 0, hidden), heads);
    let k = split_heads(&qkv.narrow(2, hidden, hidden), heads);
    let v = split_heads(&qkv.narrow(2, 2 * hidden, hidden), heads);
    (q, k, v)
}

/// The local-attention mask of one unpadded sequence, built once per forward pass and shared by
/// its local layers.
pub enum WindowMask {
    /// Every key is within the window (`len ≤ half + 1`): no mask.
    None,
    /// Dense `[len, len]` additive band mask, for sequences too short for chunking to pay.
    Dense(Tensor),
    /// Chunked: additive `[chunks, 1, chunk, chunk + 2·half]` mask over each chunk's key window.
    Chunked {
        /// Queries per chunk.
        chunk: i64,
        /// The mask.
        mask: Tensor,
    },
}

impl WindowMask {
    /// The mask for a sequence of `len` real tokens whose queries see keys with `|i − j| ≤ half`.
    /// Chunking (cost `len × (chunk + 2·half)` instead of `len²`) is used once the sequence is
    /// longer than two key windows.
    pub fn new(len: i64, half: i64, kind: Kind, device: tch::Device) -> Self {
        let chunk = (2 * half).max(32);
        let width = chunk + 2 * half;
        if len <= half + 1 {
            Self::None
        } else if len <= 2 * width {
            Self::Dense(additive(&window_mask(len, half, device), kind))
        } else {
            let chunks = (len + chunk - 1) / chunk;
            // Query a (0..chunk) of chunk c sits at c·chunk + a; window key w at c·chunk − half + w.
            let a = Tensor::arange(chunk, (Kind::Int64, device)).unsqueeze(1);
            let w = Tensor::arange(width, (Kind::Int64, device)).unsqueeze(0);
            let offset = &w - &a;
            let band = offset.ge(0).logical_and(&offset.le(2 * half)); // [chunk, width]
            let c = Tensor::arange(chunks, (Kind::Int64, device)).unsqueeze(1);
            let position = c * chunk - half + w; // [chunks, width]
            let real = position.ge(0).logical_and(&position.lt(len));
            let allowed = band.unsqueeze(0).logical_and(&real.unsqueeze(1)); // [chunks, chunk, width]
            Self::Chunked {
                chunk,
                mask: additive(&allowed.unsqueeze(1), kind),
            }
        }
    }
}

/// Sliding-window attention of one unpadded sequence: `q`, `k`, `v` are `[1, heads, len, d]`,
/// `half` the window's half width, `mask` from [`WindowMask::new`] for this length.
pub fn attend_window(q: &Tensor, k: &Tensor, v: &Tensor, half: i64, mask: &WindowMask) -> Tensor {
    match mask {
        WindowMask::None => attend_all(q, k, v),
        WindowMask::Dense(mask) => attend(q, k, v, mask),
        WindowMask::Chunked { chunk, mask } => {
            let size = q.size();
            let (heads, len, d) = (size[1], size[2], size[3]);
            let chunks = mask.size()[0];
            let padded = chunks * chunk;
            let width = chunk + 2 * half;
            // Queries: [1, h, len, d] → [chunks, h, chunk, d].
            let queries = q
                .constant_pad_nd([0, 0, 0, padded - len])
                .view([heads, chunks, *chunk, d])
                .transpose(0, 1)
                .contiguous();
            // Keys and values: each chunk's window of `width` positions, [chunks, h, width, d].
            let windows = |x: &Tensor| {
                x.constant_pad_nd([0, 0, half, padded - len + half])
                    .unfold(2, width, *chunk) // [1, h, chunks, d, width]
                    .squeeze_dim(0)
                    .permute([1, 0, 3, 2])
                    .contiguous()
            };
            let out = attend(&queries, &windows(k), &windows(v), mask); // [chunks, h, chunk, d]
            out.transpose(0, 1)
                .reshape([1, heads, padded, d])
                .narrow(2, 0, len)
        }
    }
}

/// Global attention of one unpadded sequence (`[1, heads, len, d]`): every key is real, so no mask.
pub fn attend_all(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
    Tensor::scaled_dot_product_attention(q, k, v, None::<Tensor>, 0.0, false, None, false)
}
