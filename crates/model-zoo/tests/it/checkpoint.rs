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

/// What `git clone` leaves for a weight file without git-lfs (issue 13 item 5).
const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
oid sha256:68d45e234eb4a928074dfd868cead0219ab85354cc53d20e772753c6bb9169d3\n\
size 598635032\n";

#[test]
fn issue_13_lfs_pointers_and_truncated_files_fail_the_config_check() {
    let dir = temp_dir("broken-files");
    let config = config_dir("bert_cls");
    let lfs_dir = dir.join("lfs");
    std::fs::create_dir_all(&lfs_dir).unwrap();
    std::fs::write(lfs_dir.join("model.safetensors"), LFS_POINTER).unwrap();
    let whole = std::fs::read(data("bert_cls.safetensors")).unwrap();
    let short_data = dir.join("short-data.safetensors");
    std::fs::write(&short_data, &whole[..whole.len() - 100]).unwrap();
    let short_header = dir.join("short-header.safetensors");
    std::fs::write(&short_header, &whole[..200]).unwrap();
    let script_pointer = dir.join("model.pt");
    std::fs::write(&script_pointer, LFS_POINTER).unwrap();
    for (model_type, path, want) in [
        (
            "hf_bert",
            lfs_dir.clone(),
            "is a Git LFS pointer (134 bytes of text), not the weights: fetch the real file with `git lfs pull`",
        ),
        (
            "hf_bert",
            lfs_dir.join("model.safetensors"),
            "is a Git LFS pointer",
        ),
        (
            "hf_bert",
            short_data.clone(),
            "is truncated: its tensors need",
        ),
        (
            "hf_bert",
            short_header.clone(),
            "its header length field says",
        ),
        (
            "torchscript",
            script_pointer.clone(),
            "is a Git LFS pointer",
        ),
    ] {
        let mut entry = entry(model_type, "classification", &config, &path);
        if model_type == "torchscript" {
            entry.pretrained_model_name = None;
        }
        // The config check (what latency-analysis runs before any model) refuses the file...
        let err = entry
            .checkpoint_file()
            .err()
            .unwrap_or_else(|| panic!("{path:?} passed the check"))
            .to_string();
        assert!(err.contains(want), "{path:?}: {err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        // ...and so does building, with the same message.
        let err = build(&entry, &BuildOptions::default()).err().unwrap();
        assert!(err.to_string().contains(want), "{path:?}: {err}");
    }
    // The whole file passes.
    let whole_path = dir.join("whole.safetensors");
    std::fs::write(&whole_path, &whole).unwrap();
    let entry = entry("hf_bert", "classification", &config, &whole_path);
    assert_eq!(entry.checkpoint_file().unwrap(), Some(whole_path.clone()));
    model_zoo::checkpoint::check_file(&whole_path).unwrap();
}

/// Issue 13 item 2: files written by `safetensors.torch.save_model`, which keeps one name per
/// shared tensor and records the dropped ones in `__metadata__` (ModernBERT MLM keeps
/// `decoder.weight`, dropping `model.embeddings.tok_embeddings.weight`), reproduce transformers'
/// outputs.
#[test]
fn issue_13_files_written_by_save_model_load() {
    for case in ["modernbert_mlm", "bert_mlm"] {
        let file = data(&format!("{case}.save_model.safetensors"));
        let diff = crate::parity::max_diff_with(case, &file);
        assert!(diff <= 1e-5, "{case}: max |diff| {diff}");
    }
    // Without the metadata, the architecture's own tie still finds the embedding.
    let plain = temp_dir("save-model-no-metadata").join("model.safetensors");
    let tensors = Tensor::read_safetensors(data("modernbert_mlm.save_model.safetensors")).unwrap();
    assert!(
        tensors
            .iter()
            .all(|(n, _)| n != "model.embeddings.tok_embeddings.weight")
    );
    Tensor::write_safetensors(&tensors, &plain).unwrap();
    assert!(
        model_zoo::checkpoint::read_header(&plain)
            .unwrap()
            .shared_names()
            .is_empty()
    );
    let diff = crate::parity::max_diff_with("modernbert_mlm", &plain);
    assert!(diff <= 1e-5, "no metadata: max |diff| {diff}");
}

/// Issue 13 item 2: a file that stores the tied MLM weight only under the decoder's name loads
/// for every architecture that ties it, and reproduces the reference outputs.
#[test]
fn issue_13_tied_weights_stored_under_the_decoder_name_load() {
    for (case, embedding, decoder) in [
        (
            "bert_mlm",
            "bert.embeddings.word_embeddings.weight",
            "cls.predictions.decoder.weight",
        ),
        (
            "mosaic_mlm",
            "bert.embeddings.word_embeddings.weight",
            "cls.predictions.decoder.weight",
        ),
        (
            "flex_base_mlm",
            "bert.embeddings.tok_embeddings.weight",
            "decoder.weight",
        ),
        (
            "modernbert_mlm",
            "model.embeddings.tok_embeddings.weight",
            "decoder.weight",
        ),
    ] {
        let renamed: Vec<(String, Tensor)> =
            Tensor::read_safetensors(data(&format!("{case}.safetensors")))
                .unwrap()
                .into_iter()
                .map(|(name, t)| {
                    let name = if name == embedding {
                        decoder.to_owned()
                    } else {
                        name
                    };
                    (name, t)
                })
                .collect();
        assert!(renamed.iter().any(|(n, _)| n == decoder), "{case}");
        let file = temp_dir(&format!("decoder-only-{case}")).join("model.safetensors");
        Tensor::write_safetensors(&renamed, &file).unwrap();
        let diff = crate::parity::max_diff_with(case, &file);
        assert!(diff <= 1e-5, "{case}: max |diff| {diff}");
    }
}
