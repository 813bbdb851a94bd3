//! The project's automation, run as `cargo xtask <task>` (the alias lives in `.cargo/config.toml`;
//! the convention is matklad's cargo-xtask).
//!
//! - `bootstrap`: install libtorch 2.11.0 into the per-user cache, once, and point `.libtorch` at it.
//! - `run-default`: the README's main job: bootstrap, release build, `latency-analysis` on the
//!   built-in default config with CPU-friendly settings.
//! - `test`: the README's test command: bootstrap, `cargo fmt --check`, `cargo clippy`, release
//!   build of the binaries (their linkage is tested), `cargo test --workspace`, `slurm-test`.
//!
//! - `slurm-test`: a sharded sweep on a real one-node Slurm cluster (`scripts/slurm-local.sh`).
//!
//! - `gpu-check`: build here, and put stripped binaries plus a script into `.gpu-check/` for a lent
//!   GPU machine (which has torch but no Rust); prints the command that runs them there.
//!
//! - `bench-transformers`: bert-latency against HuggingFace transformers (docs/performance.md).
//! - `bench-load`: loading a BERT-base safetensors checkpoint against transformers'
//!   `from_pretrained` (docs/performance.md).
//!
//! Keep this crate cheap to build: it depends on `clap` and `anyhow` only.

mod bench;
mod bench_forms;
mod bench_load;
mod bootstrap;
mod cargo;
mod gpu_check;
/// The libtorch version reader shared with the build scripts.
#[path = "../../build-support/libtorch_version.rs"]
mod libtorch_version;
mod run_default;
mod slurm_test;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// bert-latency's automation tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about, long_about = None)]
struct Args {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Install libtorch 2.11.0 (PyTorch wheel from PyPI) into the per-user cache, once.
    ///
    /// Reuses an existing install, and respects a LIBTORCH already set in the environment. The
    /// cache is $BERT_LATENCY_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/bert-latency.
    Bootstrap,
    /// The main job: bootstrap, build in release mode, run latency-analysis on the default config.
    RunDefault,
    /// The test suite: bootstrap, fmt --check, clippy -D warnings, release build, cargo test,
    /// then slurm-test.
    Test,
    /// A sharded sweep on a real one-node Slurm cluster (installed with apt-get when missing):
    /// emit, submit, re-queue a task mid-shard, merge (docs/cluster.md). BERT_LATENCY_SKIP_SLURM=1
    /// leaves it out of `test` where Slurm cannot be installed.
    SlurmTest,
    /// Prepare the CUDA checks for a GPU machine: stripped release binaries, model-zoo's unit
    /// tests and run.sh in .gpu-check/; prints the command that runs them there (docs/gpu.md).
    GpuCheck,
    /// bert-latency against HuggingFace transformers (sdpa, fp32, CPU) on the same inputs, with
    /// the ratio of medians per case (docs/performance.md). Arguments after `--` go to
    /// scripts/bench_vs_transformers.py (e.g. `-- --only 1x128`).
    BenchTransformers {
        /// Passed to the script.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
    /// Loading a BERT-base safetensors checkpoint (random weights, made once in the cache, never
    /// downloaded): load time and peak RSS growth against transformers' from_pretrained on the
    /// same file, in fresh processes taking turns (docs/performance.md). Arguments after `--` go
    /// to scripts/bench_load.py (e.g. `-- --reps 7`).
    BenchLoad {
        /// Passed to the script.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
    /// The deployment forms of BERT-base and ModernBERT-base side by side: ours, TorchScript,
    /// AOTInductor and ONNX Runtime under latency-analysis, and transformers eager and
    /// torch.compile'd (random weights, made once in the cache). Arguments after `--` go to
    /// scripts/bench_forms.py (e.g. `-- --measure 20 --skip aoti`).
    BenchForms {
        /// Passed to the script.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = workspace_root();
    let outcome = match args.task {
        Task::Bootstrap => bootstrap::ensure(&root).map(|_| ()),
        Task::RunDefault => run_default::run(&root),
        Task::Test => test::run(&root),
        Task::SlurmTest => slurm_test::run(&root),
        Task::GpuCheck => gpu_check::run(&root),
        Task::BenchTransformers { extra } => bench::run(&root, &extra),
        Task::BenchLoad { extra } => bench_load::run(&root, &extra),
        Task::BenchForms { extra } => bench_forms::run(&root, &extra),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
