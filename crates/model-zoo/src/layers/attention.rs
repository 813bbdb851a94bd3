//! Masks and scaled dot-product attention over padded `[B, heads, S, head_dim]` tensors.

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
