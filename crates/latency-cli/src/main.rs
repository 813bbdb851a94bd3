//! `latency-analysis`: measures the inference latency of BERT-family encoders.
//!
//! Glue only: `args` parses the flags, `config` reads and checks the YAML, the `runner` library
//! plans the jobs and measures them, and `output` prints. Exit status 0 when every job ran, 1
//! when some failed, 2 on an error, 130 after Ctrl-C or SIGTERM (the records measured so far are
//! saved; a second signal exits at once).

mod args;
mod config;
mod emit;
mod files;
mod output;
mod repeat;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use model_zoo::{DeviceChoice, LibtorchInfo};
use runner::{Device, Outcome, Plan, Runner, RunnerOptions, ShardSpec};

use crate::args::Args;
use crate::files::RunFiles;
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
    args.validate().map_err(|e| anyhow!(e))?;
    if let Some(args::Command::Plan(plan)) = &args.command {
        // No device is touched: the machine writing the job need not have the GPU.
        let (entries, _) = config::load(&args.config_file)?;
        let jobs = entries.len() * args.batch_size.len() * args.sequence_length.len();
        emit::emit(args, plan, jobs)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.repeat > 1 && args.repeat_run.is_none() && !args.dry_run {
        return repeat::run(args, out);
    }
    if let Some((i, k)) = args.repeat_run {
        out.notice(&format!("--repeat: run {i} of {k}, a fresh process"));
    }
    if let Some(threads) = args.threads {
        model_zoo::set_threads(threads);
    }
    let choice: DeviceChoice = args.device.parse()?;
    let device = runner::open_device(choice)?;
    if choice == DeviceChoice::Auto {
        out.notice(&format!("--device auto chose {}", device.name()));
    }
    let threads = model_zoo::threads();
    let (version, dtype) = (LibtorchInfo::detect().version, args.dtype);
    out.notice(&format!(
        "libtorch {version} ({threads} intra-op threads), dtype {dtype}"
    ));
    let (entries, builtin) = config::load(&args.config_file)?;
    if builtin {
        out.notice(&format!(
            "config file {} not found: using the built-in default config ({} models)",
            args.config_file.display(),
            entries.len()
        ));
    }
    let settings = args.settings(device.name());
    // Read the lengths, text and tokenizer files now: a bad one stops the run before any model.
    let inputs = settings.inputs.generator(settings.seed, i64::MAX)?;
    out.notice(&format!("inputs: {}", inputs.describe()));
    let shortest = args.sequence_length.iter().copied().min().unwrap_or(0);
    if let Some(longest) = inputs.longest().filter(|&l| l > shortest) {
        out.warning(&format!(
            "--lengths asks for rows of up to {longest} tokens; at --sequence-length {shortest} they are cut to it"
        ));
    }
    if let runner::Order::Interleaved { block } = settings.sampling.order {
        let rounds = args.measure_batches.max(1).div_ceil(block.max(1));
        if rounds < 6 {
            out.warning(&format!(
                "--order interleaved with {rounds} round(s) (--measure-batches {} / --block \
                 {block}): the paired test cannot reach p < 0.05 with fewer than 6 rounds (its \
                 smallest p-value is 2/2^rounds); raise --measure-batches or lower --block",
                args.measure_batches
            ));
        }
    }
    if args.include_transfer && !device.is_gpu() {
        out.warning("--include-transfer has no effect on the CPU: there is no copy to time");
    }
    let whole = Plan::new(&entries, &settings);
    let shard = args.shard_spec()?;
    if args.dry_run {
        return Ok(dry_run(&whole, shard, args, &*device, out));
    }
    let csv = files::results_path(args, shard);
    let sharding = shard.map(|spec| (spec, args.shard_strategy));
    let (mut files, done) = RunFiles::open(csv.clone(), &whole, sharding, args.force)?;
    let plan = match shard {
        Some(spec) => whole.shard(spec, args.shard_strategy)?,
        None => whole,
    };
    if !done.is_empty() {
        out.notice(&format!(
            "resuming {}: {} of {} job(s) already recorded are skipped (--force measures them again)",
            csv.display(),
            done.len(),
            plan.jobs().len()
        ));
    }
    let plan = plan.without(|job| done.contains(&job.id));
    let interrupt = install_signal_handler()?;
    let options = RunnerOptions {
        interrupt: Arc::clone(&interrupt),
        ..RunnerOptions::default()
    };
    let mut failures = Vec::new();
    let runner = Runner::new(&plan, &*device, out, options);
    files.start(device.name(), runner.machine())?;
    // Said once the signal handler is installed and libtorch is warmed up: the jobs start now.
    out.notice(&format!(
        "plan {}: {} job(s) to run, results to {}",
        plan.hash(),
        plan.jobs().len(),
        csv.display()
    ));
    for result in runner {
        out.finish();
        match result.outcome {
            Outcome::Measured(mut row) => {
                if let Some((i, k)) = args.repeat_run {
                    row.repeat_index = Some(u64::from(i));
                    row.repeats = Some(u64::from(k));
                }
                out.record(&row);
                files.record(*row)?;
            }
            Outcome::Failed { stage, cause } => {
                let what = result.job.job.label();
                // Name the stage unless the cause already does (`inputs: ...`).
                let cause = if cause.starts_with(stage.as_str()) {
                    cause
                } else {
                    format!("{}: {cause}", stage.as_str())
                };
                out.failure(&what, &cause);
                files.failed(&result.job.id, &cause)?;
                failures.push((what, cause));
            }
            Outcome::Interrupted => {}
        }
    }
    let interrupted = interrupt.load(Ordering::SeqCst);
    files.finish(interrupted)?;
    let records = files.writer.rows();
    out.table(records);
    out.warnings();
    if args.json {
        output::print_stdout(&serde_json::to_string_pretty(records)?);
    }
    if !records.is_empty() {
        out.notice(&format!(
            "results written to {} and its .json",
            csv.display()
        ));
    }
    if interrupted {
        eprintln!(
            "interrupted: {} record(s) saved in {}",
            records.len(),
            csv.display()
        );
        return Ok(ExitCode::from(130));
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{} failure(s):", failures.len());
    for (what, cause) in &failures {
        eprintln!("  {what}: {cause}");
    }
    Ok(ExitCode::from(1))
}

/// The first Ctrl-C or SIGTERM (Slurm's and CI's time limit) sets the returned flag: the run
/// stops at the next batch and saves what it measured. A second one exits at once (130).
fn install_signal_handler() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("latency-analysis: second interrupt: exiting now");
            std::process::exit(130);
        }
        eprintln!(
            "latency-analysis: interrupted: stopping at the next batch (interrupt again to exit \
             at once)"
        );
    })
    .context("installing the Ctrl-C/SIGTERM handler")?;
    Ok(flag)
}

/// Prints the plan: every job with its id, model size and cost (and its shard when sharded), as
/// text or with `--json` as a JSON list; builds each model once, runs nothing.
fn dry_run(
    plan: &Plan,
    shard: Option<ShardSpec>,
    args: &Args,
    device: &dyn Device,
    out: &Output,
) -> ExitCode {
    let shards = shard.and_then(|spec| {
        runner::assign_shards(plan, spec.count, args.shard_strategy)
            .ok()
            .map(|shards| (spec, shards))
    });
    let mut text = format!("plan {} ({} jobs)\n", plan.hash(), plan.jobs().len());
    if let Some(spec) = shard {
        let strategy = args.shard_strategy.as_str();
        text.push_str(&format!(
            "this task runs shard {spec} ({strategy} strategy)\n"
        ));
    }
    let mut json = Vec::new();
    let mut failed = false;
    for (n, (job, cost)) in runner::inspect(plan, device).into_iter().enumerate() {
        let j = &job.job;
        let shard_of = shards.as_ref().map(|(spec, s)| (s[n], spec.count));
        let task = format!("{:?}", j.model.task_type).to_lowercase();
        let mut entry = serde_json::json!({
            "job_id": job.id, "plan_hash": plan.hash(), "label": j.label(),
            "shard": shard_of.map(|(k, n)| format!("{k}/{n}")),
            "model_type": j.model.model_type.as_str(), "task_type": task,
            "inputs": j.inputs_text(), "time_boundary": j.time_boundary.as_str(),
        });
        match cost {
            Ok(cost) => {
                let gflop = cost.flops_per_forward.map(|f| f / 1e9);
                entry["num_parameters"] = cost.num_parameters.into();
                entry["weight_mb"] = (cost.weight_bytes as f64 / f64::from(1u32 << 20)).into();
                entry["gflops_per_forward"] = gflop.into();
                if let Some((k, n)) = shard_of {
                    text.push_str(&format!("[shard {k}/{n}] "));
                }
                text.push_str(&format!(
                    "{} {}: {} ({task}), {:.1} M parameters, {:.1} MB of weights ({}), {} per forward, inputs {}, timed {}\n",
                    job.id,
                    j.label(),
                    j.model.model_type.as_str(),
                    cost.num_parameters as f64 / 1e6,
                    cost.weight_bytes as f64 / f64::from(1u32 << 20),
                    j.dtype,
                    gflop.map_or("unknown GFLOP (a model from a file)".to_owned(), |g| format!("{g:.2} GFLOP")),
                    j.inputs_text(),
                    j.time_boundary.as_str(),
                ));
            }
            Err(cause) => {
                out.failure(&j.label(), &cause);
                entry["error"] = cause.into();
                failed = true;
            }
        }
        json.push(entry);
    }
    if args.json {
        output::print_stdout(&serde_json::to_string_pretty(&json).unwrap_or_default());
    } else {
        output::print_stdout(text.trim_end());
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
