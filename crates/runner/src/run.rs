//! The runner: takes a [`Plan`] and yields one measured job at a time.
//!
//! For each job, in plan order: build the model (once for consecutive jobs of the same model),
//! make and check the input batches, stage them on the device, warm up, then measure with the
//! device's fence around every batch. At the measured phase's start the allocator peak (GPU) or the
//! process's peak resident set (CPU) is reset and the telemetry sampler starts; right after the
//! last measured batch the sampler stops. The model's outputs are freed after each batch's clock
//! stops. [`report::record::Measured::into_row`] turns what was measured into the record.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use gpu_telemetry::host::{
    HostInfo, HostMemoryBaseline, PeakReset, process_memory, reset_peak_rss, trim_heap,
};
use gpu_telemetry::{EnergySource, Sampler, SamplerConfig, TelemetryWindow};
use model_zoo::{Batch, BuildOptions, InputGenerator, LibtorchInfo, Model};
use report::ResultRow;
use report::record::{JobFacts, MachineFacts, Measured, Memory, MemoryKind, Rounds, Telemetry};
use timing_core::{Harness, InterleaveConfig, Interleaver, Phase, Progress};

use crate::device::Device;
use crate::plan::{Plan, PlannedJob, TimeBoundary};

/// Distinct batches generated per job; longer runs cycle through them.
pub const MAX_DISTINCT_BATCHES: usize = 256;

/// Where a job is, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Building the model (weights or checkpoint).
    Build,
    /// Making, checking and staging the input batches.
    Inputs,
    /// Warming up.
    Warmup,
    /// Measuring.
    Measure,
}

/// Receives what the runner does, as it does it. Every method has a no-op default.
pub trait Observer {
    /// A job entered a stage.
    fn stage(&self, _job: &PlannedJob, _stage: Stage) {}
    /// A batch of the current phase finished; `target` is the phase's fixed count, if any.
    fn progress(&self, _progress: Progress, _target: Option<u64>) {}
    /// Something the user should know about a job or the run (printed and kept for the end).
    fn warning(&self, _text: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {}

/// Where a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedStage {
    /// Building the model.
    Build,
    /// Making or checking the inputs.
    Inputs,
    /// A forward pass (e.g. out of memory).
    Forward,
    /// Assembling the record.
    Record,
}

impl FailedStage {
    /// `build`, `inputs`, `forward` or `record`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Build => "build",
            Self::Inputs => "inputs",
            Self::Forward => "forward",
            Self::Record => "record",
        }
    }
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Measured: its record.
    Measured(Box<ResultRow>),
    /// Failed: where and why; the run goes on with the next job.
    Failed {
        /// Where.
        stage: FailedStage,
        /// Why, with libtorch's or the file's message.
        cause: String,
    },
    /// Stopped by the interrupt flag; the runner yields nothing after it.
    Interrupted,
}

/// One job and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobResult<'p> {
    /// The job.
    pub job: &'p PlannedJob,
    /// What became of it.
    pub outcome: Outcome,
}

/// How the runner runs.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// How the GPU telemetry sampler samples (its `min_energy_window` decides when a window is
    /// long enough for the energy counter; shorter windows record no energy).
    pub sampler: SamplerConfig,
    /// Set (e.g. by a Ctrl-C handler) to stop at the next batch.
    pub interrupt: Arc<AtomicBool>,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            sampler: SamplerConfig::default(),
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The model of the jobs being run, built once for consecutive jobs of the same entry.
struct Loaded {
    name: String,
    model: Result<(Model, InputGenerator), (FailedStage, String)>,
    /// The resident set the model added by being built (CPU runs): the resident set after the
    /// build over the one before it, in bytes.
    footprint: Option<u64>,
}

/// Runs a plan's jobs on a device, one per [`Iterator::next`]. The results borrow the plan
/// (`'p`); the device and observer need only outlive the runner (`'r`).
pub struct Runner<'p, 'r> {
    plan: &'p Plan,
    device: &'r dyn Device,
    observer: &'r dyn Observer,
    options: RunnerOptions,
    machine: MachineFacts,
    next: usize,
    loaded: Option<Loaded>,
    stopped: bool,
    /// Results of an interleaved shape, handed out one by one.
    pending: std::collections::VecDeque<JobResult<'p>>,
    /// Whether a model was built yet in this runner (the first is the process's cold start).
    built_any: bool,
    /// The first model built: its name and the process's age then, s; taken by its first record.
    cold_start: Option<(String, f64)>,
    /// A warning for every record of the jobs now running (an interleaved shape that runs one
    /// model after another).
    group_warning: Option<String>,
}

/// Headroom over the weights' bytes when checking that an interleaved shape's models fit in
/// memory together: activations, staged inputs and allocator slack.
const INTERLEAVE_HEADROOM: f64 = 1.2;

impl<'p, 'r> Runner<'p, 'r> {
    /// A runner of `plan` on `device`, telling `observer` what it does. Reads the host facts,
    /// libtorch's version and the device's identity once; warns when GPU telemetry or memory
    /// cannot be recorded.
    pub fn new(
        plan: &'p Plan,
        device: &'r dyn Device,
        observer: &'r dyn Observer,
        options: RunnerOptions,
    ) -> Self {
        let host = HostInfo::collect();
        let identity = device.identity();
        if let Some(first) = plan.jobs().first() {
            warm_up_runtime(device, first.job.dtype);
        }
        if device.is_gpu() {
            if let Some(reason) = &identity.unavailable {
                observer.warning(&format!(
                    "power, energy, GPU name and driver are not recorded: {reason}"
                ));
            }
            if let Err(reason) = device.memory() {
                observer.warning(&format!("GPU memory is not recorded: {reason}"));
            }
        }
        let machine = MachineFacts {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            libtorch_version: Some(LibtorchInfo::detect().version),
            device_name: if device.is_gpu() {
                identity.device_name
            } else {
                host.cpu_model.clone()
            },
            driver_version: identity.driver_version,
            cpu_model: host.cpu_model,
            host_name: host.host_name,
            num_threads: Some(u64::from(model_zoo::threads())),
        };
        Self {
            plan,
            device,
            observer,
            options,
            machine,
            next: 0,
            loaded: None,
            stopped: false,
            pending: std::collections::VecDeque::new(),
            built_any: false,
            cold_start: None,
            group_warning: None,
        }
    }

    /// The machine and software facts every record carries.
    pub fn machine(&self) -> &MachineFacts {
        &self.machine
    }

    fn interrupted(&self) -> bool {
        self.options.interrupt.load(Ordering::SeqCst)
    }

    /// Builds the job's model unless it is the one already loaded.
    fn load(&mut self, job: &PlannedJob) {
        if self
            .loaded
            .as_ref()
            .is_some_and(|l| l.name == job.job.model.name)
        {
            return;
        }
        // Free the previous model before building the next, and its cached blocks, so that
        // neither counts toward the new one's memory.
        self.loaded = None;
        if self.device.is_gpu() {
            self.device.release_cached_memory();
        }
        let baseline = (!self.device.is_gpu())
            .then(HostMemoryBaseline::capture)
            .and_then(Result::ok);
        self.observer.stage(job, Stage::Build);
        let options = BuildOptions {
            device: self.device.torch(),
            kind: job.job.dtype.kind(),
            seed: job.job.seed,
            max_len: i64::from(self.plan.longest_sequence()),
        };
        let built = model_zoo::build(&job.job.model, &options);
        self.note_cold_start(&job.job.model.name);
        let footprint = baseline
            .and_then(|b| b.finish().ok())
            .map(|m| m.rss_bytes.saturating_sub(m.baseline_rss_bytes));
        let model = built
            .map_err(|e| (FailedStage::Build, e.to_string()))
            .and_then(|model| {
                for warning in model.warnings() {
                    self.observer.warning(warning);
                }
                let generator = job
                    .job
                    .inputs
                    .generator(job.job.seed, model.dims().vocab)
                    .map_err(|e| (FailedStage::Inputs, e.to_string()))?;
                Ok((model, generator))
            });
        self.loaded = Some(Loaded {
            name: job.job.model.name.clone(),
            model,
            footprint,
        });
    }

    fn run_job(&mut self, job: &PlannedJob) -> Outcome {
        self.load(job);
        let Some(loaded) = self.loaded.as_ref() else {
            return Outcome::Failed {
                stage: FailedStage::Build,
                cause: "the model was not loaded".to_owned(),
            };
        };
        let (model, generator) = match &loaded.model {
            Ok(loaded) => loaded,
            Err((stage, cause)) => {
                return Outcome::Failed {
                    stage: *stage,
                    cause: cause.clone(),
                };
            }
        };
        let measure = JobRun {
            job,
            device: self.device,
            observer: self.observer,
            options: &self.options,
            model,
            generator,
            footprint: loaded.footprint,
        };
        match measure.run() {
            Ok(measured) => self.record(measured),
            Err(JobError::Interrupted) => Outcome::Interrupted,
            Err(JobError::Failed(stage, cause)) => Outcome::Failed { stage, cause },
        }
    }

    /// Remembers the process's age when its first model is built (the cold start).
    fn note_cold_start(&mut self, model: &str) {
        if !self.built_any {
            self.built_any = true;
            self.cold_start =
                gpu_telemetry::host::process_age().map(|age| (model.to_owned(), age.as_secs_f64()));
        }
    }

    /// Why the models of an interleaved shape cannot be measured together, when their weights
    /// (with [`INTERLEAVE_HEADROOM`]) exceed the device's available memory; `None` when they fit
    /// or either side is unknown (a model that cannot be described fails when it is built).
    fn interleave_misfit(&mut self, group: &[PlannedJob]) -> Option<String> {
        // The model of the previous job is freed first, as the interleaved run does.
        self.loaded = None;
        if self.device.is_gpu() {
            self.device.release_cached_memory();
        }
        let available = self.device.available_memory()?;
        let weights = group
            .iter()
            .map(|job| crate::inspect::weight_bytes(job, self.device).ok())
            .sum::<Option<u64>>()?;
        let need = weights as f64 * INTERLEAVE_HEADROOM;
        let mib = |b: f64| b / f64::from(1u32 << 20);
        let first = &group.first()?.job;
        (need > available as f64).then(|| {
            format!(
                "batch {} x seq {}: the {} models need about {:.0} MiB together (weights + 20%), \
                 more than the {:.0} MiB available on {}: measured one after another \
                 (sequential) instead of interleaved",
                first.batch_size,
                first.sequence_length,
                group.len(),
                mib(need),
                mib(available as f64),
                self.device.name()
            )
        })
    }

    /// The record of a measured job, with the machine and the plan's hash.
    fn record(&mut self, measured: Measured) -> Outcome {
        let mut measured = measured;
        if measured.process_to_built_s.is_none()
            && self
                .cold_start
                .as_ref()
                .is_some_and(|(model, _)| *model == measured.job.model_name)
        {
            measured.process_to_built_s = self.cold_start.take().map(|(_, s)| s);
        }
        if let Some(warning) = &self.group_warning {
            measured.warnings.push(warning.clone());
        }
        let measured = Measured {
            machine: self.machine.clone(),
            job: JobFacts {
                plan_hash: Some(self.plan.hash().to_owned()),
                ..measured.job
            },
            ..measured
        };
        match measured.into_row() {
            Ok(row) => Outcome::Measured(Box::new(row)),
            Err(e) => Outcome::Failed {
                stage: FailedStage::Record,
                cause: e.to_string(),
            },
        }
    }

    /// Runs the jobs of one shape (all models, `--order interleaved`) in alternating rounds: each
    /// model is built and its inputs staged, then the [`Interleaver`] warms each up and runs
    /// `ceil(measure_batches / block)` rounds. Memory and telemetry are not recorded: they would
    /// mix the models of a round.
    fn run_group(&mut self, group: &[PlannedJob]) -> Vec<Outcome> {
        self.loaded = None;
        if self.device.is_gpu() {
            self.device.release_cached_memory();
        }
        let mut ready: Vec<(usize, Model, InputGenerator, Vec<Batch>)> = Vec::new();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; group.len()];
        for (i, job) in group.iter().enumerate() {
            self.observer.stage(job, Stage::Build);
            let prepared = self.prepare(job);
            self.note_cold_start(&job.job.model.name);
            match prepared {
                Ok((model, generator, batches)) => ready.push((i, model, generator, batches)),
                Err((stage, cause)) => outcomes[i] = Some(Outcome::Failed { stage, cause }),
            }
        }
        if let Some(first) = group.first() {
            self.observer.warning(&format!(
                "batch {} x seq {}: interleaved, so memory, power and energy are not recorded \
                 per model",
                first.job.batch_size, first.job.sequence_length
            ));
        }
        let Some(&(first, ..)) = ready.first() else {
            return outcomes.into_iter().flatten().collect();
        };
        let sampling = &group[first].job.sampling;
        let block = match sampling.order {
            crate::plan::Order::Interleaved { block } => block.max(1),
            crate::plan::Order::Sequential | crate::plan::Order::Random => 1,
        };
        let config = InterleaveConfig {
            warmup_batches: sampling.warmup_batches as usize,
            rounds: sampling.measure_batches.max(1).div_ceil(block) as usize,
            block: block as usize,
            seed: group[first].job.seed,
        };
        self.observer.stage(&group[first], Stage::Measure);
        let interrupt = &self.options.interrupt;
        let counters: Vec<std::cell::Cell<usize>> =
            ready.iter().map(|_| std::cell::Cell::new(0)).collect();
        let mut routines: Vec<Box<dyn FnMut() -> Result<model_zoo::tch::Tensor, JobError> + '_>> =
            ready
                .iter()
                .zip(&counters)
                .map(|((_, model, _, batches), next)| {
                    Box::new(move || {
                        if interrupt.load(Ordering::SeqCst) {
                            return Err(JobError::Interrupted);
                        }
                        let b = &batches[next.get() % batches.len()];
                        next.set(next.get() + 1);
                        model
                            .run_batch(b)
                            .map_err(|e| JobError::Failed(FailedStage::Forward, e.to_string()))
                    })
                        as Box<dyn FnMut() -> Result<model_zoo::tch::Tensor, JobError> + '_>
                })
                .collect();
        let mut refs: Vec<&mut dyn FnMut() -> Result<model_zoo::tch::Tensor, JobError>> =
            routines.iter_mut().map(|r| &mut **r as _).collect();
        let device = self.device;
        let rounds = Interleaver::new(config)
            .map_err(|e| JobError::Failed(FailedStage::Inputs, e.to_string()))
            .and_then(|i| i.with_fence(|| device.fence()).try_run(&mut refs));
        drop(refs);
        drop(routines);
        match rounds {
            Ok(results) => {
                for ((i, model, generator, batches), result) in ready.iter().zip(results) {
                    let (real_tokens, padded_tokens) =
                        token_counts(batches, result.warmup.len(), result.samples.len());
                    let m = Measured {
                        samples_ms: result.samples_ms(),
                        warmup_ms: result
                            .warmup
                            .iter()
                            .map(|d| d.as_secs_f64() * 1e3)
                            .collect(),
                        real_tokens,
                        padded_tokens,
                        interleaved: Some(Rounds {
                            block_batches: u64::from(block),
                            round_latencies_ms: result.round_means_ms(),
                        }),
                        warnings: vec![
                            "interleaved: memory, power and energy are not recorded per model"
                                .to_owned(),
                        ],
                        ..measured(&group[*i], model, generator)
                    };
                    outcomes[*i] = Some(self.record(m));
                }
            }
            Err(JobError::Interrupted) => {
                for (i, ..) in &ready {
                    outcomes[*i] = Some(Outcome::Interrupted);
                }
            }
            Err(JobError::Failed(stage, cause)) => {
                for (i, ..) in &ready {
                    outcomes[*i] = Some(Outcome::Failed {
                        stage,
                        cause: cause.clone(),
                    });
                }
            }
        }
        outcomes.into_iter().flatten().collect()
    }

    /// Builds a job's model and stages its checked input batches.
    fn prepare(
        &self,
        job: &PlannedJob,
    ) -> Result<(Model, InputGenerator, Vec<Batch>), (FailedStage, String)> {
        let j = &job.job;
        let options = BuildOptions {
            device: self.device.torch(),
            kind: j.dtype.kind(),
            seed: j.seed,
            max_len: i64::from(self.plan.longest_sequence()),
        };
        let model = model_zoo::build(&j.model, &options)
            .map_err(|e| (FailedStage::Build, e.to_string()))?;
        let inputs = |e: model_zoo::Error| (FailedStage::Inputs, e.to_string());
        let generator = j
            .inputs
            .generator(j.seed, model.dims().vocab)
            .map_err(inputs)?;
        let count = (j.sampling.measure_batches as usize).clamp(1, MAX_DISTINCT_BATCHES);
        let batches = generator
            .batches(j.batch_size, j.sequence_length, count)
            .map_err(inputs)?;
        for b in &batches {
            model
                .check_inputs(&b.input_ids, &b.attention_mask)
                .map_err(inputs)?;
        }
        let batches = if j.time_boundary == TimeBoundary::Forward {
            batches.iter().map(|b| self.device.stage(b)).collect()
        } else {
            batches
        };
        Ok((model, generator, batches))
    }
}

impl<'p> Iterator for Runner<'p, '_> {
    type Item = JobResult<'p>;

    fn next(&mut self) -> Option<JobResult<'p>> {
        if let Some(result) = self.pending.pop_front() {
            return Some(result);
        }
        if self.stopped {
            return None;
        }
        let plan = self.plan;
        let job = plan.jobs().get(self.next)?;
        if matches!(
            job.job.sampling.order,
            crate::plan::Order::Interleaved { .. }
        ) && !self.interrupted()
        {
            let key = crate::shard::group_key(&job.job);
            let size = plan.jobs()[self.next..]
                .iter()
                .take_while(|j| crate::shard::group_key(&j.job) == key)
                .count();
            let group = &plan.jobs()[self.next..self.next + size];
            self.next += size;
            if let Some(reason) = self.interleave_misfit(group) {
                self.observer.warning(&reason);
                self.group_warning = Some(reason);
                for job in group {
                    let outcome = if self.interrupted() {
                        Outcome::Interrupted
                    } else {
                        self.run_job(job)
                    };
                    self.stopped |= outcome == Outcome::Interrupted;
                    self.pending.push_back(JobResult { job, outcome });
                    if self.stopped {
                        break;
                    }
                }
                self.group_warning = None;
                return self.pending.pop_front();
            }
            for (job, outcome) in group.iter().zip(self.run_group(group)) {
                self.stopped |= outcome == Outcome::Interrupted;
                self.pending.push_back(JobResult { job, outcome });
            }
            return self.pending.pop_front();
        }
        self.next += 1;
        let outcome = if self.interrupted() {
            Outcome::Interrupted
        } else {
            self.run_job(job)
        };
        if outcome == Outcome::Interrupted {
            self.stopped = true;
        }
        Some(JobResult { job, outcome })
    }
}

/// Real and padded tokens of the measured calls: call `warmup + i` ran batch
/// `(warmup + i) mod batches` (the batches are cycled from the first warm-up call on).
fn token_counts(batches: &[Batch], warmup: usize, measured: usize) -> (u64, u64) {
    (warmup..warmup + measured)
        .map(|call| &batches[call % batches.len()])
        .fold((0, 0), |(real, padded), b| {
            (real + b.real_tokens(), padded + b.padded_tokens())
        })
}

/// A job's record facts that do not depend on its measurement.
fn measured(job: &PlannedJob, model: &Model, generator: &InputGenerator) -> Measured {
    let j = &job.job;
    Measured {
        job: JobFacts {
            model_name: j.model.name.clone(),
            model_type: j.model.model_type.as_str().to_owned(),
            task_type: format!("{:?}", j.model.task_type).to_lowercase(),
            batch_size: u64::from(j.batch_size),
            sequence_length: u64::from(j.sequence_length),
            num_samples: u64::from(j.sampling.num_samples),
            device: j.device.clone(),
            dtype: j.dtype.as_str().to_owned(),
            inputs: generator.describe(),
            time_boundary: j.time_boundary.as_str().to_owned(),
            seed: j.seed,
            job_id: Some(job.id.clone()),
            plan_hash: None,
        },
        num_parameters: Some(model.num_parameters()),
        flops_per_forward: model.flops(i64::from(j.batch_size), i64::from(j.sequence_length)),
        // Interleaved is said by the rounds: a shape that fell back runs sequentially.
        order: match j.sampling.order {
            crate::plan::Order::Interleaved { .. } => None,
            order => Some(order.as_str().to_owned()),
        },
        timestamp: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        ..Measured::default()
    }
}

/// Runs a tiny model once: libtorch sets up thread pools, allocators and kernels (and on a GPU the
/// CUDA context) on first use, and that one-time memory must not be charged to whichever model of
/// the plan is built first; the C allocator is brought to its steady state too.
fn warm_up_runtime(device: &dyn Device, dtype: model_zoo::Dtype) {
    // glibc serves large blocks with mmap until the first one is freed, then raises its mmap
    // threshold (up to 32 MiB) and serves them from the heap: a long-running process's steady
    // state. Reach it now, so that the first model is not measured under other rules.
    drop(std::hint::black_box(vec![0u8; 32 << 20]));
    let entry = serde_json::from_value::<model_zoo::ModelEntry>(serde_json::json!({
        "name": "runtime warm-up", "model_type": "hf_bert", "task_type": "mlm",
        "model_config": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
                         "intermediate_size": 128, "vocab_size": 1024}
    }));
    let options = BuildOptions {
        device: device.torch(),
        kind: dtype.kind(),
        seed: 0,
        max_len: 128,
    };
    let Ok(model) = entry
        .map_err(|e| e.to_string())
        .and_then(|entry| model_zoo::build(&entry, &options).map_err(|e| e.to_string()))
    else {
        return;
    };
    if let Ok(mut batches) =
        InputGenerator::random(model_zoo::Lengths::Full, 0, 1024).and_then(|g| g.batches(8, 128, 1))
    {
        if let Some(batch) = batches.pop() {
            let _ = model.run_batch(&device.stage(&batch));
            device.fence();
        }
    }
}

enum JobError {
    Interrupted,
    Failed(FailedStage, String),
}

/// One job's measurement.
struct JobRun<'r> {
    job: &'r PlannedJob,
    device: &'r dyn Device,
    observer: &'r dyn Observer,
    options: &'r RunnerOptions,
    model: &'r Model,
    generator: &'r InputGenerator,
    footprint: Option<u64>,
}

/// Bytes the CUDA caching allocator holds for a batch's two int64 tensors: each rounded up to its
/// 512-byte block size.
pub fn batch_bytes(batch: &Batch) -> u64 {
    let bytes = |t: &model_zoo::tch::Tensor| {
        (t.size().iter().product::<i64>().max(0) as u64 * 8).next_multiple_of(512)
    };
    bytes(&batch.input_ids) + bytes(&batch.attention_mask)
}

impl JobRun<'_> {
    fn warn(&self, text: &str) {
        self.observer
            .warning(&format!("{}: {text}", self.job.job.label()));
    }

    fn run(&self) -> Result<Measured, JobError> {
        let job = &self.job.job;
        let fail = |stage: FailedStage| move |e: String| JobError::Failed(stage, e);
        self.observer.stage(self.job, Stage::Inputs);
        let sampling = &job.sampling;
        let count = (sampling.measure_batches as usize).clamp(1, MAX_DISTINCT_BATCHES);
        let host_batches = self
            .generator
            .batches(job.batch_size, job.sequence_length, count)
            .map_err(|e| e.to_string())
            .map_err(fail(FailedStage::Inputs))?;
        for b in &host_batches {
            self.model
                .check_inputs(&b.input_ids, &b.attention_mask)
                .map_err(|e| e.to_string())
                .map_err(fail(FailedStage::Inputs))?;
        }
        // Without --include-transfer the inputs are on the device before timing starts; with it
        // they stay on the host and the forward copies each batch inside the timed call.
        let staged = job.time_boundary == TimeBoundary::Forward;
        let batches: Vec<Batch> = if staged {
            host_batches.iter().map(|b| self.device.stage(b)).collect()
        } else {
            host_batches
        };
        let input_bytes: u64 = if staged {
            batches.iter().map(batch_bytes).sum()
        } else {
            0
        };
        let one_batch = if staged {
            batches.iter().map(batch_bytes).max().unwrap_or(0)
        } else {
            0
        };
        let config = sampling
            .harness_config()
            .map_err(|e| e.to_string())
            .map_err(fail(FailedStage::Inputs))?;
        let target = |phase: Phase| match phase {
            Phase::Warmup => Some(u64::from(sampling.warmup_batches)),
            Phase::Measure => sampling.fixed_count(),
        };
        let sampler: RefCell<Option<Sampler>> = RefCell::new(None);
        let host_start: std::cell::Cell<Option<u64>> = std::cell::Cell::new(None);
        let window: RefCell<Option<Result<TelemetryWindow, String>>> = RefCell::new(None);
        let gpu = self.device.is_gpu();
        let phase_start = |phase: Phase| {
            self.observer.stage(
                self.job,
                match phase {
                    Phase::Warmup => Stage::Warmup,
                    Phase::Measure => Stage::Measure,
                },
            );
            if phase == Phase::Warmup && !gpu {
                // Host memory: freed heap goes back to the system and the peak resident set
                // restarts here, before warm-up (not right before timing, where the first
                // measured batch would pay the page faults). This job's batches, warm-up and
                // measured, must fault in their working set from here, so what they add is
                // measured whatever an earlier job left resident or freed.
                trim_heap();
                if let PeakReset::NotReset { reason } = reset_peak_rss() {
                    self.warn(&format!(
                        "host memory is not recorded: the peak resident set could not be reset \
                         ({reason})"
                    ));
                    return;
                }
                host_start.set(process_memory().ok().map(|m| m.rss_bytes));
            }
            if phase != Phase::Measure || !gpu {
                return;
            }
            if let Err(e) = self.device.reset_peak_memory() {
                self.warn(&format!("the allocator's peak was not reset: {e}"));
            }
            // Without a reader there is no sampler; the reason was given when the runner
            // started.
            if let Ok(reader) = self.device.telemetry_reader() {
                match Sampler::start(reader, self.options.sampler) {
                    Ok(s) => *sampler.borrow_mut() = Some(s),
                    Err(e) => self.warn(&format!("power sampling did not start: {e}")),
                }
            }
        };
        let phase_end = |phase: Phase| {
            if phase == Phase::Measure {
                if let Some(mut s) = sampler.borrow_mut().take() {
                    *window.borrow_mut() = Some(s.stop().map_err(|e| e.to_string()));
                }
            }
        };
        let next = std::cell::Cell::new(0usize);
        let interrupt = &self.options.interrupt;
        let measurement = Harness::new(config)
            .map_err(|e| JobError::Failed(FailedStage::Inputs, e.to_string()))?
            .with_fence(|| self.device.fence())
            .with_progress(|p| self.observer.progress(p, target(p.phase)))
            .with_phase_start(phase_start)
            .with_phase_end(phase_end)
            .try_run(|| {
                if interrupt.load(Ordering::SeqCst) {
                    return Err(JobError::Interrupted);
                }
                let b = &batches[next.get() % batches.len()];
                next.set(next.get() + 1);
                self.model
                    .run_batch(b)
                    .map_err(|e| JobError::Failed(FailedStage::Forward, e.to_string()))
            })?;
        let memory = if gpu {
            match self.device.memory() {
                Ok(m) => Some(Memory {
                    kind: MemoryKind::Device,
                    // One batch's inputs are part of a forward's footprint; the other staged
                    // batches are not (a loop holding one batch would not have them).
                    peak_bytes: m
                        .peak_allocated
                        .saturating_sub(input_bytes)
                        .saturating_add(one_batch),
                    allocated_bytes: Some(m.allocated.saturating_sub(input_bytes)),
                    input_bytes: Some(input_bytes),
                }),
                Err(_) => None,
            }
        } else {
            // The model's resident footprint plus what this job's batches (warm-up and measured)
            // added at their peak.
            match (self.footprint, host_start.get(), process_memory()) {
                (Some(footprint), Some(start), Ok(now)) => Some(Memory {
                    kind: MemoryKind::Host,
                    peak_bytes: footprint + now.peak_rss_bytes.saturating_sub(start),
                    allocated_bytes: None,
                    input_bytes: None,
                }),
                _ => None,
            }
        };
        if measurement.target_met() == Some(false) {
            self.warn(&format!(
                "the median's interval did not narrow to the --target-ci width before --max-time \
                 ({} batches measured); raise --max-time or accept a wider interval",
                measurement.samples.len()
            ));
        }
        if measurement.warmup_steady == Some(false) {
            self.warn(&format!(
                "warm-up did not reach steady state in {:.1} s; the first measured batches may \
                 still be settling",
                measurement.warmup_elapsed.as_secs_f64()
            ));
        }
        let telemetry = match window.into_inner() {
            Some(Ok(window)) => Some(self.telemetry(&window)),
            Some(Err(e)) => {
                self.warn(&format!("power sampling failed: {e}"));
                None
            }
            None => None,
        };
        let (real_tokens, padded_tokens) = token_counts(
            &batches,
            measurement.warmup.len(),
            measurement.samples.len(),
        );
        Ok(Measured {
            samples_ms: measurement.samples_ms(),
            warmup_ms: measurement.warmup_ms(),
            steady_state: measurement.warmup_steady,
            real_tokens,
            padded_tokens,
            memory,
            telemetry,
            ..measured(self.job, self.model, self.generator)
        })
    }

    /// The record's view of a telemetry window: energy only from a window long enough for the
    /// counter (power readings are moving averages, so integrating them over a short window is
    /// not energy either); a warning otherwise.
    fn telemetry(&self, window: &TelemetryWindow) -> Telemetry {
        if let Some(warning) = window.throttle_warning() {
            self.warn(&warning);
        }
        let counter = window.window_long_enough
            && window.energy_source == Some(EnergySource::Counter)
            && window.energy_j.is_some();
        if !window.window_long_enough {
            self.warn(&format!(
                "energy is not recorded: the measured window of {:.2} s is shorter than the {:.2} \
                 s the energy counter needs; raise --measure-batches or use --min-time",
                window.duration.as_secs_f64(),
                window.min_energy_window.as_secs_f64()
            ));
        } else if !counter {
            let why: Vec<String> = window
                .missing
                .iter()
                .filter(|m| m.what.contains("energy"))
                .map(|m| m.reason.clone())
                .collect();
            self.warn(&format!(
                "energy is not recorded: the GPU's energy counter is unusable ({})",
                if why.is_empty() {
                    "not supported".to_owned()
                } else {
                    why.join("; ")
                }
            ));
        }
        Telemetry {
            avg_power_w: window.avg_power_w,
            max_power_w: window.max_power_w,
            energy_j: window.energy_j.filter(|_| counter),
            energy_source: counter.then_some("counter"),
            window_s: window.duration.as_secs_f64(),
            throttled_fraction: window.throttled_fraction,
            sm_clock_min_mhz: window.sm_clock_min_mhz,
            sm_clock_max_mhz: window.sm_clock_max_mhz,
        }
    }
}
