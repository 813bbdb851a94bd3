//! `latency-analysis`: measures the inference latency of BERT-family encoders.
//!
//! Glue only: `args` parses the flags, `config` reads and checks the YAML, `run` builds and times
//! each model with the libraries (`model-zoo`, `timing-core`, `gpu-telemetry`, `report`), and
//! `output` prints. Exit status 0 when every model ran, 1 when some failed, 2 on an error, 130
//! after Ctrl-C (the records measured so far are saved).

mod args;
mod config;
mod output;
mod run;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use model_zoo::{BuildOptions, DeviceChoice, LibtorchInfo};

use crate::args::Args;
use crate::output::Output;

fn main() -> ExitCode {
    let args = Args::parse();
    let out = Output::new(args.quiet, args.json);
    match execute(&args, &out) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("latency-analysis: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn execute(args: &Args, out: &Output) -> Result<ExitCode> {
    if let Some(threads) = args.threads {
        model_zoo::tch::set_num_threads(i32::try_from(threads).context("--threads is too large")?);
    }
    let choice: DeviceChoice = args.device.parse()?;
    let device = choice.resolve()?;
    let info = LibtorchInfo::detect();
    if choice == DeviceChoice::Auto {
        out.notice(&format!("--device auto chose {}", run::device_name(device)));
    }
    out.notice(&format!(
        "libtorch {} ({} intra-op threads), dtype {}",
        info.version,
        model_zoo::tch::get_num_threads(),
        args.dtype.as_str()
    ));
    let (entries, builtin) = config::load(&args.config_file)?;
    if builtin {
        out.notice(&format!(
            "config file {} not found: using the built-in default config ({} models)",
            args.config_file.display(),
            entries.len()
        ));
    }
    // Read the lengths, text and tokenizer files now: a bad one stops the run before any model.
    let inputs = run::generator(args, i64::MAX)?;
    out.notice(&format!("inputs: {}", inputs.describe()));
    let shortest = args.sequence_length.iter().copied().min().unwrap_or(0);
    if let Some(longest) = inputs.longest().filter(|&l| l > shortest) {
        out.warning(&format!(
            "--lengths asks for rows of up to {longest} tokens; at --sequence-length {shortest} they are cut to it"
        ));
    }
    if args.dry_run {
        return dry_run(args, &entries, device, out);
    }
    ctrlc::set_handler(|| run::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let outcome = run::run(args, &entries, device, out)?;
    out.table(&outcome.records);
    out.warnings();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.records)?);
    }
    if !outcome.records.is_empty() {
        out.notice(&format!(
            "results written to {} and its .json",
            args.output_file.display()
        ));
    }
    if outcome.interrupted {
        eprintln!(
            "interrupted: {} record(s) saved in {}",
            outcome.records.len(),
            args.output_file.display()
        );
        return Ok(ExitCode::from(130));
    }
    if outcome.failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{} failure(s):", outcome.failures.len());
    for (what, cause) in &outcome.failures {
        eprintln!("  {what}: {cause}");
    }
    Ok(ExitCode::from(1))
}

/// Builds every model without running it and prints its size and cost.
fn dry_run(
    args: &Args,
    entries: &[model_zoo::ModelEntry],
    device: model_zoo::tch::Device,
    out: &Output,
) -> Result<ExitCode> {
    let kind = run::kind(args);
    let bytes_per_value = if args.dtype == args::Dtype::Fp32 {
        4.0
    } else {
        2.0
    };
    let mut failed = false;
    for entry in entries {
        let options = BuildOptions {
            device,
            kind,
            seed: args.seed,
            max_len: 8,
        };
        match model_zoo::build(entry, &options) {
            Ok(model) => {
                let params = model.num_parameters() as f64;
                for &batch in &args.batch_size {
                    for &seq in &args.sequence_length {
                        let flops = model
                            .flops(i64::from(batch), i64::from(seq))
                            .map_or("unknown GFLOP (TorchScript)".to_owned(), |f| {
                                format!("{:.2} GFLOP", f / 1e9)
                            });
                        println!(
                            "{}: {} ({}), {:.1} M parameters, {:.1} MB of weights, {flops} per forward at batch {batch} x seq {seq}",
                            entry.name,
                            entry.model_type.as_str(),
                            format!("{:?}", entry.task_type).to_lowercase(),
                            params / 1e6,
                            params * bytes_per_value / f64::from(1u32 << 20),
                        );
                    }
                }
            }
            Err(err) => {
                out.failure(&entry.name, &format!("{err:#}"));
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
