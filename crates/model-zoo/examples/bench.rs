//! Times one model on saved inputs, for `scripts/bench_vs_transformers.py` (docs/performance.md),
//! which times HuggingFace transformers on the same inputs, pass for pass, in the same run.
//!
//! ```text
//! cargo run --release -p model-zoo --example bench -- --model-type modern_bert \
//!     --inputs IN.safetensors [--threads 2] [--warmup 1]
//! ```
//!
//! IN holds batches `input_ids.N` and `attention_mask.N` (int64 `[B, S]`, right padding, N = 0,
//! 1, ...). The model is the type's default preset (answerdotai/ModernBERT-base,
//! bert-base-uncased, ...) with seeded random weights, `task_type: embedding` (the bare encoder,
//! as transformers' `AutoModel`), fp32 on the CPU. After building and warming up on every batch it
//! prints `ready`, then reads batch numbers from standard input, one per line, runs that batch
//! once and prints the milliseconds of that forward pass, until standard input closes.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use model_zoo::tch::Tensor;
use model_zoo::{BuildOptions, ModelEntry, build};

/// Time forward passes of a model on saved inputs, one per batch number read from stdin.
#[derive(Debug, Parser)]
struct Args {
    /// flex_bert, modern_bert, mosaic_bert or hf_bert.
    #[arg(long)]
    model_type: String,
    /// Architecture overrides, as a JSON object (e.g. '{"padding": "padded"}').
    #[arg(long, value_name = "JSON")]
    model_config: Option<String>,
    /// A .safetensors file with input_ids.N and attention_mask.N.
    #[arg(long)]
    inputs: PathBuf,
    /// CPU intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Untimed passes over every batch before `ready`.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
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
    };
    let mut batches = Vec::new();
    while let (Some(ids), Some(mask)) = (
        find(&format!("input_ids.{}", batches.len())),
        find(&format!("attention_mask.{}", batches.len())),
    ) {
        batches.push((ids, mask));
    }
    if batches.is_empty() {
        bail!(
            "{} has no input_ids.0 / attention_mask.0",
            args.inputs.display()
        );
    }
    let longest = batches
        .iter()
        .map(|(ids, _)| ids.size()[1])
        .max()
        .unwrap_or(512);
    let options = BuildOptions {
        max_len: longest,
        ..BuildOptions::default()
    };
    let model = build(&entry, &options)?;
    for (ids, mask) in &batches {
        model.check_inputs(ids, mask)?;
        for _ in 0..args.warmup {
            drop(model.run(ids, mask)?);
        }
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let index: usize = line
            .trim()
            .parse()
            .with_context(|| format!("bad batch number '{line}'"))?;
        let (ids, mask) = batches
            .get(index)
            .with_context(|| format!("no batch {index}"))?;
        let start = Instant::now();
        let out = model.run(ids, mask)?;
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        drop(out);
        writeln!(stdout, "{elapsed}")?;
        stdout.flush()?;
    }
    Ok(())
}
