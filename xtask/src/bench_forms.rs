//! `cargo xtask bench-forms`: the deployment forms of BERT-base and ModernBERT-base measured side
//! by side: bert-latency's own implementations, TorchScript, AOTInductor and ONNX Runtime under
//! latency-analysis, and transformers eager and under torch.compile (docs/performance.md,
//! "Deployment forms").
//!
//! Builds the release binaries, sets up transformers as `bench-transformers` does and the ONNX
//! exporter's packages (onnx, onnxscript and their helpers, pinned, `pip install --no-deps
//! --target` into `<cache>/bench-onnx-packages` once), and runs `scripts/bench_forms.py`, whose
//! models and exports are made once in `<cache>/bench-forms` (random weights, no download).
//! Extra arguments go to the script (e.g. `--measure 20`, `--skip aoti,compile`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench::{python, python_path};
use crate::bootstrap;
use crate::cargo::{cargo, exec, target_dir};

/// The ONNX exporter's packages, pinned (torch.onnx.export with dynamo=True needs them).
const ONNX_PACKAGES: [&str; 5] = [
    "onnx==1.23.2",
    "onnxscript==0.7.2",
    "onnx_ir==1.1.0",
    "ml_dtypes==0.6.0",
    "protobuf==7.36.2",
];

/// Runs the benchmark; `extra` is passed to the script.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    let torch = bootstrap::ensure(root)?;
    exec(cargo(root).args([
        "build",
        "--release",
        "-p",
        "latency-cli",
        "-p",
        "analyze-cli",
    ]))?;
    let target = target_dir(root)?;
    let python = python();
    let base = python_path(&torch, &python)?;
    let cache = bootstrap::cache_dir()?;
    let onnx = cache.join("bench-onnx-packages");
    if !onnx.join("onnxscript").is_dir() {
        let partial = cache.join(format!(
            "bench-onnx-packages.partial-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&partial);
        exec(
            Command::new(&python)
                .args(["-m", "pip", "install", "--no-input", "--no-deps"])
                .args(["--disable-pip-version-check", "--no-warn-script-location"])
                .arg("--target")
                .arg(&partial)
                .args(ONNX_PACKAGES),
        )
        .context("installing the ONNX exporter's packages")?;
        std::fs::rename(&partial, &onnx)
            .with_context(|| format!("could not move {} into place", partial.display()))?;
    }
    let mut paths: Vec<std::path::PathBuf> = std::env::split_paths(&base).collect();
    paths.push(onnx);
    let path = std::env::join_paths(paths).context("PYTHONPATH")?;
    let status = Command::new(&python)
        .current_dir(root)
        .env("PYTHONPATH", path)
        .arg("scripts/bench_forms.py")
        .arg("--latency-analysis")
        .arg(target.join("release/latency-analysis"))
        .arg("--analyze-latency")
        .arg(target.join("release/analyze-latency"))
        .arg("--work")
        .arg(cache.join("bench-forms"))
        .arg("--json")
        .arg(target.join("bench_forms.json"))
        .args(extra)
        .status()
        .context("could not run scripts/bench_forms.py")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}
