//! Record assembly: what one job measured, as a [`ResultRow`].
//!
//! The runner gathers the raw facts of a measured job into a [`Measured`] (latencies, tokens,
//! memory, telemetry, identity) and [`Measured::into_row`] computes every derived column once,
//! here beside the schema: statistics, throughputs, memory in MiB, energy per batch and per
//! sequence.

use timing_core::stats::{Samples, Summary, SummaryConfig};

use crate::error::{Error, Result};
use crate::schema::ResultRow;

/// Bytes in a MiB (the Python tool's "MB").
const MIB: f64 = (1u64 << 20) as f64;

/// What one job was: the configuration half of a record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobFacts {
    /// The config entry's `name`.
    pub model_name: String,
    /// The config entry's `model_type`.
    pub model_type: String,
    /// `classification`, `mlm` or `embedding`.
    pub task_type: String,
    /// Sequences per batch.
    pub batch_size: u64,
    /// Tokens per sequence, padding included.
    pub sequence_length: u64,
    /// The `--num-samples` setting.
    pub num_samples: u64,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// `fp32`, `fp16` or `bf16`.
    pub dtype: String,
    /// Where the token ids came from (`full`, `uniform:64..512`, `text:PATH`, ...).
    pub inputs: String,
    /// `forward` or `forward+transfer`.
    pub time_boundary: String,
    /// Seed of the random weights and inputs.
    pub seed: u64,
    /// The plan's job id.
    pub job_id: Option<String>,
    /// The plan's hash.
    pub plan_hash: Option<String>,
}

/// The machine and software a job ran on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MachineFacts {
    /// bert-latency's version.
    pub tool_version: String,
    /// libtorch's version.
    pub libtorch_version: Option<String>,
    /// The GPU's name on a GPU, the CPU model on the CPU.
    pub device_name: Option<String>,
    /// The GPU driver version.
    pub driver_version: Option<String>,
    /// The CPU model.
    pub cpu_model: Option<String>,
    /// The host name.
    pub host_name: Option<String>,
    /// libtorch's CPU intra-op threads.
    pub num_threads: Option<u64>,
}

/// Where the memory figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// The process's resident set (CPU runs).
    Host,
    /// The CUDA caching allocator (GPU runs).
    Device,
}

/// Memory of one job, in bytes; see [`ResultRow::peak_memory_mb`] for the meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Where the figures come from.
    pub kind: MemoryKind,
    /// Peak bytes during the measured batches (staged inputs beyond one batch left out).
    pub peak_bytes: u64,
    /// Bytes held after measuring (staged inputs left out); `None` on the host.
    pub allocated_bytes: Option<u64>,
    /// Bytes of the input batches staged on the device before timing; `None` on the host.
    pub input_bytes: Option<u64>,
}

/// GPU telemetry over the measured batches.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Telemetry {
    /// Mean board power, W.
    pub avg_power_w: Option<f64>,
    /// Peak board power, W.
    pub max_power_w: Option<f64>,
    /// Energy over the window, J; `None` when it could not be measured reliably.
    pub energy_j: Option<f64>,
    /// `counter` or `integrated`.
    pub energy_source: Option<&'static str>,
    /// The window's length, s.
    pub window_s: f64,
    /// Fraction of samples with a limiting throttle reason.
    pub throttled_fraction: Option<f64>,
    /// Lowest SM clock, MHz.
    pub sm_clock_min_mhz: Option<u32>,
    /// Highest SM clock, MHz.
    pub sm_clock_max_mhz: Option<u32>,
}

/// Everything one job measured, before the derived columns are computed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measured {
    /// What the job was.
    pub job: JobFacts,
    /// Where it ran.
    pub machine: MachineFacts,
    /// Measured latencies per batch, ms, in order.
    pub samples_ms: Vec<f64>,
    /// Warm-up latencies per batch, ms, in order (the first is the cold call).
    pub warmup_ms: Vec<f64>,
    /// Whether warm-up reached steady state; `None` when it was not asked for.
    pub steady_state: Option<bool>,
    /// Real (non-pad) tokens over the measured batches.
    pub real_tokens: u64,
    /// All positions over the measured batches (`batches × B × S`).
    pub padded_tokens: u64,
    /// The model's parameters.
    pub num_parameters: Option<u64>,
    /// Floating-point operations of one forward pass.
    pub flops_per_forward: Option<f64>,
    /// Memory, if measured.
    pub memory: Option<Memory>,
    /// GPU telemetry, if sampled.
    pub telemetry: Option<Telemetry>,
    /// When the job finished measuring (RFC 3339).
    pub timestamp: String,
    /// How it was measured with the other models of its shape: `None` one after another
    /// (sequential), else in alternating rounds.
    pub interleaved: Option<Rounds>,
    /// The job order to record when it is not implied by `interleaved` (e.g. `random`); `None`:
    /// `interleaved` with rounds, else `sequential`.
    pub order: Option<String>,
    /// Cold start (the first job of a process): seconds from the process's start to the model
    /// built and its inputs staged.
    pub process_to_built_s: Option<f64>,
    /// Warnings about this record, each said once.
    pub warnings: Vec<String>,
}

/// An interleaved job's rounds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rounds {
    /// Batches of this model per round.
    pub block_batches: u64,
    /// The mean of this model's block in each round, ms, in round order.
    pub round_latencies_ms: Vec<f64>,
}

impl Measured {
    /// The record: statistics over `samples_ms`, throughputs at the mean latency, memory in MiB,
    /// energy per batch and per sequence.
    ///
    /// # Errors
    /// [`Error::Record`] when there are no samples or one is not a finite number.
    pub fn into_row(self) -> Result<ResultRow> {
        let samples = Samples::new(self.samples_ms.clone())
            .map_err(|e| Error::Record(format!("{}: latencies: {e}", self.job.model_name)))?;
        let s = Summary::new(&samples, &SummaryConfig::default());
        let job = self.job;
        let batch = job.batch_size as f64;
        let mean_s = s.mean / 1e3;
        let measured_s = self.samples_ms.iter().sum::<f64>() / 1e3;
        let batches = s.n as f64;
        let mb = |bytes: u64| bytes as f64 / MIB;
        let memory = self.memory;
        let telemetry = self.telemetry;
        let energy = telemetry.and_then(|t| t.energy_j);
        let unsupported = s.unsupported_percentiles.join(";");
        Ok(ResultRow {
            model_name: job.model_name,
            model_type: job.model_type,
            batch_size: job.batch_size,
            sequence_length: job.sequence_length,
            num_samples: job.num_samples,
            mean_latency: s.mean,
            median_latency: s.median,
            std_latency: s.std,
            min_latency: s.min,
            max_latency: s.max,
            p95_latency: s.p95,
            p99_latency: s.p99,
            tokens_per_second: batch * job.sequence_length as f64 / mean_s,
            samples_per_second: batch / mean_s,
            peak_memory_mb: memory.map(|m| mb(m.peak_bytes)),
            allocated_memory_mb: memory.and_then(|m| m.allocated_bytes).map(mb),
            avg_gpu_power_w: telemetry.and_then(|t| t.avg_power_w),
            max_gpu_power_w: telemetry.and_then(|t| t.max_power_w),
            task_type: Some(job.task_type),
            device: Some(job.device),
            dtype: Some(job.dtype),
            num_threads: self.machine.num_threads,
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
            first_latency: self.warmup_ms.first().copied(),
            warmup_mean_latency: (!self.warmup_ms.is_empty())
                .then(|| self.warmup_ms.iter().sum::<f64>() / self.warmup_ms.len() as f64),
            real_tokens_per_second: (measured_s > 0.0)
                .then(|| self.real_tokens as f64 / measured_s),
            padding_fraction: (self.padded_tokens > 0)
                .then(|| 1.0 - self.real_tokens as f64 / self.padded_tokens as f64),
            memory_kind: memory.map(|m| {
                match m.kind {
                    MemoryKind::Host => "host",
                    MemoryKind::Device => "device",
                }
                .to_owned()
            }),
            energy_j_per_sample: energy.map(|e| e / (batches * batch)),
            energy_source: telemetry
                .filter(|t| t.energy_j.is_some())
                .and_then(|t| t.energy_source)
                .map(str::to_owned),
            gflops_per_forward: self.flops_per_forward.map(|f| f / 1e9),
            achieved_tflops: self.flops_per_forward.map(|f| f / mean_s / 1e12),
            num_parameters: self.num_parameters,
            warmup_batches: Some(self.warmup_ms.len() as u64),
            measure_batches: Some(s.n as u64),
            time_boundary: Some(job.time_boundary),
            inputs: Some(job.inputs),
            tool_version: Some(self.machine.tool_version),
            libtorch_version: self.machine.libtorch_version,
            device_name: self.machine.device_name,
            driver_version: self.machine.driver_version,
            cpu_model: self.machine.cpu_model,
            host_name: self.machine.host_name,
            timestamp: Some(self.timestamp),
            seed: Some(job.seed),
            energy_j_per_batch: energy.map(|e| e / batches),
            telemetry_window_s: telemetry.map(|t| t.window_s),
            throttled_fraction: telemetry.and_then(|t| t.throttled_fraction),
            sm_clock_min_mhz: telemetry.and_then(|t| t.sm_clock_min_mhz).map(u64::from),
            sm_clock_max_mhz: telemetry.and_then(|t| t.sm_clock_max_mhz).map(u64::from),
            input_memory_mb: memory.and_then(|m| m.input_bytes).map(mb),
            steady_state: self
                .steady_state
                .map(|reached| if reached { "reached" } else { "not reached" }.to_owned()),
            job_id: job.job_id,
            plan_hash: job.plan_hash,
            order: Some(self.order.unwrap_or_else(|| {
                if self.interleaved.is_some() {
                    "interleaved"
                } else {
                    "sequential"
                }
                .to_owned()
            })),
            rounds: self
                .interleaved
                .as_ref()
                .map(|r| r.round_latencies_ms.len() as u64),
            block_batches: self.interleaved.as_ref().map(|r| r.block_batches),
            repeat_index: None,
            repeats: None,
            process_to_built_s: self.process_to_built_s,
            warnings: (!self.warnings.is_empty()).then(|| self.warnings.join("; ")),
            latencies_ms: Some(self.samples_ms),
            round_latencies_ms: self.interleaved.map(|r| r.round_latencies_ms),
            warmup_latencies_ms: (!self.warmup_ms.is_empty()).then_some(self.warmup_ms),
        })
    }
}

impl ResultRow {
    /// Brings a record read from an older file to today's meanings: before `energy_j_per_batch`
    /// existed, `energy_j_per_sample` held joules per batch. A record with the per-sample value
    /// but no per-batch value is such a record; its value moves to `energy_j_per_batch` and the
    /// per-sample value becomes it divided by `batch_size`.
    pub fn upgrade_legacy(&mut self) {
        if let (Some(per_batch), None) = (self.energy_j_per_sample, self.energy_j_per_batch) {
            self.energy_j_per_batch = Some(per_batch);
            self.energy_j_per_sample =
                (self.batch_size > 0).then(|| per_batch / self.batch_size as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            job: JobFacts {
                model_name: "m".into(),
                batch_size: 4,
                sequence_length: 128,
                ..JobFacts::default()
            },
            samples_ms: vec![10.0, 10.0, 10.0, 10.0, 10.0],
            warmup_ms: vec![30.0, 12.0],
            real_tokens: 5 * 4 * 100,
            padded_tokens: 5 * 4 * 128,
            ..Measured::default()
        }
    }

    #[test]
    fn throughput_padding_and_energy_follow_their_definitions() {
        let mut m = measured();
        m.telemetry = Some(Telemetry {
            avg_power_w: Some(300.0),
            energy_j: Some(15.0),
            energy_source: Some("counter"),
            window_s: 0.05,
            ..Telemetry::default()
        });
        let row = m.into_row().unwrap();
        // 4 sequences per 10 ms.
        assert!((row.samples_per_second - 400.0).abs() < 1e-9);
        assert!((row.tokens_per_second - 400.0 * 128.0).abs() < 1e-6);
        assert!((row.real_tokens_per_second.unwrap() - 400.0 * 100.0).abs() < 1e-6);
        assert!((row.padding_fraction.unwrap() - 28.0 / 128.0).abs() < 1e-12);
        // 15 J over 5 batches of 4 sequences.
        assert_eq!(row.energy_j_per_batch, Some(3.0));
        assert_eq!(row.energy_j_per_sample, Some(0.75));
        // Energy per sequence times sequences per second is the mean power over the batches.
        let power = row.energy_j_per_sample.unwrap() * row.samples_per_second;
        assert!((power - 15.0 / 0.05).abs() < 1e-9, "{power}");
        assert_eq!(
            (row.first_latency, row.warmup_mean_latency),
            (Some(30.0), Some(21.0))
        );
        assert_eq!(row.seed, Some(0));
    }

    #[test]
    fn no_samples_is_an_error_not_a_panic() {
        let mut m = measured();
        m.samples_ms.clear();
        assert!(m.into_row().is_err());
    }

    #[test]
    fn legacy_energy_per_batch_is_converted_once() {
        let mut row = ResultRow {
            batch_size: 8,
            energy_j_per_sample: Some(4.0),
            ..ResultRow::default()
        };
        row.upgrade_legacy();
        assert_eq!(
            (row.energy_j_per_batch, row.energy_j_per_sample),
            (Some(4.0), Some(0.5))
        );
        row.upgrade_legacy();
        assert_eq!(
            (row.energy_j_per_batch, row.energy_j_per_sample),
            (Some(4.0), Some(0.5))
        );
    }
}
