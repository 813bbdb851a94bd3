//! The unpadded path (token-wise layers on real tokens, attention per sequence, banded
//! sliding-window attention) against the padded path, which the parity tests check against the
//! references: same weights, ragged long inputs, every real token within 1e-5.

use model_zoo::tch::{Device, Kind, Tensor};
use model_zoo::{BuildOptions, ModelEntry, build};

use crate::checkpoint::config_dir;

fn flex(padding: &str, config_case: &str, extra: serde_json::Value) -> model_zoo::Model {
    let mut model_config = serde_json::json!({"padding": padding, "max_position_embeddings": 1024});
    for (k, v) in extra.as_object().unwrap() {
        model_config[k] = v.clone();
    }
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": padding, "model_type": "flex_bert", "task_type": "embedding",
        "pretrained_model_name": config_dir(config_case), "model_config": model_config
    }))
    .unwrap();
    build(
        &entry,
        &BuildOptions {
            seed: 7,
            max_len: 64,
            ..BuildOptions::default()
        },
    )
    .unwrap()
}

/// Right-padded random inputs with the given row lengths, padded to `seq`.
fn inputs(lengths: &[i64], seq: i64, vocab: i64) -> (Tensor, Tensor) {
    model_zoo::tch::manual_seed(3);
    let batch = lengths.len() as i64;
    let ids = Tensor::randint_low(5, vocab, [batch, seq], (Kind::Int64, Device::Cpu));
    let positions = Tensor::arange(seq, (Kind::Int64, Device::Cpu)).unsqueeze(0);
    let mask = positions
        .lt_tensor(&Tensor::from_slice(lengths).unsqueeze(1))
        .to_kind(Kind::Int64);
    (ids * &mask, mask)
}

fn max_diff_at_real_tokens(a: &Tensor, b: &Tensor, mask: &Tensor) -> f64 {
    ((a - b).abs() * mask.to_kind(Kind::Float).unsqueeze(-1))
        .max()
        .double_value(&[])
}

#[test]
fn banded_unpadded_attention_equals_the_padded_path() {
    // RoPE, sliding window 8 (|i - j| <= 4) on layer 1, global layers 0 and 2. Rows: chunked
    // (300, 161 > 80 tokens), dense band (37), no mask needed (4 <= 5), and one empty tail.
    let (ids, mask) = inputs(&[300, 161, 37, 4], 300, 300);
    let padded = flex("padded", "flex_rope_glu_cls_mean", serde_json::json!({}));
    let unpadded = flex("unpadded", "flex_rope_glu_cls_mean", serde_json::json!({}));
    let a = padded.forward(&ids, &mask).unwrap();
    let b = unpadded.forward(&ids, &mask).unwrap();
    assert_eq!(a.size(), b.size());
    let diff = max_diff_at_real_tokens(&a, &b, &mask);
    assert!(diff <= 1e-5, "max |diff| {diff:.3e}");
    // Pad positions of the unpadded output are zero.
    let pad = (b.abs() * mask.eq(0).to_kind(Kind::Float).unsqueeze(-1)).max();
    assert_eq!(pad.double_value(&[]), 0.0);
}

#[test]
fn wider_windows_and_absolute_positions_agree_too() {
    // A 64-token window (chunks of 64 queries over 128-key windows) on a 1000-token row; and the
    // learned-position, post-norm FlexBERT of flex_base_mlm with a window added.
    let (ids, mask) = inputs(&[1000, 700, 129], 1000, 300);
    let extra = serde_json::json!({"sliding_window": 64});
    let a = flex("padded", "flex_rope_glu_cls_mean", extra.clone())
        .forward(&ids, &mask)
        .unwrap();
    let b = flex("unpadded", "flex_rope_glu_cls_mean", extra)
        .forward(&ids, &mask)
        .unwrap();
    let diff = max_diff_at_real_tokens(&a, &b, &mask);
    assert!(diff <= 1e-5, "rope, window 64: max |diff| {diff:.3e}");

    let (ids, mask) = inputs(&[1000, 513, 2], 1000, 300);
    let extra = serde_json::json!({"sliding_window": 16, "global_attn_every_n_layers": 2});
    let a = flex("padded", "flex_base_mlm", extra.clone())
        .forward(&ids, &mask)
        .unwrap();
    let b = flex("unpadded", "flex_base_mlm", extra)
        .forward(&ids, &mask)
        .unwrap();
    let diff = max_diff_at_real_tokens(&a, &b, &mask);
    assert!(diff <= 1e-5, "absolute positions: max |diff| {diff:.3e}");
}
