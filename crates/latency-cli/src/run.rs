//! The run: every model at every shape, measured and written one record at a time.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use gpu_telemetry::host::{HostInfo, HostMemoryBaseline};
use gpu_telemetry::{NvmlSystem, Sampler, SamplerConfig, TelemetryWindow};
use model_zoo::tch::{Device, Kind};
use model_zoo::{Batch, BuildOptions, InputGenerator, LibtorchInfo, Model, ModelEntry, build};
use report::ResultRow;
use report::io::ResultsWriter;
use timing_core::stats::{Samples, Summary, SummaryConfig};
use timing_core::{Adaptive, Harness, HarnessConfig, Phase, Statistic, StopRule, Warmup};

use crate::args::Args;
use crate::output::Output;

/// Set by the Ctrl-C handler; the run stops at the next batch, keeping every finished record.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The error a measurement stops with when Ctrl-C was pressed.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted by Ctrl-C")
    }
}

impl std::error::Error for Interrupted {}

/// What a run produced.
pub struct Outcome {
    /// Every record written.
    pub records: Vec<ResultRow>,
    /// Models (or shapes) that failed: name and cause.
    pub failures: Vec<(String, String)>,
    /// Whether Ctrl-C stopped the run early.
    pub interrupted: bool,
}

/// Facts recorded with every record.
struct Environment {
    libtorch: String,
    cpu_model: Option<String>,
    host_name: Option<String>,
    threads: u64,
    /// The GPU's name from NVML, on CUDA devices.
    gpu_name: Option<String>,
    /// The NVIDIA driver version from NVML, on CUDA devices.
    driver_version: Option<String>,
}

/// Distinct batches generated per shape; runs longer than this cycle through them.
const MAX_DISTINCT_BATCHES: usize = 256;

/// The input generator of `--lengths` or `--text-file`/`--tokenizer` for a model with `vocab`
/// token ids.
///
/// # Errors
/// An unreadable text or tokenizer file, or a vocabulary too small for random inputs.
pub fn generator(args: &Args, vocab: i64) -> Result<InputGenerator> {
    Ok(match (&args.text_file, &args.tokenizer) {
        (Some(text), Some(tokenizer)) => InputGenerator::text(text, tokenizer, vocab)?,
        _ => InputGenerator::random(args.lengths.clone(), args.seed, vocab)?,
    })
}

/// What the timer covers: the forward pass, plus the host-to-device copy with
/// `--include-transfer` on a GPU (on the CPU there is no copy).
fn time_boundary(args: &Args, device: Device) -> &'static str {
    if args.include_transfer && device != Device::Cpu {
        "forward+transfer"
    } else {
        "forward"
    }
}

/// The float type of `--dtype`.
pub fn kind(args: &Args) -> Kind {
    match args.dtype {
        crate::args::Dtype::Fp32 => Kind::Float,
        crate::args::Dtype::Fp16 => Kind::Half,
        crate::args::Dtype::Bf16 => Kind::BFloat16,
    }
}

/// Runs `entries` on `device`, writing each record to `--output-file` (CSV and JSON) as soon as
/// it is measured.
///
/// # Errors
/// Only when the results files cannot be written; model failures are collected in [`Outcome`].
pub fn run(args: &Args, entries: &[ModelEntry], device: Device, out: &Output) -> Result<Outcome> {
    let host = HostInfo::collect();
    // Power and energy come from NVML around each measured phase, on CUDA devices only.
    let probe = matches!(device, Device::Cuda(_)).then(gpu_telemetry::probe);
    if let Some(reason) = probe.as_ref().and_then(|p| p.unavailable_reason()) {
        out.warning(&format!(
            "power, energy, GPU name and driver are not recorded: {reason}"
        ));
    }
    let nvml = probe.as_ref().and_then(|p| p.system());
    // NVML numbers GPUs as CUDA does unless CUDA_VISIBLE_DEVICES reorders them.
    let gpu = match (nvml, device) {
        (Some(system), Device::Cuda(index)) => u32::try_from(index)
            .ok()
            .map(|i| (system.device_info(i).name, system.driver_version().ok())),
        _ => None,
    };
    let env = Environment {
        libtorch: LibtorchInfo::detect().version,
        cpu_model: host.cpu_model.clone(),
        host_name: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned()),
        threads: model_zoo::tch::get_num_threads().max(0) as u64,
        gpu_name: gpu.as_ref().and_then(|g| g.0.clone()),
        driver_version: gpu.and_then(|g| g.1),
    };
    if args.include_transfer && device == Device::Cpu {
        out.warning("--include-transfer has no effect on the CPU: there is no copy to time");
    }
    if let Device::Cuda(_) = device {
        if !model_zoo::CUDA_MEMORY_SUPPORTED {
            out.warning(&format!(
                "GPU memory is not recorded: {}",
                model_zoo::cuda_memory(0)
                    .err()
                    .map_or_else(String::new, |e| e.to_string())
            ));
        }
    }
    let mut writer = ResultsWriter::new(&args.output_file)?;
    let mut failures = Vec::new();
    let max_len = args.sequence_length.iter().copied().max().unwrap_or(512);
    for entry in entries {
        if INTERRUPTED.load(Ordering::SeqCst) {
            break;
        }
        let baseline = HostMemoryBaseline::capture().ok();
        let options = BuildOptions {
            device,
            kind: kind(args),
            seed: args.seed,
            max_len: i64::from(max_len),
        };
        out.start(&entry.name, "build");
        if let Device::Cuda(_) = device {
            // The previous model's cached blocks must not count toward this one's memory.
            let _ = model_zoo::empty_cuda_cache();
        }
        let model = match build(entry, &options) {
            Ok(model) => model,
            Err(err) => {
                out.finish();
                out.failure(&entry.name, &format!("{err:#}"));
                failures.push((entry.name.clone(), format!("{err:#}")));
                continue;
            }
        };
        for warning in model.warnings() {
            out.warning(warning);
        }
        for &batch in &args.batch_size {
            for &seq in &args.sequence_length {
                if INTERRUPTED.load(Ordering::SeqCst) {
                    break;
                }
                let label = format!("{} (batch {batch}, seq {seq})", entry.name);
                out.start(&label, "inputs");
                let measured = measure(args, entry, &model, device, nvml, batch, seq, out);
                out.finish();
                match measured.and_then(|m| {
                    record(
                        args,
                        entry,
                        &model,
                        device,
                        batch,
                        seq,
                        m,
                        baseline.as_ref(),
                        &env,
                    )
                }) {
                    Ok(row) => {
                        out.record(&row);
                        writer
                            .append(row)
                            .with_context(|| format!("writing {}", writer.csv_path().display()))?;
                    }
                    Err(err) if err.is::<Interrupted>() => break,
                    Err(err) => {
                        out.failure(&label, &format!("{err:#}"));
                        failures.push((label, format!("{err:#}")));
                    }
                }
            }
        }
    }
    Ok(Outcome {
        records: writer.rows().to_vec(),
        failures,
        interrupted: INTERRUPTED.load(Ordering::SeqCst),
    })
}

struct Measured {
    samples_ms: Vec<f64>,
    warmup_ms: Vec<f64>,
    telemetry: Option<TelemetryWindow>,
    /// Real (non-pad) tokens over the measured batches.
    real_tokens: u64,
    /// All positions over the measured batches.
    padded_tokens: u64,
    /// CUDA allocator bytes after the measured batches and at their peak.
    cuda_memory: Option<model_zoo::CudaMemory>,
    /// Where the inputs came from (`full`, `uniform:64..512`, `text:PATH`, ...).
    inputs: String,
}

/// The stop rule the flags ask for: a fixed count (the Python tool's), a time budget
/// (`--min-time`), or adaptive stopping on the median's interval (`--target-ci`).
fn stop_rule(args: &Args, batch: u32) -> StopRule {
    let count = args.measured_batches(batch) as usize;
    let seconds = |s: Option<f64>, default: f64| Duration::from_secs_f64(s.unwrap_or(default));
    match (args.target_ci, args.min_time) {
        (Some(width), _) => StopRule::Adaptive(Adaptive {
            statistic: Statistic::Median,
            target_width: width,
            min_samples: count,
            min_time: seconds(args.min_time, 0.0),
            max_time: seconds(args.max_time, 60.0),
            ..Adaptive::default()
        }),
        (None, Some(min_time)) => StopRule::Time {
            budget: Duration::from_secs_f64(min_time),
            min_samples: count,
        },
        (None, None) => StopRule::Count(count),
    }
}

#[allow(clippy::too_many_arguments)]
fn measure(
    args: &Args,
    entry: &ModelEntry,
    model: &Model,
    device: Device,
    nvml: Option<&NvmlSystem>,
    batch: u32,
    seq: u32,
    out: &Output,
) -> Result<Measured> {
    let count = (args.measured_batches(batch) as usize).clamp(1, MAX_DISTINCT_BATCHES);
    let generator = generator(args, model.dims().vocab)?;
    let host_batches = generator.batches(batch, seq, count)?;
    for b in &host_batches {
        model.check_inputs(&b.input_ids, &b.attention_mask)?;
    }
    // Without --include-transfer the inputs are on the device before timing starts; with it they
    // stay on the host and Model::run copies them inside the timed call.
    let batches: Vec<Batch> = if args.include_transfer {
        host_batches
    } else {
        host_batches.iter().map(|b| b.to_device(device)).collect()
    };
    let next = Cell::new(0usize);
    let config = HarnessConfig {
        warmup: Warmup {
            min_iters: args.warmup_batches as usize,
            min_time: Duration::ZERO,
            max_time: Duration::from_secs(3600),
            steady_state: None,
        },
        stop: stop_rule(args, batch),
        ..HarnessConfig::default()
    };
    let sampler: RefCell<Option<Sampler>> = RefCell::new(None);
    let start_sampler = |phase: Phase| {
        if let (Phase::Measure, Device::Cuda(index)) = (phase, device) {
            if let Err(e) = model_zoo::reset_cuda_peak(index) {
                if model_zoo::CUDA_MEMORY_SUPPORTED {
                    out.warning(&format!("{}: {e}", entry.name));
                }
            }
        }
        if let (Phase::Measure, Some(system), Device::Cuda(index)) = (phase, nvml, device) {
            // NVML numbers GPUs as CUDA does unless CUDA_VISIBLE_DEVICES reorders them.
            let started = u32::try_from(index)
                .map_err(|e| e.to_string())
                .and_then(|i| system.reader(i).map_err(|e| e.to_string()))
                .and_then(|reader| {
                    Sampler::start(reader, SamplerConfig::default()).map_err(|e| e.to_string())
                });
            match started {
                Ok(s) => *sampler.borrow_mut() = Some(s),
                Err(e) => out.warning(&format!(
                    "{}: power sampling did not start: {e}",
                    entry.name
                )),
            }
        }
    };
    let measurement = Harness::new(config)?
        .with_fence(|| model_zoo::synchronize(device))
        .with_progress(|p| out.progress(p, target(args, batch, p.phase)))
        .with_phase_start(start_sampler)
        .try_run(|| {
            if INTERRUPTED.load(Ordering::SeqCst) {
                return Err(anyhow::Error::new(Interrupted));
            }
            let b = &batches[next.get() % batches.len()];
            next.set(next.get() + 1);
            model
                .run(&b.input_ids, &b.attention_mask)
                .map(drop)
                .map_err(anyhow::Error::from)
        })?;
    let cuda_memory = match device {
        Device::Cuda(index) => model_zoo::cuda_memory(index).ok(),
        _ => None,
    };
    if measurement.target_met() == Some(false) {
        out.warning(&format!(
            "{} (batch {batch}, seq {seq}): the median's interval did not narrow to the --target-ci width \
             before --max-time ({} batches measured); raise --max-time or accept a wider interval",
            entry.name,
            measurement.samples.len()
        ));
    }
    let telemetry = sampler.borrow_mut().as_mut().and_then(|s| s.stop().ok());
    for warning in telemetry.iter().flat_map(TelemetryWindow::warnings) {
        out.warning(&format!(
            "{} (batch {batch}, seq {seq}): {warning}",
            entry.name
        ));
    }
    // Measured call i ran batch (warm-up calls + i) mod the number of batches.
    let warmup = measurement.warmup_ms().len();
    let measured = measurement.samples.len();
    let (real_tokens, padded_tokens) = (warmup..warmup + measured)
        .map(|call| &batches[call % batches.len()])
        .fold((0, 0), |(real, padded), b| {
            (real + b.real_tokens(), padded + b.padded_tokens())
        });
    Ok(Measured {
        samples_ms: measurement.samples_ms(),
        warmup_ms: measurement.warmup_ms(),
        telemetry,
        real_tokens,
        padded_tokens,
        cuda_memory,
        inputs: generator.describe(),
    })
}

/// The number of batches a phase runs when it is fixed: the warm-up count, and the measured
/// count under the Python tool's count rule.
fn target(args: &Args, batch: u32, phase: Phase) -> Option<u64> {
    match phase {
        Phase::Warmup => Some(u64::from(args.warmup_batches)),
        Phase::Measure if args.min_time.is_none() && args.target_ci.is_none() => {
            Some(u64::from(args.measured_batches(batch)))
        }
        Phase::Measure => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    args: &Args,
    entry: &ModelEntry,
    model: &Model,
    device: Device,
    batch: u32,
    seq: u32,
    m: Measured,
    baseline: Option<&HostMemoryBaseline>,
    env: &Environment,
) -> Result<ResultRow> {
    let samples = Samples::new(m.samples_ms.clone())?;
    let s = Summary::new(&samples, &SummaryConfig::default());
    let tokens = f64::from(batch) * f64::from(seq);
    let mean_s = s.mean / 1e3;
    let flops = model.flops(i64::from(batch), i64::from(seq));
    let on_cpu = device == Device::Cpu;
    let mib = |bytes: i64| bytes as f64 / f64::from(1u32 << 20);
    let host_mb = baseline
        .filter(|_| on_cpu)
        .and_then(|b| b.finish().ok())
        .map(|h| h.peak_over_baseline_bytes as f64 / f64::from(1u32 << 20));
    let (memory_mb, allocated_mb, memory_kind) = match (host_mb, m.cuda_memory) {
        (Some(host), _) => (Some(host), None, Some("host")),
        (None, Some(cuda)) => (
            Some(mib(cuda.peak_allocated)),
            Some(mib(cuda.allocated)),
            Some("device"),
        ),
        (None, None) => (None, None, None),
    };
    let measured_s = m.samples_ms.iter().sum::<f64>() / 1e3;
    let unsupported = s.unsupported_percentiles.join(";");
    Ok(ResultRow {
        model_name: entry.name.clone(),
        model_type: entry.model_type.as_str().to_owned(),
        batch_size: u64::from(batch),
        sequence_length: u64::from(seq),
        num_samples: u64::from(args.num_samples),
        mean_latency: s.mean,
        median_latency: s.median,
        std_latency: s.std,
        min_latency: s.min,
        max_latency: s.max,
        p95_latency: s.p95,
        p99_latency: s.p99,
        tokens_per_second: tokens / mean_s,
        samples_per_second: f64::from(batch) / mean_s,
        peak_memory_mb: memory_mb,
        allocated_memory_mb: allocated_mb,
        avg_gpu_power_w: m.telemetry.as_ref().and_then(|t| t.avg_power_w),
        max_gpu_power_w: m.telemetry.as_ref().and_then(|t| t.max_power_w),
        task_type: Some(format!("{:?}", entry.task_type).to_lowercase()),
        device: Some(device_name(device)),
        dtype: Some(args.dtype.as_str().to_owned()),
        num_threads: Some(env.threads),
        p50_latency: Some(s.p50),
        p90_latency: Some(s.p90),
        p999_latency: Some(s.p999),
        median_ci_low: s.median_ci.low,
        median_ci_high: s.median_ci.high,
        p99_ci_low: s.p99_ci.low,
        p99_ci_high: s.p99_ci.high,
        iqr_latency: Some(s.iqr),
        outliers_mild: Some(s.outliers.mild() as u64),
        outliers_severe: Some(s.outliers.severe() as u64),
        unsupported_percentiles: (!unsupported.is_empty()).then_some(unsupported),
        first_latency: m.warmup_ms.first().copied(),
        warmup_mean_latency: (!m.warmup_ms.is_empty())
            .then(|| m.warmup_ms.iter().sum::<f64>() / m.warmup_ms.len() as f64),
        real_tokens_per_second: Some(m.real_tokens as f64 / measured_s),
        padding_fraction: Some(1.0 - m.real_tokens as f64 / m.padded_tokens.max(1) as f64),
        memory_kind: memory_kind.map(str::to_owned),
        energy_j_per_sample: m
            .telemetry
            .as_ref()
            .and_then(|t| t.energy_per_sample_j(s.n as u64)),
        energy_source: m
            .telemetry
            .as_ref()
            .and_then(|t| t.energy_source)
            .map(|source| format!("{source:?}").to_lowercase()),
        gflops_per_forward: flops.map(|f| f / 1e9),
        achieved_tflops: flops.map(|f| f / mean_s / 1e12),
        num_parameters: Some(model.num_parameters()),
        warmup_batches: Some(m.warmup_ms.len() as u64),
        measure_batches: Some(s.n as u64),
        time_boundary: Some(time_boundary(args, device).to_owned()),
        inputs: Some(m.inputs.clone()),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        libtorch_version: Some(env.libtorch.clone()),
        device_name: if on_cpu {
            env.cpu_model.clone()
        } else {
            env.gpu_name.clone()
        },
        driver_version: env.driver_version.clone(),
        cpu_model: env.cpu_model.clone(),
        host_name: env.host_name.clone(),
        timestamp: Some(rfc3339(SystemTime::now())),
        latencies_ms: Some(m.samples_ms),
    })
}

/// `cpu` or `cuda:N`.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(index) => format!("cuda:{index}"),
        _ => "cpu".to_owned(),
    }
}

/// UTC time as RFC 3339, e.g. `2026-11-28T18:40:00Z` (civil-from-days, Howard Hinnant's method).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // date -u -d @1795890000 +%FT%TZ -> 2026-11-28T18:20:00Z
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_890_000)),
            "2026-11-28T18:20:00Z"
        );
        // date -u -d @951782400 -> 2000-02-29T00:00:00Z (leap day)
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
