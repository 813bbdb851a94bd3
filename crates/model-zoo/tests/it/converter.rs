//! scripts/composer_to_safetensors.py: a Composer-style checkpoint (weights under state.model,
//! keys prefixed `model.`) and a flat state dict, both saved by torch.save from a fixture's
//! weights, convert to safetensors that hold the same tensors bit for bit and reproduce the
//! fixture's reference outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use model_zoo::tch::Tensor;

use crate::parity::max_diff_with;
use crate::{data, temp_dir};

/// Saves a fixture's weights with torch.save as `kind` (composer, flat, or not-weights), reading
/// the safetensors file by hand so that only torch is needed.
const MAKE_CHECKPOINT: &str = r#"
import json, struct, sys, torch
src, dst, kind = sys.argv[1:4]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
sd = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    a, b = info["data_offsets"]
    assert info["dtype"] == "F32", info
    raw = bytearray(data[8 + n + a:8 + n + b])
    sd[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(info["shape"]).clone()
if kind == "composer":
    obj = {"state": {"model": {"model." + k: v for k, v in sd.items()}, "optimizers": {},
                     "timestamp": {"epoch": 1, "batch": 1000},
                     "integrations": {"huggingface": {"model": {"config": {"content":
                         {"model_type": "flex_bert", "hidden_size": 32}}}}}},
           "rng": [{"python": [3, [1, 2, 3], None]}]}
elif kind == "flat":
    obj = sd
else:
    obj = [1, 2, 3]
torch.save(obj, dst)
"#;

/// A Python that can import torch: $BERT_LATENCY_PYTHON or python3, with the bootstrapped torch
/// wheel (the one the crate links) on its path.
fn python() -> Command {
    let python = std::env::var_os("BERT_LATENCY_PYTHON").unwrap_or_else(|| "python3".into());
    // BERT_LATENCY_LIBTORCH_LIB = <site-packages>/torch/lib
    let site = Path::new(env!("BERT_LATENCY_LIBTORCH_LIB"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned();
    let mut command = Command::new(python);
    command.env("PYTHONPATH", site);
    command
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .expect("python3 (needed to run the converter) did not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'torch'"),
        "the converter test needs a Python that imports torch (the bootstrapped wheel): {stderr}"
    );
    output
}

fn make_checkpoint(case: &str, kind: &str, dst: &Path) {
    let out = run(python()
        .args(["-c", MAKE_CHECKPOINT])
        .arg(data(&format!("{case}.safetensors")))
        .arg(dst)
        .arg(kind));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn convert(args: &[&Path], flags: &[&str]) -> Output {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/composer_to_safetensors.py");
    run(python().arg(script).args(args).args(flags))
}

fn tensors(path: &Path) -> Vec<(String, Tensor)> {
    let mut all = Tensor::read_safetensors(path).unwrap();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[test]
fn composer_and_flat_checkpoints_convert_to_the_same_weights() {
    let case = "flex_rope_glu_cls_mean";
    let dir = temp_dir("converter");
    let original = tensors(&data(&format!("{case}.safetensors")));
    for kind in ["composer", "flat"] {
        let pt = dir.join(format!("{kind}.pt"));
        make_checkpoint(case, kind, &pt);
        let out = dir.join(format!("{kind}.safetensors"));
        let config = dir.join(format!("{kind}-config.json"));
        let flags: &[&str] = if kind == "composer" {
            &["--allow-pickle"]
        } else {
            &[]
        };
        let mut args = vec![pt.as_path(), out.as_path()];
        let config_flag;
        if kind == "composer" {
            config_flag = config.clone();
            args.extend([Path::new("--config-json"), config_flag.as_path()]);
        }
        let result = convert(&args, flags);
        assert!(
            result.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let converted = tensors(&out);
        assert_eq!(converted.len(), original.len(), "{kind}");
        for ((name, t), (want_name, want)) in converted.iter().zip(&original) {
            assert_eq!(name, want_name, "{kind}: 'model.' stripped, names kept");
            assert!(t.equal(want), "{kind}: {name} differs");
        }
        let diff = max_diff_with(case, &out);
        assert!(diff <= 1e-5, "{kind}: max |diff| {diff}");
        if kind == "composer" {
            let text = std::fs::read_to_string(&config).unwrap();
            assert!(text.contains("\"model_type\": \"flex_bert\""), "{text}");
        }
    }
}

#[test]
fn converter_errors_say_what_is_wrong() {
    let dir = temp_dir("converter-errors");
    let not_weights = dir.join("list.pt");
    make_checkpoint("mosaic_cls", "list", &not_weights);
    let out = dir.join("out.safetensors");
    for (args, expected) in [
        (vec![dir.join("missing.pt"), out.clone()], "no such file"),
        (
            vec![not_weights.clone(), dir.join("out.bin")],
            "must end in .safetensors",
        ),
        (vec![not_weights.clone(), out.clone()], "no weights found"),
    ] {
        let refs: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        let result = convert(&refs, &[]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{expected}: {stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(!out.exists(), "nothing is written on failure");
    // A flat dict has no embedded HuggingFace config.
    let flat = dir.join("flat.pt");
    make_checkpoint("mosaic_cls", "flat", &flat);
    let config = dir.join("config.json");
    let result = convert(&[&flat, &out, Path::new("--config-json"), &config], &[]);
    assert!(String::from_utf8_lossy(&result.stderr).contains("embeds no HuggingFace config"));
}
