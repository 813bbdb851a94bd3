//! `cargo xtask bench-load`: loading a BERT-base safetensors checkpoint, bert-latency against
//! transformers' `from_pretrained` on the same file (docs/performance.md, "Loading a checkpoint").
//!
//! Builds model-zoo's release `load_time` example, sets up transformers as `bench-transformers`
//! does, and runs `scripts/bench_load.py`, which makes the checkpoint once (random weights, no
//! download) in `<cache>/bench-checkpoints/bert-base-random-seed0` and times fresh-process loads
//! of both sides in turn. Extra arguments go to the script (e.g. `--reps 7`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench::{python, python_path};
use crate::bootstrap;
use crate::cargo::{cargo, exec, target_dir};

/// Runs the benchmark; `extra` is passed to the script.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    let torch = bootstrap::ensure(root)?;
    exec(cargo(root).args([
        "build",
        "--release",
        "-p",
        "model-zoo",
        "--example",
        "load_time",
    ]))?;
    let target = target_dir(root)?;
    let python = python();
    let path = python_path(&torch, &python)?;
    let checkpoint = bootstrap::cache_dir()?.join("bench-checkpoints/bert-base-random-seed0");
    let status = Command::new(&python)
        .current_dir(root)
        .env("PYTHONPATH", path)
        .arg("scripts/bench_load.py")
        .arg("--load-time")
        .arg(target.join("release/examples/load_time"))
        .arg("--checkpoint-dir")
        .arg(&checkpoint)
        .arg("--json")
        .arg(target.join("bench_load.json"))
        .args(extra)
        .status()
        .context("could not run scripts/bench_load.py")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}
