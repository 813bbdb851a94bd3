//! `ResultRow`: one measured (model, batch size, sequence length, device, dtype), as results files
//! store it.
//!
//! The first 18 fields are exactly the Python tool's, in its order, with its meaning and units
//! (latencies in milliseconds, memory in MiB written "MB", power in watts), so existing scripts,
//! the Python analyzer included, read our files unchanged. Ours follow. A missing value is an empty
//! CSV cell and a JSON `null`.

use serde::{Deserialize, Serialize};

/// How a field is typed in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A non-negative integer.
    Count,
    /// A finite number.
    Number,
}

/// One field of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The column / key name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether every record must have a value (only some of the Python tool's fields).
    pub required: bool,
}

const fn field(name: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        kind,
        required,
    }
}

/// How many leading fields are the Python tool's.
pub const LEGACY_FIELD_COUNT: usize = 18;

/// Every CSV column, in file order: the Python tool's 18, then ours. (`latencies_ms`, a list, is
/// JSON-only.)
pub const FIELDS: &[Field] = &[
    field("model_name", Kind::Text, true),
    field("model_type", Kind::Text, true),
    field("batch_size", Kind::Count, true),
    field("sequence_length", Kind::Count, true),
    field("num_samples", Kind::Count, true),
    field("mean_latency", Kind::Number, true),
    field("median_latency", Kind::Number, true),
    field("std_latency", Kind::Number, true),
    field("min_latency", Kind::Number, true),
    field("max_latency", Kind::Number, true),
    field("p95_latency", Kind::Number, true),
    field("p99_latency", Kind::Number, true),
    field("tokens_per_second", Kind::Number, true),
    field("samples_per_second", Kind::Number, true),
    field("peak_memory_mb", Kind::Number, false),
    field("allocated_memory_mb", Kind::Number, false),
    field("avg_gpu_power_w", Kind::Number, false),
    field("max_gpu_power_w", Kind::Number, false),
    // Ours.
    field("task_type", Kind::Text, false),
    field("device", Kind::Text, false),
    field("dtype", Kind::Text, false),
    field("num_threads", Kind::Count, false),
    field("p50_latency", Kind::Number, false),
    field("p90_latency", Kind::Number, false),
    field("p999_latency", Kind::Number, false),
    field("median_ci_low", Kind::Number, false),
    field("median_ci_high", Kind::Number, false),
    field("p99_ci_low", Kind::Number, false),
    field("p99_ci_high", Kind::Number, false),
    field("iqr_latency", Kind::Number, false),
    field("outliers_mild", Kind::Count, false),
    field("outliers_severe", Kind::Count, false),
    field("unsupported_percentiles", Kind::Text, false),
    field("first_latency", Kind::Number, false),
    field("warmup_mean_latency", Kind::Number, false),
    field("real_tokens_per_second", Kind::Number, false),
    field("padding_fraction", Kind::Number, false),
    field("memory_kind", Kind::Text, false),
    field("energy_j_per_sample", Kind::Number, false),
    field("energy_source", Kind::Text, false),
    field("gflops_per_forward", Kind::Number, false),
    field("achieved_tflops", Kind::Number, false),
    field("num_parameters", Kind::Count, false),
    field("warmup_batches", Kind::Count, false),
    field("measure_batches", Kind::Count, false),
    field("time_boundary", Kind::Text, false),
    field("inputs", Kind::Text, false),
    field("tool_version", Kind::Text, false),
    field("libtorch_version", Kind::Text, false),
    field("device_name", Kind::Text, false),
    field("driver_version", Kind::Text, false),
    field("cpu_model", Kind::Text, false),
    field("host_name", Kind::Text, false),
    field("timestamp", Kind::Text, false),
    field("seed", Kind::Count, false),
    field("energy_j_per_batch", Kind::Number, false),
    field("telemetry_window_s", Kind::Number, false),
    field("throttled_fraction", Kind::Number, false),
    field("sm_clock_min_mhz", Kind::Count, false),
    field("sm_clock_max_mhz", Kind::Count, false),
    field("input_memory_mb", Kind::Number, false),
    field("steady_state", Kind::Text, false),
    field("job_id", Kind::Text, false),
    field("plan_hash", Kind::Text, false),
    field("order", Kind::Text, false),
    field("rounds", Kind::Count, false),
    field("block_batches", Kind::Count, false),
    field("repeat_index", Kind::Count, false),
    field("repeats", Kind::Count, false),
    field("process_to_built_s", Kind::Number, false),
    field("warnings", Kind::Text, false),
];

/// The JSON-only key holding the raw per-iteration latencies.
pub const LATENCIES_FIELD: &str = "latencies_ms";

/// The JSON-only key holding an interleaved run's round values (the mean of each round's block).
pub const ROUND_LATENCIES_FIELD: &str = "round_latencies_ms";

/// The JSON-only key holding the warm-up latencies, in order (the first is the cold call).
pub const WARMUP_LATENCIES_FIELD: &str = "warmup_latencies_ms";

/// One results record. Latencies are milliseconds per batch; memory is MiB (the Python tool's
/// "MB", 2^20 bytes); power is watts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResultRow {
    /// The config entry's `name`.
    pub model_name: String,
    /// The config entry's `model_type` (`flex_bert`, `modern_bert`, `mosaic_bert`, `hf_bert`, ...).
    pub model_type: String,
    /// Sequences per batch.
    pub batch_size: u64,
    /// Tokens per sequence, padding included.
    pub sequence_length: u64,
    /// The `--num-samples` setting (synthetic samples available).
    pub num_samples: u64,
    /// Mean latency per batch, ms.
    pub mean_latency: f64,
    /// Median latency, ms.
    pub median_latency: f64,
    /// Sample standard deviation (n − 1) of the latency, ms.
    pub std_latency: f64,
    /// Smallest latency, ms.
    pub min_latency: f64,
    /// Largest latency, ms.
    pub max_latency: f64,
    /// 95th percentile (numpy linear), ms.
    pub p95_latency: f64,
    /// 99th percentile (numpy linear), ms.
    pub p99_latency: f64,
    /// batch_size × sequence_length / mean latency in seconds (padding counted).
    pub tokens_per_second: f64,
    /// batch_size / mean latency in seconds.
    pub samples_per_second: f64,
    /// Peak memory during the measured batches, MiB. On a GPU (`memory_kind device`): the CUDA
    /// allocator's peak, as `torch.cuda.max_memory_allocated` in a loop that holds one batch:
    /// weights, one batch's inputs and the activations; the other staged input batches are left
    /// out (they are `input_memory_mb`), with or without `--include-transfer`. On the CPU
    /// (`memory_kind host`): the model's resident footprint (after its build over before) plus
    /// the growth of the resident set at its peak during this record's warm-up and measured
    /// batches. The
    /// Python tool wrote 0.0 on CPU.
    pub peak_memory_mb: Option<f64>,
    /// CUDA allocator bytes held after measuring, staged inputs left out (weights and the model's
    /// buffers), MiB; empty on the CPU.
    pub allocated_memory_mb: Option<f64>,
    /// Average GPU power over the measured window, W.
    pub avg_gpu_power_w: Option<f64>,
    /// Maximum GPU power over the measured window, W.
    pub max_gpu_power_w: Option<f64>,
    /// `classification`, `mlm` or `embedding`.
    pub task_type: Option<String>,
    /// The device measured, e.g. `cpu` or `cuda:0`.
    pub device: Option<String>,
    /// `fp32`, `fp16` or `bf16`.
    pub dtype: Option<String>,
    /// CPU intra-op threads.
    pub num_threads: Option<u64>,
    /// 50th percentile, ms.
    pub p50_latency: Option<f64>,
    /// 90th percentile, ms.
    pub p90_latency: Option<f64>,
    /// 99.9th percentile, ms.
    pub p999_latency: Option<f64>,
    /// Lower 95% bound of the median, ms.
    pub median_ci_low: Option<f64>,
    /// Upper 95% bound of the median, ms.
    pub median_ci_high: Option<f64>,
    /// Lower 95% bound of p99, ms.
    pub p99_ci_low: Option<f64>,
    /// Upper 95% bound of p99, ms (empty below 368 samples).
    pub p99_ci_high: Option<f64>,
    /// Interquartile range, ms.
    pub iqr_latency: Option<f64>,
    /// Tukey mild outliers (both sides).
    pub outliers_mild: Option<u64>,
    /// Tukey severe outliers (both sides).
    pub outliers_severe: Option<u64>,
    /// Percentiles with too few samples behind them, `;`-separated (e.g. `p99;p999`).
    pub unsupported_percentiles: Option<String>,
    /// The first warm-up call (cold), ms.
    pub first_latency: Option<f64>,
    /// Mean of the warm-up calls, ms.
    pub warmup_mean_latency: Option<f64>,
    /// Non-padding tokens per second.
    pub real_tokens_per_second: Option<f64>,
    /// Fraction of padding tokens in the measured batches.
    pub padding_fraction: Option<f64>,
    /// `device` (CUDA allocator) or `host` (process resident set) for the memory columns.
    pub memory_kind: Option<String>,
    /// GPU energy per sequence (one row of a batch) over the measured batches, J. Files written
    /// before `energy_j_per_batch` existed stored joules per batch here; reading converts them.
    pub energy_j_per_sample: Option<f64>,
    /// Where the energy came from: `counter` or `integrated`.
    pub energy_source: Option<String>,
    /// Floating-point operations of one forward pass, GFLOP.
    pub gflops_per_forward: Option<f64>,
    /// Achieved TFLOP/s at the mean latency.
    pub achieved_tflops: Option<f64>,
    /// Parameters of the model.
    pub num_parameters: Option<u64>,
    /// Warm-up batches run.
    pub warmup_batches: Option<u64>,
    /// Batches measured.
    pub measure_batches: Option<u64>,
    /// What the timer covered, e.g. `forward` or `forward+transfer`.
    pub time_boundary: Option<String>,
    /// Where the token ids came from: `full`, `uniform:MIN..MAX`, `fill:RATIO`, `file:PATH` or
    /// `text:PATH` (absent: `full`, the Python tool's inputs).
    pub inputs: Option<String>,
    /// bert-latency's version.
    pub tool_version: Option<String>,
    /// libtorch's version.
    pub libtorch_version: Option<String>,
    /// GPU or CPU name.
    pub device_name: Option<String>,
    /// GPU driver version.
    pub driver_version: Option<String>,
    /// CPU model.
    pub cpu_model: Option<String>,
    /// Host name.
    pub host_name: Option<String>,
    /// When the record was measured (RFC 3339, UTC).
    pub timestamp: Option<String>,
    /// Seed of the random weights and inputs.
    pub seed: Option<u64>,
    /// GPU energy per batch over the measured batches, J.
    pub energy_j_per_batch: Option<f64>,
    /// Length of the telemetry window (the measured batches), s.
    pub telemetry_window_s: Option<f64>,
    /// Fraction of the window's telemetry samples in which a limiting throttle reason was set.
    pub throttled_fraction: Option<f64>,
    /// Lowest SM clock seen in the window, MHz.
    pub sm_clock_min_mhz: Option<u64>,
    /// Highest SM clock seen in the window, MHz.
    pub sm_clock_max_mhz: Option<u64>,
    /// Bytes of the input batches staged on the device before timing, MiB (0 with
    /// `--include-transfer`, whose inputs stay on the host); not part of `peak_memory_mb`.
    pub input_memory_mb: Option<f64>,
    /// With `--steady-state`: whether warm-up reached steady state (`reached`) or stopped at its
    /// time limit first (`not reached`); empty when not asked for.
    pub steady_state: Option<String>,
    /// The plan's id of the job this record measured (a hash of what was measured).
    pub job_id: Option<String>,
    /// The hash of the plan the job belonged to.
    pub plan_hash: Option<String>,
    /// How the jobs were ordered: `sequential` (one after another, in plan order), `random`
    /// (one after another, shuffled by the seed) or `interleaved` (the models of a shape in
    /// alternating rounds); absent: sequential.
    pub order: Option<String>,
    /// Interleaved: the rounds run.
    pub rounds: Option<u64>,
    /// Interleaved: batches of this model per round.
    pub block_batches: Option<u64>,
    /// With `--repeat K`: which run (process) of the K this record comes from, 1-based.
    pub repeat_index: Option<u64>,
    /// With `--repeat K`: K.
    pub repeats: Option<u64>,
    /// Cold start, on the first job of a process only: seconds from the process's start to this
    /// model built and its inputs staged (the first forward is `first_latency`).
    pub process_to_built_s: Option<f64>,
    /// What the run warned about this record, `; `-separated (e.g. an interleaved shape that ran
    /// sequentially because its models did not fit in memory together).
    pub warnings: Option<String>,
    /// Raw per-iteration latencies, ms (JSON only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latencies_ms: Option<Vec<f64>>,
    /// Interleaved: the mean latency of this model's block in each round, in round order, ms
    /// (JSON only); paired with another model's of the same rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_latencies_ms: Option<Vec<f64>>,
    /// The warm-up latencies, ms, in order: the first is the cold call (JSON only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_latencies_ms: Option<Vec<f64>>,
}

/// The part of a record that says what was measured: model and shape. Two records with the same
/// key measure the same thing (e.g. in a baseline and a new run).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RecordKey {
    /// Model name.
    pub model_name: String,
    /// The shape group.
    pub shape: Shape,
}

impl RecordKey {
    /// The same key on any machine (see [`Shape::without_machine`]).
    pub fn without_machine(self) -> Self {
        Self {
            shape: self.shape.without_machine(),
            ..self
        }
    }
}

/// The group within which records are comparable: batch size, sequence length, device, dtype,
/// inputs, what the timer covered, and the machine (unless grouping ignores it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Shape {
    /// Sequences per batch.
    pub batch_size: u64,
    /// Tokens per sequence.
    pub sequence_length: u64,
    /// Device, or `unknown` for Python tool files.
    pub device: String,
    /// Dtype, or `unknown` for Python tool files.
    pub dtype: String,
    /// Input distribution (`full` when not recorded).
    pub inputs: String,
    /// What the timer covered (`forward` when not recorded).
    pub time_boundary: String,
    /// The machine; `None` when records of every machine are grouped together (e.g.
    /// `analyze-latency --ignore-machine`).
    pub machine: Option<Machine>,
}

impl Shape {
    /// The same shape on any machine: two machines' `cuda:0` records become one group.
    pub fn without_machine(self) -> Self {
        Self {
            machine: None,
            ..self
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "batch {} x seq {}, {}, {}",
            self.batch_size, self.sequence_length, self.device, self.dtype
        )?;
        if self.inputs != "full" {
            write!(f, ", inputs {}", self.inputs)?;
        }
        if self.time_boundary != "forward" {
            write!(f, ", timed {}", self.time_boundary)?;
        }
        if let Some(machine) = &self.machine {
            write!(f, ", {machine}")?;
        }
        Ok(())
    }
}

/// The machine a record was measured on: its `device_name` (GPU or CPU model), `host_name` and
/// `num_threads`. Records without any of them (the Python tool's) share one unknown machine.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Machine {
    /// GPU or CPU model.
    pub device_name: Option<String>,
    /// Host name.
    pub host_name: Option<String>,
    /// CPU intra-op threads.
    pub num_threads: Option<u64>,
}

impl Machine {
    /// Whether no identity was recorded (a Python tool file).
    pub fn is_unknown(&self) -> bool {
        self.device_name.is_none() && self.host_name.is_none() && self.num_threads.is_none()
    }
}

impl std::fmt::Display for Machine {
    /// `NVIDIA H100 80GB HBM3 on node-3, 8 threads`; `unknown machine` when nothing was recorded.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unknown() {
            return f.write_str("unknown machine");
        }
        f.write_str(self.device_name.as_deref().unwrap_or("unknown device"))?;
        if let Some(host) = &self.host_name {
            write!(f, " on {host}")?;
        }
        match self.num_threads {
            Some(1) => f.write_str(", 1 thread"),
            Some(n) => write!(f, ", {n} threads"),
            None => Ok(()),
        }
    }
}

impl ResultRow {
    /// The shape group of this record, machine included.
    pub fn shape(&self) -> Shape {
        Shape {
            batch_size: self.batch_size,
            sequence_length: self.sequence_length,
            device: self.device.clone().unwrap_or_else(|| "unknown".to_owned()),
            dtype: self.dtype.clone().unwrap_or_else(|| "unknown".to_owned()),
            inputs: self.inputs.clone().unwrap_or_else(|| "full".to_owned()),
            time_boundary: self
                .time_boundary
                .clone()
                .unwrap_or_else(|| "forward".to_owned()),
            machine: Some(self.machine()),
        }
    }

    /// The group this record is ranked and compared in: its shape, without the machine when
    /// `ignore_machine`.
    pub fn group(&self, ignore_machine: bool) -> Shape {
        let shape = self.shape();
        if ignore_machine {
            shape.without_machine()
        } else {
            shape
        }
    }

    /// The machine this record was measured on.
    pub fn machine(&self) -> Machine {
        Machine {
            device_name: self.device_name.clone(),
            host_name: self.host_name.clone(),
            num_threads: self.num_threads,
        }
    }

    /// Model name plus shape, machine included.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            model_name: self.model_name.clone(),
            shape: self.shape(),
        }
    }

    /// Peak memory usable for ranking: `None` when absent, or 0 in a Python tool file (which
    /// wrote 0.0 on CPU, meaning "not measured").
    pub fn ranked_memory_mb(&self) -> Option<f64> {
        self.peak_memory_mb.filter(|&mb| mb > 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_list_matches_the_struct_in_order() {
        // serde writes struct fields in declaration order; find each key's position in the text.
        let text = serde_json::to_string(&ResultRow::default()).unwrap();
        let keys: Vec<&str> = text
            .split('"')
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[1].starts_with(':'))
            .map(|w| w[0])
            .collect();
        let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(keys, names);
    }

    #[test]
    fn the_first_18_fields_are_the_python_tools() {
        let python = "model_name, model_type, batch_size, sequence_length, num_samples, mean_latency, \
            median_latency, std_latency, min_latency, max_latency, p95_latency, p99_latency, \
            tokens_per_second, samples_per_second, peak_memory_mb, allocated_memory_mb, \
            avg_gpu_power_w, max_gpu_power_w";
        let ours: Vec<&str> = FIELDS[..LEGACY_FIELD_COUNT]
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(
            ours.join(", "),
            python.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
}
