//! The bert-latency run as data, and the library that runs it.
//!
//! In the order data flows:
//!
//! 1. [`Settings`] (what the flags ask for) and the config's [`ModelEntry`](model_zoo::ModelEntry)s
//!    make a [`Plan`] ([`plan`]): an ordered list of [`Job`]s, each with a stable id (the SHA-256
//!    of its canonical JSON), and a plan hash. `--dry-run` prints the plan with [`inspect`]'s
//!    sizes and costs, so it shows exactly what a run would do.
//!    [`Plan::shard`] keeps one shard's jobs ([`shard`]: `--shard I/N`, or a Slurm array's or a
//!    Kubernetes Indexed Job's index), never splitting a comparison group.
//! 2. A [`Runner`] ([`run`]) takes the plan and a [`Device`] ([`device`]: [`CpuDevice`],
//!    [`CudaDevice`], or [`testing::FakeGpu`]) and yields one [`JobResult`] per job: its record or
//!    why it failed. An [`Observer`] hears about stages, progress and warnings.
//! 3. Records are assembled by `report::record` beside the schema.
//!
//! ```
//! use model_zoo::{Dtype, Lengths, ModelEntry};
//! use runner::{CpuDevice, Inputs, Outcome, Plan, Runner, RunnerOptions, Sampling, Settings, Silent};
//!
//! let entry: ModelEntry = serde_json::from_value(serde_json::json!({
//!     "name": "tiny", "model_type": "hf_bert",
//!     "model_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
//!                      "intermediate_size": 64, "vocab_size": 128}
//! }))?;
//! let settings = Settings {
//!     batch_sizes: vec![2], sequence_lengths: vec![16], dtype: Dtype::Fp32,
//!     device: "cpu".into(), threads: 1, inputs: Inputs::Random(Lengths::Full), seed: 0,
//!     include_transfer: false,
//!     sampling: Sampling { warmup_batches: 1, measure_batches: 3, ..Sampling::default() },
//! };
//! let plan = Plan::new(&[entry], &settings);
//! let results: Vec<_> = Runner::new(&plan, &CpuDevice, &Silent, RunnerOptions::default()).collect();
//! let Outcome::Measured(row) = &results[0].outcome else { panic!("{:?}", results[0].outcome) };
//! assert_eq!((row.batch_size, row.measure_batches), (2, Some(3)));
//! assert_eq!(row.job_id.as_deref(), Some(plan.jobs()[0].id.as_str()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod device;
mod error;
mod inspect;
pub mod plan;
pub mod run;
pub mod shard;
pub mod testing;

pub use crate::device::{
    AllocatorMemory, CpuDevice, CudaDevice, Device, GpuLink, Identity, open as open_device,
};
pub use crate::error::{Error, Result};
pub use crate::inspect::{JobCost, inspect};
pub use crate::plan::{
    Inputs, Job, Order, Plan, PlannedJob, Sampling, Settings, SteadyStateRule, TimeBoundary,
};
pub use crate::run::{
    FailedStage, JobResult, MAX_DISTINCT_BATCHES, Observer, Outcome, Runner, RunnerOptions, Silent,
    Stage,
};
pub use crate::shard::{
    ShardSpec, Strategy as ShardStrategy, assign as assign_shards, shard_from_env,
};
