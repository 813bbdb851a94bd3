//! `model_type: onnx` through ONNX Runtime against transformers' eager outputs for the same
//! models (tests/data/onnx/make_onnx_fixtures.py: tiny BERT and ModernBERT classification,
//! exported by scripts/export_onnx.py with the torch.export-based exporter, and a BERT embedding
//! exported with the TorchScript-based one), at two shapes.

use std::collections::HashMap;
use std::process::Command;

use model_zoo::tch::{Device, Kind, Tensor};
use model_zoo::{BuildOptions, Error, ModelEntry, build};

use crate::{data, forward_example, temp_dir};

fn onnx_entry(path: impl AsRef<std::path::Path>) -> ModelEntry {
    serde_json::from_value(serde_json::json!({
        "name": "onnx model", "model_type": "onnx",
        "pretrained_checkpoint": path.as_ref(), "model_config": {"vocab_size": 128}
    }))
    .unwrap()
}

fn io(case: &str) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(data(&format!("onnx/{case}.io.safetensors")))
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn outputs_match_transformers_eager_within_1e_4_at_two_shapes() {
    let cases = [
        ("bert_cls", 24_482),
        ("modernbert_cls", 31_554),
        ("bert_embed_legacy", 24_416),
    ];
    for (case, parameters) in cases {
        let model = build(
            &onnx_entry(data(&format!("onnx/{case}.onnx"))),
            &BuildOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(model.num_parameters(), parameters, "{case}");
        assert_eq!((model.dims().vocab, model.flops(1, 8)), (128, None));
        let io = io(case);
        for k in 0..2 {
            let (ids, mask) = (
                &io[&format!("input_ids_{k}")],
                &io[&format!("attention_mask_{k}")],
            );
            let out = model.forward(ids, mask).unwrap();
            let want = &io[&format!("output_{k}")];
            assert_eq!(out.size(), want.size(), "{case} shape {k}");
            assert_eq!(out.kind(), Kind::Float);
            let diff = (&out - want).abs().max().double_value(&[]);
            assert!(diff <= 1e-4, "{case} shape {k}: max |diff| {diff}");
        }
    }
}

#[test]
fn forward_example_matches_transformers_eager_within_1e_4() {
    let dir = temp_dir("onnx-forward");
    for (case, task) in [
        ("bert_cls", "classification"),
        ("modernbert_cls", "classification"),
        ("bert_embed_legacy", "embedding"),
    ] {
        let io = io(case);
        for k in 0..2 {
            let inputs = dir.join(format!("{case}_{k}.in.safetensors"));
            let output = dir.join(format!("{case}_{k}.out.safetensors"));
            let ids = &io[&format!("input_ids_{k}")];
            let mask = &io[&format!("attention_mask_{k}")];
            Tensor::write_safetensors(&[("input_ids", ids), ("attention_mask", mask)], &inputs)
                .unwrap();
            let out = Command::new(forward_example())
                .args(["--model-type", "onnx", "--task-type", task])
                .args(["--model-config", r#"{"vocab_size": 128}"#])
                .arg("--checkpoint")
                .arg(data(&format!("onnx/{case}.onnx")))
                .arg("--inputs")
                .arg(&inputs)
                .arg("--output")
                .arg(&output)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{case}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = Tensor::read_safetensors(&output).unwrap().remove(0).1;
            let want = &io[&format!("output_{k}")];
            assert_eq!(got.size(), want.size(), "{case} shape {k}");
            let diff = (&got - want).abs().max().double_value(&[]);
            assert!(diff <= 1e-4, "{case} shape {k}: max |diff| {diff}");
        }
    }
}

fn build_error(entry: &ModelEntry, options: &BuildOptions) -> String {
    match build(entry, options) {
        Ok(_) => panic!("built"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unusable_files_and_settings_are_clear_errors() {
    let dir = temp_dir("onnx-errors");
    // Missing file: named, with what an onnx entry needs.
    let err = build_error(&onnx_entry(dir.join("none.onnx")), &BuildOptions::default());
    assert!(err.contains("none.onnx") && err.contains(".onnx"), "{err}");
    // Not an ONNX file.
    let text = dir.join("notes.onnx");
    std::fs::write(&text, "not a protobuf").unwrap();
    let err = build_error(&onnx_entry(&text), &BuildOptions::default());
    assert!(
        err.contains("notes.onnx") && err.contains("not a usable ONNX model"),
        "{err}"
    );
    // Another dtype than the export's.
    let bf16 = BuildOptions {
        kind: Kind::BFloat16,
        ..BuildOptions::default()
    };
    let err = build_error(&onnx_entry(data("onnx/bert_cls.onnx")), &bf16);
    assert!(err.contains("--dtype fp32"), "{err}");
    // A TorchScript file given as ONNX.
    let err = build_error(
        &onnx_entry(data("script_tensor.pt")),
        &BuildOptions::default(),
    );
    assert!(err.contains("not a usable ONNX model"), "{err}");
    // No CUDA provider in the CPU wheel (on a machine without a GPU the device check comes
    // first or the provider fails: either way an error, not a crash).
    let cuda = BuildOptions {
        device: Device::Cuda(0),
        ..BuildOptions::default()
    };
    assert!(build(&onnx_entry(data("onnx/bert_cls.onnx")), &cuda).is_err());
}

#[test]
fn a_model_without_the_inputs_is_refused_naming_them() {
    // An ONNX graph whose inputs are `ids` and `mask` (hand-written with the onnx package would
    // need Python at test time): renaming the graph input in the protobuf bytes of a fixture
    // keeps the file valid, since the names have the same length.
    let bytes = std::fs::read(data("onnx/bert_cls.onnx")).unwrap();
    let renamed = replace_all(&bytes, b"input_ids", b"token_ids");
    assert_ne!(bytes, renamed);
    let path = temp_dir("onnx-inputs").join("renamed.onnx");
    std::fs::write(&path, renamed).unwrap();
    let err = match build(&onnx_entry(&path), &BuildOptions::default()) {
        Ok(_) => panic!("built"),
        Err(e @ Error::CheckpointFile { .. }) => e.to_string(),
        Err(e) => panic!("{e:?}"),
    };
    assert!(
        err.contains("token_ids") && err.contains("input_ids"),
        "{err}"
    );
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
