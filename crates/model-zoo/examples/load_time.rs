//! Times loading a safetensors checkpoint into a model, and the resident-set growth it costs, for
//! docs/performance.md ("Loading a checkpoint"). `scripts/bench_load.py` (run by `cargo xtask
//! bench-load`) starts it once per measurement, alternating with transformers' `from_pretrained`
//! on the same folder.
//!
//! ```text
//! cargo run --release -p model-zoo --example load_time -- --model-type hf_bert \
//!     --checkpoint DIR [--task-type classification] [--num-labels 2] [--threads 2]
//! ```
//!
//! DIR holds `config.json` and `model.safetensors`, as `save_pretrained` writes them. The process
//! loads once (fp32, CPU) and prints one JSON line: `load_ms` (from the call of
//! [`model_zoo::build`] to the model ready to run, its weights in their own memory; `ready_ms` is
//! the same), `peak_growth_bytes` (the peak resident set during the load over the process before
//! it: Linux `VmHWM`, reset just before the load through `/proc/self/clear_refs`, minus `VmRSS`;
//! `peak_at_return_bytes` is the same), `rss_growth_bytes` (the resident set once loaded, over the
//! same baseline), `file_backed_growth_bytes` (the part of it that maps files, `RssFile`) and
//! `parameters`. The fields are those `scripts/bench_load.py` reads from transformers' side.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use model_zoo::tch::{Device, Kind, Tensor};
use model_zoo::{BuildOptions, ModelEntry, build};

/// Time one checkpoint load and its peak resident-set growth.
#[derive(Debug, Parser)]
struct Args {
    /// flex_bert, modern_bert, mosaic_bert or hf_bert.
    #[arg(long)]
    model_type: String,
    /// classification, mlm or embedding.
    #[arg(long, default_value = "classification")]
    task_type: String,
    /// Labels of the classification head.
    #[arg(long, default_value_t = 2)]
    num_labels: i64,
    /// A folder with config.json and model.safetensors.
    #[arg(long)]
    checkpoint: PathBuf,
    /// CPU intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("load_time: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .with_context(|| format!("no {key} in /proc/self/status"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("unreadable {line}"))?;
    Ok(kb * 1024)
}

fn run(args: &Args) -> Result<()> {
    model_zoo::tch::set_num_threads(args.threads);
    let folder = args
        .checkpoint
        .to_str()
        .with_context(|| format!("{} is not UTF-8", args.checkpoint.display()))?;
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "load", "model_type": args.model_type, "task_type": args.task_type,
        "num_labels": args.num_labels, "pretrained_model_name": folder,
        "pretrained_checkpoint": folder,
    }))
    .context("bad --model-type or --task-type")?;
    let options = BuildOptions::default();
    // Load libtorch's lazily initialised parts (allocator, thread pool) before the baseline.
    let _ = Tensor::ones([1024], (Kind::Float, Device::Cpu)).sum(Kind::Float);
    let base = status_bytes("VmRSS:")?;
    let file_base = status_bytes("RssFile:")?;
    // "5" resets the peak resident set (VmHWM) to the current one (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5").context("resetting VmHWM")?;
    let start = Instant::now();
    let model = build(&entry, &options)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let peak = status_bytes("VmHWM:")?.saturating_sub(base);
    let now = status_bytes("VmRSS:")?;
    let file_backed = status_bytes("RssFile:")?;
    // The weights are in their own memory when build returns: ready_ms is load_ms.
    println!(
        "{}",
        serde_json::json!({
            "side": "ours",
            "load_ms": load_ms,
            "ready_ms": load_ms,
            "peak_at_return_bytes": peak,
            "peak_growth_bytes": peak,
            "rss_growth_bytes": now.saturating_sub(base),
            "file_backed_growth_bytes": file_backed.saturating_sub(file_base),
            "parameters": model.num_parameters(),
        })
    );
    for warning in model.warnings() {
        eprintln!("load_time: warning: {warning}");
    }
    Ok(())
}
