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

#[test]
fn mosaic_bert_unpadded_equals_its_padded_path() {
    use model_zoo::layers::params::RandomParams;
    use model_zoo::models::Task;
    use model_zoo::models::mosaic_bert::{MosaicBert, MosaicBertConfig};

    let config = MosaicBertConfig {
        hidden_size: 48,
        num_hidden_layers: 2,
        num_attention_heads: 6,
        intermediate_size: 64,
        vocab_size: 304,
        ..MosaicBertConfig::default()
    };
    let (ids, mask) = inputs(&[200, 77, 1], 200, 304);
    for task in [
        Task::Embedding,
        Task::Mlm,
        Task::Classification { num_labels: 3 },
    ] {
        let mut params = RandomParams::new(5, Device::Cpu, Kind::Float);
        let model = MosaicBert::new(&config, task, &mut params).unwrap();
        let (a, b) = model_zoo::tch::no_grad(|| {
            (
                model.forward_padded(&ids, &mask),
                model.forward(&ids, &mask),
            )
        });
        assert_eq!(a.size(), b.size(), "{task:?}");
        let diff = if a.dim() == 3 {
            max_diff_at_real_tokens(&a, &b, &mask)
        } else {
            (&a - &b).abs().max().double_value(&[])
        };
        assert!(diff <= 1e-5, "{task:?}: max |diff| {diff:.3e}");
    }
}

#[test]
fn bert_rows_without_padding_run_unmasked_and_match_transformers() {
    // Row 0 of the fixture is full length: alone, it takes the unmasked attention path.
    let io: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(crate::data("bert_embed.io.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "bert", "model_type": "hf_bert", "task_type": "embedding",
        "pretrained_model_name": config_dir("bert_embed"),
        "pretrained_checkpoint": crate::data("bert_embed.safetensors"),
    }))
    .unwrap();
    let model = build(&entry, &BuildOptions::default()).unwrap();
    let ids = io["input_ids"].narrow(0, 0, 1);
    let mask = io["attention_mask"].narrow(0, 0, 1);
    assert_eq!(mask.sum(Kind::Int64).int64_value(&[]), mask.numel() as i64);
    let out = model.forward(&ids, &mask).unwrap();
    let diff = (&out - io["logits"].narrow(0, 0, 1))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff <= 1e-5, "max |diff| {diff:.3e}");
}

#[test]
fn host_lengths_give_the_same_outputs_as_lengths_read_from_the_mask() {
    use model_zoo::{BuildOptions, InputGenerator, Lengths, ModelEntry, build};
    let configs = [
        (
            "hf_bert",
            serde_json::json!({"hidden_size": 32, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 128}),
        ),
        (
            "modern_bert",
            serde_json::json!({"hidden_size": 32, "num_hidden_layers": 3,
            "num_attention_heads": 4, "intermediate_size": 48, "vocab_size": 128,
            "local_attention": 8}),
        ),
        (
            "mosaic_bert",
            serde_json::json!({"hidden_size": 32, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 128}),
        ),
    ];
    for (model_type, config) in configs {
        for task in ["classification", "mlm"] {
            let entry: ModelEntry = serde_json::from_value(serde_json::json!({
                "name": model_type, "model_type": model_type, "task_type": task,
                "model_config": config.clone()
            }))
            .unwrap();
            let model = build(&entry, &BuildOptions::default()).unwrap();
            let lengths = Lengths::parse("uniform:3..24").unwrap();
            let generator = InputGenerator::random(lengths, 5, 128).unwrap();
            // Ragged batches, and one full batch (BERT then runs without a mask).
            let mut batches = generator.batches(4, 24, 3).unwrap();
            batches.extend(
                InputGenerator::random(Lengths::Full, 5, 128)
                    .unwrap()
                    .batches(4, 24, 1)
                    .unwrap(),
            );
            for batch in &batches {
                let from_mask = model.run(&batch.input_ids, &batch.attention_mask).unwrap();
                let from_host = model.run_batch(batch).unwrap();
                assert_eq!(
                    f64::try_from((from_mask - from_host).abs().max()).unwrap(),
                    0.0,
                    "{model_type} {task}"
                );
            }
        }
    }
}
