use model_zoo::tch::Tensor;
use model_zoo::{BuildOptions, Error, ModelEntry, build};

use crate::{data, temp_dir};

fn entry(
    model_type: &str,
    task: &str,
    config_dir: &std::path::Path,
    checkpoint: &std::path::Path,
) -> ModelEntry {
    serde_json::from_value(serde_json::json!({
        "name": "x", "model_type": model_type, "task_type": task, "num_labels": 3,
        "pretrained_model_name": config_dir, "pretrained_checkpoint": checkpoint,
    }))
    .unwrap()
}

/// Writes the `config` of a fixture's json as `config.json` in a folder of its own.
pub fn config_dir(case: &str) -> std::path::PathBuf {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(&format!("{case}.json"))).unwrap())
            .unwrap();
    let mut config = meta["config"].clone();
    if config.get("model_type").is_none() {
        config["model_type"] = meta["model_type"].clone();
    }
    let dir = temp_dir(&format!("config-{case}"));
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn every_missing_and_misshaped_tensor_is_named() {
    let tensors = Tensor::read_safetensors(data("bert_cls.safetensors")).unwrap();
    let dir = temp_dir("broken");
    let mut kept: Vec<(String, Tensor)> = Vec::new();
    for (name, tensor) in tensors {
        if name.ends_with("layer.1.output.dense.bias") {
            continue; // missing
        }
        if name.ends_with("classifier.weight") {
            kept.push((name, tensor.narrow(0, 0, 2))); // misshaped
            continue;
        }
        kept.push((name, tensor));
    }
    kept.push((
        "extra.weight".into(),
        Tensor::zeros(
            [2],
            (model_zoo::tch::Kind::Float, model_zoo::tch::Device::Cpu),
        ),
    ));
    let file = dir.join("broken.safetensors");
    Tensor::write_safetensors(&kept, &file).unwrap();
    let err = build(
        &entry("hf_bert", "classification", &config_dir("bert_cls"), &file),
        &BuildOptions::default(),
    )
    .err()
    .expect("a broken checkpoint must not load");
    let Error::Checkpoint { report, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(report.missing.len(), 1, "{err}");
    assert!(report.missing[0].0.ends_with("layer.1.output.dense.bias"));
    assert_eq!(
        report.misshaped,
        vec![("classifier.weight".to_owned(), vec![3, 32], vec![2, 32])]
    );
    assert_eq!(
        report.unexpected,
        vec![("extra.weight".to_owned(), vec![2])]
    );
    let message = err.to_string();
    assert!(
        message.contains("classifier.weight has shape [2, 32], expected [3, 32]"),
        "{message}"
    );
}

#[test]
fn a_checkpoint_of_another_architecture_is_rejected() {
    let err = build(
        &entry(
            "hf_bert",
            "classification",
            &config_dir("bert_cls"),
            &data("modernbert_cls_cls.safetensors"),
        ),
        &BuildOptions::default(),
    )
    .err()
    .expect("a ModernBERT checkpoint cannot fill BERT");
    assert!(
        err.to_string()
            .contains("missing bert.embeddings.word_embeddings.weight"),
        "{err}"
    );
}

#[test]
fn bad_checkpoint_paths_are_clear_errors() {
    let dir = temp_dir("paths");
    for (path, want) in [
        (dir.join("none.safetensors"), "does not exist"),
        (dir.clone(), "a directory without model.safetensors"),
        (data("bert_cls.json"), "is not a .safetensors file"),
    ] {
        let err = build(
            &entry("hf_bert", "classification", &config_dir("bert_cls"), &path),
            &BuildOptions::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains(want), "{path:?}: {err}");
    }
    // A directory holding model.safetensors is accepted.
    std::fs::copy(data("bert_cls.safetensors"), dir.join("model.safetensors")).unwrap();
    build(
        &entry("hf_bert", "classification", &config_dir("bert_cls"), &dir),
        &BuildOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_composer_wrapper_prefix_is_accepted() {
    // A Composer HuggingFaceModel's state_dict() puts `model.` in front of every name.
    let case = "mosaic_cls";
    let prefixed: Vec<(String, Tensor)> =
        Tensor::read_safetensors(data(&format!("{case}.safetensors")))
            .unwrap()
            .into_iter()
            .map(|(name, t)| (format!("model.{name}"), t))
            .collect();
    let file = crate::temp_dir("composer-prefix").join("prefixed.safetensors");
    Tensor::write_safetensors(&prefixed, &file).unwrap();
    let diff = crate::parity::max_diff_with(case, &file);
    assert!(diff <= 1e-5, "max |diff| {diff}");
}
