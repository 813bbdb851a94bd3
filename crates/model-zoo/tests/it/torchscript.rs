//! `model_type: torchscript` against the outputs PyTorch computed for the same modules
//! (make_torchscript_fixtures.py): a traced module returning a tensor, a traced one returning a
//! tuple, a scripted one returning a dict.

use model_zoo::tch::{Kind, Tensor};
use model_zoo::{BuildOptions, ModelEntry, build};

use crate::{data, temp_dir};

fn entry(json: serde_json::Value) -> ModelEntry {
    serde_json::from_value(json).unwrap()
}

fn script_entry(file: &str) -> ModelEntry {
    entry(serde_json::json!({
        "name": file, "model_type": "torchscript",
        "pretrained_checkpoint": data(file), "model_config": {"vocab_size": 50}
    }))
}

#[test]
fn first_output_tensor_matches_pytorch() {
    let io: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(data("torchscript.io.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let (ids, mask) = (&io["input_ids"], &io["attention_mask"]);
    for name in ["script_tensor", "script_tuple", "script_dict"] {
        let model = build(
            &script_entry(&format!("{name}.pt")),
            &BuildOptions::default(),
        )
        .unwrap();
        assert_eq!(model.dims().vocab, 50);
        assert_eq!(model.flops(1, 7), None);
        assert_eq!(
            model.num_parameters() as i64,
            io[&format!("{name}_num_parameters")].int64_value(&[0]),
            "{name}"
        );
        let out = model.forward(ids, mask).unwrap();
        let want = &io[name];
        assert_eq!(out.size(), want.size(), "{name}");
        let diff = (&out - want).abs().max().double_value(&[]);
        assert!(diff <= 1e-5, "{name}: max |diff| {diff}");
    }
}

#[test]
fn converts_to_the_requested_dtype() {
    let options = BuildOptions {
        kind: Kind::BFloat16,
        ..BuildOptions::default()
    };
    let ids = Tensor::from_slice(&[2i64, 7, 9, 3]).view([1, 4]);
    // The scripted module follows the weights' dtype.
    let model = build(&script_entry("script_dict.pt"), &options).unwrap();
    let out = model.forward(&ids, &ids.ones_like()).unwrap();
    assert_eq!(out.kind(), Kind::BFloat16);
    // A traced module may have fp32 baked in; the error is PyTorch's cause, not a traceback.
    let model = build(&script_entry("script_tensor.pt"), &options).unwrap();
    let message = model
        .forward(&ids, &ids.ones_like())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("RuntimeError") && message.contains("dtype"),
        "{message}"
    );
    assert!(!message.contains("Traceback"), "{message}");
}

#[test]
fn bad_entries_and_files_are_errors() {
    let dir = temp_dir("torchscript");
    let not_script = dir.join("weights.pt");
    std::fs::write(&not_script, b"not a zip archive").unwrap();
    for (json, expected) in [
        (
            serde_json::json!({"name": "s", "model_type": "torchscript"}),
            "needs the TorchScript file",
        ),
        (
            serde_json::json!({"name": "s", "model_type": "torchscript",
                "pretrained_checkpoint": data("script_tensor.pt"), "pretrained_model_name": "bert-base-uncased"}),
            "pretrained_model_name",
        ),
        (
            serde_json::json!({"name": "s", "model_type": "torchscript",
                "pretrained_checkpoint": data("script_tensor.pt"), "model_config": {"hidden_size": 8}}),
            "model_config.hidden_size: unknown key for torchscript; valid keys: vocab_size",
        ),
        (
            serde_json::json!({"name": "s", "model_type": "torchscript",
                "pretrained_checkpoint": data("script_tensor.pt"), "model_config": {"vocab_size": "big"}}),
            "model_config.vocab_size",
        ),
        (
            serde_json::json!({"name": "s", "model_type": "torchscript",
                "pretrained_checkpoint": dir.join("missing.pt")}),
            "missing.pt",
        ),
        (
            serde_json::json!({"name": "s", "model_type": "torchscript",
                "pretrained_checkpoint": not_script}),
            "not a TorchScript file",
        ),
    ] {
        let e = entry(json);
        let message = build(&e, &BuildOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{expected}: accepted"))
            .to_string();
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // A module called with inputs it cannot take fails with libtorch's message, not a panic.
    let model = build(&script_entry("script_tensor.pt"), &BuildOptions::default()).unwrap();
    let ids = Tensor::from_slice(&[2i64, 7, 9]).view([1, 1, 3]);
    let message = model.run(&ids, &ids.ones_like()).unwrap_err().to_string();
    assert!(message.contains("TorchScript forward"), "{message}");
}
