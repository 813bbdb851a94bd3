//! `cargo xtask bench-transformers`: bert-latency against HuggingFace transformers on the same
//! inputs (docs/performance.md).
//!
//! Builds the release `bench` example of model-zoo, installs transformers 5.24.0 (with
//! safetensors) once into the cache beside libtorch (`pip install --target`), and runs
//! `scripts/bench_vs_transformers.py` with the bootstrapped torch on its path. Extra arguments go
//! to the script (e.g. `--only 1x128`, `--iters 20`).

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bootstrap;
use crate::cargo::{cargo, exec, target_dir};

/// The transformers release the benchmark (and the fixtures) use.
const TRANSFORMERS: &str = "transformers==5.24.0";

/// Runs the benchmark; `extra` is passed to the script.
pub fn run(root: &Path, extra: &[String]) -> Result<()> {
    let torch = bootstrap::ensure(root)?;
    exec(cargo(root).args([
        "build",
        "--release",
        "-p",
        "model-zoo",
        "--example",
        "bench",
    ]))?;
    let target = target_dir(root)?;
    let bench = target.join("release/examples/bench");
    let python = python();
    let path = python_path(&torch, &python)?;
    let status = Command::new(&python)
        .current_dir(root)
        .env("PYTHONPATH", path)
        .arg("scripts/bench_vs_transformers.py")
        .arg("--bench")
        .arg(&bench)
        .arg("--json")
        .arg(target.join("bench_vs_transformers.json"))
        .args(extra)
        .status()
        .context("could not run scripts/bench_vs_transformers.py")?;
    if !status.success() {
        bail!("the benchmark failed ({status})");
    }
    Ok(())
}

/// The Python that runs the benchmark scripts: `$BERT_LATENCY_PYTHON`, else `python3`.
pub fn python() -> OsString {
    std::env::var_os("BERT_LATENCY_PYTHON").unwrap_or_else(|| "python3".into())
}

/// The PYTHONPATH under which `python` imports transformers (installed into the cache once, see
/// the module doc) and the bootstrapped torch at `torch` (`<site-packages>/torch`).
///
/// # Errors
/// When pip fails or the packages cannot be moved into place.
pub fn python_path(torch: &Path, python: &OsStr) -> Result<OsString> {
    let cache = bootstrap::cache_dir()?;
    let packages = cache.join("bench-packages");
    if !packages.join("transformers").is_dir() {
        let partial = cache.join(format!("bench-packages.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        exec(
            Command::new(python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--no-input",
                    "--disable-pip-version-check",
                ])
                .args(["--no-warn-script-location", "--target"])
                .arg(&partial)
                .args([TRANSFORMERS, "safetensors"]),
        )
        .context("installing transformers for the benchmark")?;
        // pip pulls torch's own dependencies too; the bootstrapped torch is the one to use.
        let _ = std::fs::remove_dir_all(partial.join("torch"));
        std::fs::rename(&partial, &packages)
            .with_context(|| format!("could not move {} into place", partial.display()))?;
    }
    // <site-packages>/torch → <site-packages>
    let site = torch
        .canonicalize()
        .unwrap_or_else(|_| torch.to_path_buf())
        .parent()
        .map(Path::to_path_buf)
        .context("libtorch folder has no parent")?;
    std::env::join_paths([&packages, &site]).context("PYTHONPATH")
}
