//! `cargo xtask gpu-check`: prepares the CUDA checks for a lent GPU machine.
//!
//! CI has no GPU, so the CUDA paths (fence, allocator memory through model-zoo's C++ shim, NVML
//! telemetry, bf16, ragged inputs) are proven on a machine lent for a session. That machine has
//! torch 2.11.0 with CUDA under `/opt/torch/.venv` and no Rust toolchain, so this task builds
//! here, strips the binaries and writes them with a script into the git-ignored `.gpu-check/`
//! folder, then prints the one command that runs the script there.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bootstrap;
use crate::cargo::{build_release_binaries, cargo, exec, target_dir};

/// The folder (under the workspace root) that travels to the GPU machine.
pub const FOLDER: &str = ".gpu-check";

/// What runs there: model-zoo's allocator tests on the GPU, then the default config at batch 1
/// and 8, sequence 128 and 512, in fp32 and bf16, then ragged inputs; results under `$OUT`.
const SCRIPT: &str = r##"#!/usr/bin/env bash
# Written by `cargo xtask gpu-check`. Runs on a GPU machine with torch 2.11.0 + CUDA installed
# (default /opt/torch/.venv; set TORCH_PYTHON to another interpreter). Results go to $OUT.
# Every check runs even when one fails; the exit status says whether all passed.
set -uo pipefail
failed=0
check() { echo "== $1" | tee -a "$out/checks.txt"; shift; "$@" 2>&1 | tee -a "$out/checks.txt" || { failed=1; echo "!! FAILED: $*" | tee -a "$out/checks.txt"; }; }
here="$(cd "$(dirname "$0")" && pwd)"
python="${TORCH_PYTHON:-/opt/torch/.venv/bin/python}"
torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
# The binaries' rpath points at the build machine's libtorch; use this machine's instead.
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
out="${OUT:-$here/out}"
mkdir -p "$out"
{ nvidia-smi || true; "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } \
  2>&1 | tee "$out/machine.txt"
: > "$out/checks.txt"
check "model-zoo CUDA allocator and PCI bus id tests" "$here/model-zoo-tests" cuda_ --nocapture --test-threads 1
for dtype in fp32 bf16; do
  check "default config, $dtype" "$here/latency-analysis" --config-file "$here/latency_config.yaml" \
    --device cuda --batch-size 1,8 --sequence-length 128,512 --dtype "$dtype" \
    --output-file "$out/gpu_$dtype.csv"
done
check "ragged inputs (uniform:64..512), bf16" "$here/latency-analysis" \
  --config-file "$here/latency_config.yaml" --device cuda --batch-size 8 --sequence-length 512 \
  --dtype bf16 --lengths uniform:64..512 --output-file "$out/gpu_ragged.csv"
# --min-time 2: a measured window long enough for the NVML energy counter (shorter windows
# record no energy, by design).
check "energy window (bf16, batch 8 x 512, 2 s per model)" "$here/latency-analysis" \
  --config-file "$here/latency_config.yaml" --device cuda --batch-size 8 --sequence-length 512 \
  --dtype bf16 --min-time 2 --output-file "$out/gpu_energy.csv"
check "telemetry and memory columns" "$python" - "$out"/gpu_*.csv <<'PY'
import csv, sys
cols = ["model_name", "batch_size", "sequence_length", "dtype", "median_latency", "peak_memory_mb",
        "allocated_memory_mb", "input_memory_mb", "avg_gpu_power_w", "energy_j_per_sample",
        "energy_j_per_batch", "telemetry_window_s", "throttled_fraction", "sm_clock_min_mhz",
        "sm_clock_max_mhz", "device_name", "driver_version", "job_id"]
for path in sys.argv[1:]:
    print("#", path)
    print(",".join(cols))
    for row in csv.DictReader(open(path)):
        print(",".join(row.get(c, "") for c in cols))
PY
check "analysis" "$here/analyze-latency" "$out"/gpu_*.json --format markdown --save-analysis \
  --output-file "$out/analysis.md"
exit "$failed"
"##;

/// Builds the release binaries and model-zoo's unit tests, copies them stripped into
/// [`FOLDER`] with the script, and prints the command to run there.
pub fn run(root: &Path) -> Result<()> {
    bootstrap::ensure(root)?;
    build_release_binaries(root)?;
    let tests = model_zoo_test_binary(root)?;
    let release = target_dir(root)?.join("release");
    let folder = root.join(FOLDER);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("could not create {}", folder.display()))?;
    for (from, to) in [
        (release.join("latency-analysis"), "latency-analysis"),
        (release.join("analyze-latency"), "analyze-latency"),
        (tests, "model-zoo-tests"),
    ] {
        copy_stripped(&from, &folder.join(to))?;
    }
    std::fs::copy(
        root.join("configs/latency_config.yaml"),
        folder.join("latency_config.yaml"),
    )
    .context("could not copy configs/latency_config.yaml")?;
    let script = folder.join("run.sh");
    std::fs::write(&script, SCRIPT)
        .with_context(|| format!("could not write {}", script.display()))?;
    set_executable(&script)?;
    println!(
        "Prepared {FOLDER}/ (stripped binaries, config, run.sh). On the lent GPU machine, from the \
         repository root, with {FOLDER} carried:\n\n    bash {FOLDER}/run.sh\n\n\
         (device tool: run with command \"bash {FOLDER}/run.sh\" and carry [\"{FOLDER}\"]). \
         Results land in $OUT (default {FOLDER}/out): machine.txt, checks.txt, gpu_*.csv/json, \
         analysis.md. Record them in docs/gpu.md."
    );
    Ok(())
}

/// Builds model-zoo's unit tests in release mode and returns the test executable, read from the
/// `Executable unittests src/lib.rs (PATH)` line cargo prints.
fn model_zoo_test_binary(root: &Path) -> Result<PathBuf> {
    let output = cargo(root)
        .args(["test", "--release", "-p", "model-zoo", "--lib", "--no-run"])
        .output()
        .context("could not run `cargo test --no-run`")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("`cargo test --release -p model-zoo --lib --no-run` failed:\n{stderr}");
    }
    stderr
        .lines()
        .find(|l| l.contains("Executable unittests src/lib.rs"))
        .and_then(|l| {
            l.rsplit_once('(')
                .map(|(_, path)| path.trim_end_matches(')'))
        })
        .map(PathBuf::from)
        .context("cargo did not print the model-zoo test executable")
}

/// Copies `from` to `to` without symbols or debug information (the release binaries are
/// ~400 MB with them, a few MB without; the device tool carries 64 MiB at most).
fn copy_stripped(from: &Path, to: &Path) -> Result<()> {
    exec(Command::new("objcopy").arg("--strip-all").arg(from).arg(to))
        .with_context(|| format!("could not copy {} (is binutils installed?)", from.display()))
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("could not make {} executable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_is_valid_bash_and_runs_every_check() {
        let dir = std::env::temp_dir().join(format!("xtask-gpu-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("run.sh");
        std::fs::write(&script, SCRIPT).unwrap();
        let status = Command::new("bash")
            .arg("-n")
            .arg(&script)
            .status()
            .unwrap();
        assert!(status.success(), "bash -n rejected the script");
        for needle in [
            "--batch-size 1,8 --sequence-length 128,512",
            "for dtype in fp32 bf16",
            "--lengths uniform:64..512",
            "model-zoo-tests\" cuda_",
            "--min-time 2",
            "energy_j_per_batch",
            "exit \"$failed\"",
        ] {
            assert!(SCRIPT.contains(needle), "{needle}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
