//! The run: every model at every shape, measured and written one record at a time.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use gpu_telemetry::host::{HostInfo, HostMemoryBaseline};
use gpu_telemetry::{NvmlSystem, Sampler, SamplerConfig, TelemetryWindow};
use model_zoo::tch::{Device, Kind, Tensor};
use model_zoo::{BuildOptions, LibtorchInfo, Model, ModelEntry, build};
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
    let env = Environment {
        libtorch: LibtorchInfo::detect().version,
        cpu_model: host.cpu_model.clone(),
        host_name: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned()),
        threads: model_zoo::tch::get_num_threads().max(0) as u64,
    };
    // Power and energy come from NVML around each measured phase, on CUDA devices only.
    let probe = matches!(device, Device::Cuda(_)).then(gpu_telemetry::probe);
    if let Some(reason) = probe.as_ref().and_then(|p| p.unavailable_reason()) {
        out.warning(&format!("power and energy are not measured: {reason}"));
    }
    let nvml = probe.as_ref().and_then(|p| p.system());
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
        out.phase(&entry.name, "build");
        let model = match build(entry, &options) {
            Ok(model) => model,
            Err(err) => {
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
                match measure(args, entry, &model, device, nvml, batch, seq, out).and_then(|m| {
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

/// Random token ids (seeded, within the vocabulary, every position real) for one shape.
fn inputs(seed: u64, vocab: i64, batch: u32, seq: u32, device: Device) -> (Tensor, Tensor) {
    model_zoo::tch::manual_seed(seed as i64);
    let shape = [i64::from(batch), i64::from(seq)];
    let low = (vocab / 10).min(1000);
    let ids = Tensor::randint_low(low, vocab, shape, (Kind::Int64, Device::Cpu)).to_device(device);
    let mask = Tensor::ones(shape, (Kind::Int64, device));
    (ids, mask)
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
    let (ids, mask) = inputs(args.seed, model.dims().vocab, batch, seq, device);
    model.check_inputs(&ids, &mask)?;
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
        .with_progress(|p| out.progress(&entry.name, p))
        .with_phase_start(start_sampler)
        .try_run(|| {
            if INTERRUPTED.load(Ordering::SeqCst) {
                return Err(anyhow::Error::new(Interrupted));
            }
            model
                .run(&ids, &mask)
                .map(drop)
                .map_err(anyhow::Error::from)
        })?;
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
    Ok(Measured {
        samples_ms: measurement.samples_ms(),
        warmup_ms: measurement.warmup_ms(),
        telemetry,
    })
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
    let host_mb = baseline
        .filter(|_| on_cpu)
        .and_then(|b| b.finish().ok())
        .map(|h| h.peak_over_baseline_bytes as f64 / f64::from(1u32 << 20));
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
        peak_memory_mb: host_mb,
        allocated_memory_mb: None,
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
        real_tokens_per_second: Some(tokens / mean_s),
        padding_fraction: Some(0.0),
        memory_kind: host_mb.map(|_| "host".to_owned()),
        energy_j_per_sample: m
            .telemetry
            .as_ref()
            .and_then(|t| t.energy_per_sample_j(s.n as u64)),
        energy_source: m
            .telemetry
            .as_ref()
            .and_then(|t| t.energy_source)
            .map(|source| format!("{source:?}").to_lowercase()),
        gflops_per_forward: Some(flops / 1e9),
        achieved_tflops: Some(flops / mean_s / 1e12),
        num_parameters: Some(model.num_parameters()),
        warmup_batches: Some(m.warmup_ms.len() as u64),
        measure_batches: Some(s.n as u64),
        time_boundary: Some("forward".to_owned()),
        tool_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        libtorch_version: Some(env.libtorch.clone()),
        device_name: if on_cpu { env.cpu_model.clone() } else { None },
        driver_version: None,
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
