//! One forward pass, for verification: checks a model (or a converted checkpoint) against
//! reference outputs.
//!
//! ```text
//! cargo run -p model-zoo --example forward -- --model-type modern_bert --task-type mlm \
//!     [--pretrained-model-name P] [--model-config '{"num_hidden_layers": 2}'] [--num-labels N] \
//!     --checkpoint W.safetensors --inputs IN.safetensors --output OUT.safetensors
//! ```
//!
//! IN holds `input_ids` and `attention_mask` (int64, `[B, S]`, right padding); OUT receives
//! `logits` (fp32): `[B, num_labels]`, `[B, S, V]` or, for `embedding`, the last hidden state
//! `[B, S, H]`. Exit status 2 with a message on any error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use model_zoo::tch::{Kind, Tensor};
use model_zoo::{BuildOptions, ModelEntry, build};

/// Run one forward pass of a model on saved inputs and save its output.
#[derive(Debug, Parser)]
struct Args {
    /// flex_bert, modern_bert, mosaic_bert or hf_bert.
    #[arg(long)]
    model_type: String,
    /// classification, mlm or embedding.
    #[arg(long)]
    task_type: String,
    /// A built-in preset or a directory with config.json.
    #[arg(long)]
    pretrained_model_name: Option<String>,
    /// Architecture overrides, as a JSON object.
    #[arg(long, value_name = "JSON")]
    model_config: Option<String>,
    /// Labels of the classification head.
    #[arg(long, default_value_t = 2)]
    num_labels: i64,
    /// Weights: a .safetensors file or a directory with model.safetensors.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Inputs: a .safetensors file with input_ids and attention_mask.
    #[arg(long)]
    inputs: PathBuf,
    /// Where to write `logits`.
    #[arg(long)]
    output: PathBuf,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("forward: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let model_config: serde_json::Value = match &args.model_config {
        Some(text) => serde_json::from_str(text).context("--model-config is not valid JSON")?,
        None => serde_json::json!({}),
    };
    let entry: ModelEntry = serde_json::from_value(serde_json::json!({
        "name": "forward",
        "model_type": args.model_type,
        "task_type": args.task_type,
        "pretrained_model_name": args.pretrained_model_name,
        "pretrained_checkpoint": args.checkpoint,
        "num_labels": args.num_labels,
        "model_config": model_config,
    }))
    .context("invalid model arguments")?;
    let model = build(&entry, &BuildOptions::default())?;
    for warning in model.warnings() {
        eprintln!("forward: warning: {warning}");
    }
    if !args.inputs.is_file() {
        bail!("inputs {}: no such file", args.inputs.display());
    }
    let tensors = Tensor::read_safetensors(&args.inputs).with_context(|| {
        format!(
            "inputs {}: not a readable safetensors file",
            args.inputs.display()
        )
    })?;
    let get = |name: &str| -> Result<Tensor> {
        let tensor = tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.shallow_clone())
            .with_context(|| format!("inputs {}: no tensor '{name}'", args.inputs.display()))?;
        if tensor.kind() != Kind::Int64 || tensor.dim() != 2 {
            bail!(
                "inputs {}: '{name}' must be int64 [B, S], got {:?} {:?}",
                args.inputs.display(),
                tensor.kind(),
                tensor.size()
            );
        }
        Ok(tensor)
    };
    let logits = model
        .forward(&get("input_ids")?, &get("attention_mask")?)?
        .to_kind(Kind::Float);
    Tensor::write_safetensors(&[("logits", &logits)], &args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "forward: wrote logits {:?} to {}",
        logits.size(),
        args.output.display()
    );
    Ok(())
}
