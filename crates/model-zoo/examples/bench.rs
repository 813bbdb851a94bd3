//! Times one model on saved inputs, for `scripts/bench_vs_transformers.py` (docs/performance.md),
//! which times HuggingFace transformers on the same inputs in the same run.
//!
//! ```text
//! cargo run --release -p model-zoo --example bench -- --model-type modern_bert \
//!     --inputs IN.safetensors [--threads 2] [--warmup 2] [--iters 10]
//! ```
//!
//! IN holds `input_ids` and `attention_mask` (int64 `[B, S]`, right padding). The model is the
//! type's default preset (answerdotai/ModernBERT-base, bert-base-uncased, ...) with seeded random
//! weights, `task_type: embedding` (the bare encoder, as transformers' `AutoModel`), fp32 on the
//! CPU. Prints one JSON line: `{"median_ms": m, "samples_ms": [...]}`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use model_zoo::tch::Tensor;
use model_zoo::{BuildOptions, ModelEntry, build};

/// Time forward passes of a model on saved inputs.
#[derive(Debug, Parser)]
struct Args {
    /// flex_bert, modern_bert, mosaic_bert or hf_bert.
    #[arg(long)]
    model_type: String,
    /// Architecture overrides, as a JSON object (e.g. '{"padding": "padded"}').
    #[arg(long, value_name = "JSON")]
    model_config: Option<String>,
    /// A .safetensors file with input_ids and attention_mask.
    #[arg(long)]
    inputs: PathBuf,
    /// CPU intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Untimed passes first.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed passes.
    #[arg(long, default_value_t = 10)]
    iters: usize,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<()> {
    model_zoo::tch::set_num_threads(args.threads);
    let model_config: serde_json::Value = match &args.model_config {
        Some(text) => serde_json::from_str(text).context("--model-config is not JSON")?,
        None => serde_json::json!({}),
    };
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "bench", "model_type": args.model_type, "task_type": "embedding",
        "model_config": model_config,
    }))
    .context("bad --model-type")?;
    let tensors = Tensor::read_safetensors(&args.inputs)
        .with_context(|| format!("reading {}", args.inputs.display()))?;
    let find = |name: &str| {
        tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.shallow_clone())
            .with_context(|| format!("{} has no '{name}'", args.inputs.display()))
    };
    let (ids, mask) = (find("input_ids")?, find("attention_mask")?);
    let options = BuildOptions {
        max_len: ids.size()[1],
        ..BuildOptions::default()
    };
    let model = build(&entry, &options)?;
    model.check_inputs(&ids, &mask)?;
    for _ in 0..args.warmup {
        drop(model.run(&ids, &mask)?);
    }
    let mut samples = Vec::with_capacity(args.iters);
    for _ in 0..args.iters {
        let start = Instant::now();
        let out = model.run(&ids, &mask)?;
        samples.push(start.elapsed().as_secs_f64() * 1e3);
        drop(out);
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    println!(
        "{}",
        serde_json::json!({"median_ms": median, "samples_ms": samples})
    );
    Ok(())
}
