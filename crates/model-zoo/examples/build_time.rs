//! Times building a preset with seeded random weights, and the resident-set growth it costs, for
//! docs/performance.md ("Model builds").
//!
//! ```text
//! cargo run --release -p model-zoo --example build_time -- --model-type modern_bert \
//!     [--task-type embedding] [--repeat 5] [--threads 2] [--dry]
//! ```
//!
//! Each repeat builds the type's default preset (answerdotai/ModernBERT-base, bert-base-uncased,
//! ...) in fp32 on the CPU with seed 0, and prints one line: the build's milliseconds, the peak
//! resident-set growth over the process before the first build (Linux `VmHWM`, reset before
//! each build through `/proc/self/clear_refs`), the weights' bytes, and their ratio. `--dry` makes
//! the [`model_zoo::blueprint`] instead (no weights).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use model_zoo::{BuildOptions, ModelEntry, blueprint, build};

/// Time random-weight builds of a preset.
#[derive(Debug, Parser)]
struct Args {
    /// flex_bert, modern_bert, mosaic_bert or hf_bert.
    #[arg(long)]
    model_type: String,
    /// classification, mlm or embedding.
    #[arg(long, default_value = "embedding")]
    task_type: String,
    /// Builds, one line each.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// CPU intra-op threads (also the threads filling the weights).
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Make the blueprint (shapes only) instead.
    #[arg(long)]
    dry: bool,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("build_time: error: {err:#}");
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
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": args.model_type, "model_type": args.model_type, "task_type": args.task_type,
    }))?;
    let options = BuildOptions::default();
    // Load libtorch's lazily initialised parts (allocator, thread pool) before the baseline.
    let _ = model_zoo::tch::Tensor::ones([1024], (model_zoo::tch::Kind::Float, options.device))
        .sum(model_zoo::tch::Kind::Float);
    let base = status_bytes("VmRSS:")?;
    for _ in 0..args.repeat {
        // "5" resets the peak resident set (VmHWM) to the current one (Linux ≥ 4.0).
        std::fs::write("/proc/self/clear_refs", "5").context("resetting VmHWM")?;
        let start = Instant::now();
        let params = if args.dry {
            blueprint(&entry, &options)?.num_parameters()
        } else {
            build(&entry, &options)?.num_parameters()
        };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let growth = status_bytes("VmHWM:")?.saturating_sub(base);
        let weights = params * 4;
        println!(
            "{} {}: build {ms:.0} ms, peak RSS growth {:.0} MB for {:.0} MB of weights ({:.2}x)",
            args.model_type,
            if args.dry { "blueprint" } else { "random" },
            growth as f64 / 1e6,
            weights as f64 / 1e6,
            growth as f64 / weights as f64,
        );
    }
    Ok(())
}
