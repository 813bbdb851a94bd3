//! `cargo xtask run-default`: the README's main job on the built-in default config.

use std::path::Path;

use anyhow::Result;

use crate::bootstrap;
use crate::cargo::{build_release_binaries, exec, target_dir};

/// Settings small enough for a 2-core CPU; a GPU user runs the binary with the Python defaults.
const CPU_FRIENDLY: &[&str] = &[
    "--device",
    "cpu",
    "--batch-size",
    "1",
    "--sequence-length",
    "128",
    "--warmup-batches",
    "3",
    "--measure-batches",
    "20",
];

/// Bootstraps, builds both binaries in release mode, runs `latency-analysis` on the built-in default
/// config with [`CPU_FRIENDLY`] settings (results under the target directory), then
/// `analyze-latency` on its JSON output.
pub fn run(root: &Path) -> Result<()> {
    bootstrap::ensure(root)?;
    build_release_binaries(root)?;
    let release = target_dir(root)?.join("release");
    let results = release.join("latency_results.csv");
    // configs/latency_config.yaml is the built-in default, kept as a file to read and copy.
    exec(
        std::process::Command::new(release.join("latency-analysis"))
            .current_dir(root)
            .args(["--config-file", "configs/latency_config.yaml"])
            .args(CPU_FRIENDLY)
            .arg("--output-file")
            .arg(&results),
    )?;
    exec(
        std::process::Command::new(release.join("analyze-latency"))
            .current_dir(root)
            .arg(results.with_extension("json")),
    )?;
    Ok(())
}
