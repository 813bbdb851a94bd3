//! The run as a value: [`Settings`] (what the flags ask for) × the config's models expand into a
//! [`Plan`], an ordered list of [`Job`]s, each with a stable [`Job::id`].
//!
//! A job's id is the SHA-256 of its canonical JSON (model entry, shape, dtype, device, inputs,
//! seed, time boundary, sampling settings), so the same job has the same id on every machine and in
//! every later run; the plan's hash covers the tool version and its job ids in order. The order of
//! the jobs is the order they run in: model by model, then batch size, then sequence length, as
//! the Python tool ran them.

use std::path::PathBuf;
use std::time::Duration;

use model_zoo::{Dtype, InputGenerator, Lengths, ModelEntry};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use timing_core::{Adaptive, HarnessConfig, Statistic, SteadyState, StopRule, Warmup};

/// Hex digits kept of a SHA-256 for job ids and plan hashes (64 bits: collisions are not a
/// concern for plans of any size a person runs).
const ID_HEX_DIGITS: usize = 16;

/// The longest warm-up spent waiting for steady state when `--warmup-time` does not say longer.
const STEADY_STATE_MAX_WARMUP: Duration = Duration::from_secs(60);

/// Where token ids come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Inputs {
    /// Seeded random ids whose rows follow a length distribution (`full`, `uniform:MIN..MAX`, ...).
    Random(#[serde(serialize_with = "as_text")] Lengths),
    /// Real text, one sample per non-blank line, through a HuggingFace `tokenizer.json`.
    Text {
        /// The text file.
        text_file: PathBuf,
        /// The tokenizer.
        tokenizer: PathBuf,
    },
}

fn as_text<S: Serializer>(lengths: &Lengths, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(lengths)
}

impl Inputs {
    /// The generator of these inputs for a model with `vocab` token ids, seeded with `seed`.
    ///
    /// # Errors
    /// An unreadable text or tokenizer file, or a vocabulary too small for random ids.
    pub fn generator(&self, seed: u64, vocab: i64) -> model_zoo::Result<InputGenerator> {
        match self {
            Self::Random(lengths) => InputGenerator::random(lengths.clone(), seed, vocab),
            Self::Text {
                text_file,
                tokenizer,
            } => InputGenerator::text(text_file, tokenizer, vocab),
        }
    }
}

/// What the timer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TimeBoundary {
    /// The forward pass only; inputs are on the device before the clock starts.
    #[serde(rename = "forward")]
    Forward,
    /// The host-to-device copy of the batch and the forward pass (`--include-transfer` on a GPU).
    #[serde(rename = "forward+transfer")]
    ForwardAndTransfer,
}

impl TimeBoundary {
    /// `forward` or `forward+transfer`, as records write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::ForwardAndTransfer => "forward+transfer",
        }
    }
}

/// Warm-up until steady state: the median of the last `window` warm-up batches within
/// `tolerance` (relative) of the median of the `window` before them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SteadyStateRule {
    /// Batches per window.
    pub window: u32,
    /// Relative change allowed between the two windows' medians, e.g. 0.03.
    pub tolerance: f64,
}

/// How the models of one shape are measured together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// One after another (the Python tool's way).
    #[default]
    Sequential,
    /// In alternating rounds: each round runs `block` batches of every model of the shape, in a
    /// shuffled order (see `timing_core::Interleaver`).
    Interleaved {
        /// Batches of each model per round.
        block: u32,
    },
    /// One job after another, in an order shuffled by the seed: drift over the sweep then falls
    /// on the models at random rather than always on the last ones.
    Random,
}

impl Order {
    /// `sequential`, `interleaved` or `random`, as records write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::Interleaved { .. } => "interleaved",
            Self::Random => "random",
        }
    }
}

/// Stream offset of the job shuffle of `--order random`, so that it is not the stream of the
/// weights or inputs made from the same seed.
const SHUFFLE_STREAM: u64 = 0x6f72_6465_725f_7368; // "order_sh"

/// How one job warms up and when it stops measuring. Times are seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sampling {
    /// The least number of warm-up batches.
    pub warmup_batches: u32,
    /// The least warm-up time, s.
    pub warmup_time_s: f64,
    /// Keep warming up until steady state (or for at most 60 s, or `warmup_time_s` if longer).
    pub steady_state: Option<SteadyStateRule>,
    /// The `--num-samples` setting.
    pub num_samples: u32,
    /// Batches measured (or the least number, under a time rule): `--measure-batches` capped by
    /// the batches that `num_samples` make at this job's batch size.
    pub measure_batches: u32,
    /// Measure for at least this long, s.
    pub min_time_s: Option<f64>,
    /// Adaptive stopping: the target relative width of the median's 95% interval.
    pub target_ci: Option<f64>,
    /// Adaptive stopping: the most time to measure, s (60 by default).
    pub max_time_s: Option<f64>,
    /// Sequential or interleaved with the other models of the shape.
    pub order: Order,
}

impl Default for Sampling {
    /// The Python tool's: 10 warm-up batches, 1000 samples, 100 measured batches; no time rules.
    fn default() -> Self {
        Self {
            warmup_batches: 10,
            warmup_time_s: 0.0,
            steady_state: None,
            num_samples: 1000,
            measure_batches: 100,
            min_time_s: None,
            target_ci: None,
            max_time_s: None,
            order: Order::Sequential,
        }
    }
}

impl Sampling {
    /// The harness settings of this sampling.
    ///
    /// # Errors
    /// [`crate::Error::Settings`] for a time that is not a finite number of seconds.
    pub fn harness_config(&self) -> crate::Result<HarnessConfig> {
        let seconds = |s: f64, what: &str| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                crate::Error::Settings(format!("{what} {s} is not a usable number of seconds"))
            })
        };
        let warmup_time = seconds(self.warmup_time_s, "--warmup-time")?;
        let count = self.measure_batches.max(1) as usize;
        let stop = match (self.target_ci, self.min_time_s) {
            (Some(width), min_time) => StopRule::Adaptive(Adaptive {
                statistic: Statistic::Median,
                target_width: width,
                min_samples: count,
                min_time: seconds(min_time.unwrap_or(0.0), "--min-time")?,
                max_time: seconds(self.max_time_s.unwrap_or(60.0), "--max-time")?,
                ..Adaptive::default()
            }),
            (None, Some(min_time)) => StopRule::Time {
                budget: seconds(min_time, "--min-time")?,
                min_samples: count,
            },
            (None, None) => StopRule::Count(count),
        };
        let warmup = Warmup {
            min_iters: self.warmup_batches as usize,
            min_time: warmup_time,
            max_time: match self.steady_state {
                Some(_) => STEADY_STATE_MAX_WARMUP.max(warmup_time),
                None => Duration::from_secs(3600).max(warmup_time),
            },
            steady_state: self.steady_state.map(|rule| SteadyState {
                window: rule.window as usize,
                tolerance: rule.tolerance,
            }),
        };
        let config = HarnessConfig {
            warmup,
            stop,
            ..HarnessConfig::default()
        };
        config
            .validate()
            .map_err(|e| crate::Error::Settings(e.to_string()))?;
        Ok(config)
    }

    /// The number of batches the measured phase runs when it is fixed (`None` under a time or
    /// adaptive rule).
    pub fn fixed_count(&self) -> Option<u64> {
        (self.min_time_s.is_none() && self.target_ci.is_none())
            .then_some(u64::from(self.measure_batches))
    }
}

/// Everything the flags decide, shared by every job of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Batch sizes, in order.
    pub batch_sizes: Vec<u32>,
    /// Sequence lengths, in order.
    pub sequence_lengths: Vec<u32>,
    /// The float type.
    pub dtype: Dtype,
    /// The device as records name it: `cpu` or `cuda:N`.
    pub device: String,
    /// libtorch's CPU intra-op threads.
    pub threads: u32,
    /// Where token ids come from.
    pub inputs: Inputs,
    /// Seed of the random weights and inputs.
    pub seed: u64,
    /// Time the host-to-device copy too (only meaningful on a GPU).
    pub include_transfer: bool,
    /// Warm-up and stopping as the flags give them (`measure_batches` before the cap by
    /// `num_samples`, which [`Settings::sampling_for`] applies per batch size).
    pub sampling: Sampling,
}

impl Settings {
    /// What the timer covers on this settings' device: the copy counts only on a GPU.
    pub fn time_boundary(&self) -> TimeBoundary {
        if self.include_transfer && self.device != "cpu" {
            TimeBoundary::ForwardAndTransfer
        } else {
            TimeBoundary::Forward
        }
    }

    /// The sampling of a job at `batch_size`: `--measure-batches` capped by the batches that
    /// `--num-samples` make, as in the Python tool.
    pub fn sampling_for(&self, batch_size: u32) -> Sampling {
        let s = &self.sampling;
        Sampling {
            measure_batches: s
                .measure_batches
                .min(s.num_samples.div_ceil(batch_size.max(1))),
            ..s.clone()
        }
    }
}

/// One measurement: a model at one shape, dtype, device and input distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// The config entry.
    pub model: ModelEntry,
    /// Sequences per batch.
    pub batch_size: u32,
    /// Tokens per sequence.
    pub sequence_length: u32,
    /// The float type.
    pub dtype: Dtype,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// libtorch's CPU intra-op threads.
    pub threads: u32,
    /// Where token ids come from.
    pub inputs: Inputs,
    /// Seed of the random weights and inputs.
    pub seed: u64,
    /// What the timer covers.
    pub time_boundary: TimeBoundary,
    /// Warm-up and stopping.
    pub sampling: Sampling,
}

impl Job {
    /// The canonical serialization the id is computed from: compact JSON, fields in declaration
    /// order, `model_config` keys sorted.
    pub fn canonical(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `name (batch B, seq S)`, for messages.
    pub fn label(&self) -> String {
        format!(
            "{} (batch {}, seq {})",
            self.model.name, self.batch_size, self.sequence_length
        )
    }

    /// The input distribution as records write it (`full`, `uniform:64..512`, `text:PATH`).
    pub fn inputs_text(&self) -> String {
        match &self.inputs {
            Inputs::Random(lengths) => lengths.to_string(),
            Inputs::Text { text_file, .. } => format!("text:{}", text_file.display()),
        }
    }
}

/// A job and its id.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedJob {
    /// The job's id: 16 hex digits of the SHA-256 of [`Job::canonical`].
    pub id: String,
    /// The job.
    pub job: Job,
}

/// The ordered jobs of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    jobs: Vec<PlannedJob>,
    hash: String,
}

impl Plan {
    /// Every model of `entries` at every batch size and sequence length of `settings`, model by
    /// model, then batch size, then sequence length; a job that repeats an earlier one (a value
    /// listed twice) is left out, so ids are unique. [`Order::Interleaved`] puts the jobs shape by
    /// shape; [`Order::Random`] shuffles them with the settings' seed.
    pub fn new(entries: &[ModelEntry], settings: &Settings) -> Self {
        let mut jobs = Vec::new();
        for entry in entries {
            for &batch_size in &settings.batch_sizes {
                for &sequence_length in &settings.sequence_lengths {
                    let job = Job {
                        model: entry.clone(),
                        batch_size,
                        sequence_length,
                        dtype: settings.dtype,
                        device: settings.device.clone(),
                        threads: settings.threads,
                        inputs: settings.inputs.clone(),
                        seed: settings.seed,
                        time_boundary: settings.time_boundary(),
                        sampling: settings.sampling_for(batch_size),
                    };
                    let id = short_sha256(job.canonical().as_bytes());
                    // A repeated batch size or sequence length is the same job: once.
                    if !jobs.iter().any(|j: &PlannedJob| j.id == id) {
                        jobs.push(PlannedJob { id, job });
                    }
                }
            }
        }
        if matches!(settings.sampling.order, Order::Interleaved { .. }) {
            // Interleaved: the models of a shape run together, so the jobs go shape by shape.
            let mut groups: Vec<String> = Vec::new();
            for job in &jobs {
                let key = crate::shard::group_key(&job.job);
                if !groups.contains(&key) {
                    groups.push(key);
                }
            }
            jobs.sort_by_key(|job| {
                let key = crate::shard::group_key(&job.job);
                groups.iter().position(|g| *g == key)
            });
        }
        if settings.sampling.order == Order::Random {
            // Fisher-Yates with the seeded generator: the same seed, the same order.
            let mut rng = timing_core::stats::Rng::new(settings.seed ^ SHUFFLE_STREAM);
            for i in (1..jobs.len()).rev() {
                jobs.swap(i, rng.below(i + 1));
            }
        }
        let mut text = format!("bert-latency {}\n", env!("CARGO_PKG_VERSION"));
        for job in &jobs {
            text.push_str(&job.id);
            text.push('\n');
        }
        Self {
            hash: short_sha256(text.as_bytes()),
            jobs,
        }
    }

    /// The jobs, in execution order.
    pub fn jobs(&self) -> &[PlannedJob] {
        &self.jobs
    }

    /// The plan's hash: 16 hex digits of the SHA-256 of the tool version and the job ids in order.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The jobs of shard `spec` under `strategy` (see [`crate::shard`]), as a plan with the same
    /// hash as this whole one, so that every shard's records say which sweep they belong to.
    ///
    /// # Errors
    /// As [`crate::shard::assign`].
    pub fn shard(
        &self,
        spec: crate::shard::ShardSpec,
        strategy: crate::shard::Strategy,
    ) -> crate::Result<Plan> {
        let shards = crate::shard::assign(self, spec.count, strategy)?;
        Ok(Self {
            jobs: self
                .jobs
                .iter()
                .zip(shards)
                .filter(|(_, shard)| *shard == spec.index)
                .map(|(job, _)| job.clone())
                .collect(),
            hash: self.hash.clone(),
        })
    }

    /// This plan without the jobs `skip` says to skip (e.g. those a resumed run already recorded);
    /// same hash.
    pub fn without(&self, skip: impl Fn(&PlannedJob) -> bool) -> Plan {
        Self {
            jobs: self.jobs.iter().filter(|j| !skip(j)).cloned().collect(),
            hash: self.hash.clone(),
        }
    }

    /// The jobs as a manifest lists them, each with its shard when `shards` (from
    /// [`crate::shard::assign`]) is given.
    pub fn manifest_jobs(&self, shards: Option<&[u32]>) -> Vec<report::manifest::PlannedJob> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(i, j)| report::manifest::PlannedJob {
                id: j.id.clone(),
                label: j.job.label(),
                shard: shards.and_then(|s| s.get(i).copied()),
                job: serde_json::to_value(&j.job).unwrap_or_default(),
            })
            .collect()
    }

    /// The longest sequence of any job (rotary tables are built for it up front).
    pub fn longest_sequence(&self) -> u32 {
        self.jobs
            .iter()
            .map(|j| j.job.sequence_length)
            .max()
            .unwrap_or(512)
    }
}

fn short_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(ID_HEX_DIGITS);
    hex
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn entry(name: &str) -> ModelEntry {
        serde_json::from_value(serde_json::json!({
            "name": name, "model_type": "hf_bert",
            "model_config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                             "intermediate_size": 64, "vocab_size": 128}
        }))
        .unwrap()
    }

    pub(crate) fn settings() -> Settings {
        Settings {
            batch_sizes: vec![1, 8],
            sequence_lengths: vec![16, 32],
            dtype: Dtype::Fp32,
            device: "cpu".to_owned(),
            threads: 2,
            inputs: Inputs::Random(Lengths::Full),
            seed: 0,
            include_transfer: false,
            sampling: Sampling {
                warmup_batches: 2,
                num_samples: 20,
                measure_batches: 5,
                ..Sampling::default()
            },
        }
    }

    #[test]
    fn jobs_run_model_by_model_then_batch_then_sequence() {
        let plan = Plan::new(&[entry("a"), entry("b")], &settings());
        let order: Vec<(String, u32, u32)> = plan
            .jobs()
            .iter()
            .map(|j| {
                (
                    j.job.model.name.clone(),
                    j.job.batch_size,
                    j.job.sequence_length,
                )
            })
            .collect();
        let expected: Vec<(String, u32, u32)> = ["a", "b"]
            .iter()
            .flat_map(|m| {
                [(1, 16), (1, 32), (8, 16), (8, 32)].map(|(b, s)| ((*m).to_owned(), b, s))
            })
            .collect();
        assert_eq!(order, expected);
        // 20 samples at batch 8 make 3 batches.
        assert_eq!(plan.jobs()[2].job.sampling.measure_batches, 3);
        assert_eq!(plan.longest_sequence(), 32);
    }

    #[test]
    fn ids_are_stable_and_depend_on_what_is_measured() {
        let a = Plan::new(&[entry("a")], &settings());
        let again = Plan::new(&[entry("a")], &settings());
        assert_eq!(a, again);
        let ids: std::collections::HashSet<&str> = a.jobs().iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids.len(), a.jobs().len(), "ids are unique");
        assert!(a.jobs().iter().all(|j| j.id.len() == 16));
        // The id is the SHA-256 of the canonical JSON.
        let first = &a.jobs()[0];
        assert_eq!(first.id, short_sha256(first.job.canonical().as_bytes()));
        // A different seed changes every id and the plan hash; adding a model keeps the old ids.
        let mut seeded = settings();
        seeded.seed = 7;
        let b = Plan::new(&[entry("a")], &seeded);
        assert!(a.jobs().iter().zip(b.jobs()).all(|(x, y)| x.id != y.id));
        assert_ne!(a.hash(), b.hash());
        let grown = Plan::new(&[entry("a"), entry("c")], &settings());
        assert_eq!(&grown.jobs()[..4], a.jobs());
        assert_ne!(grown.hash(), a.hash());
        // Threads change what is measured, so they change the ids.
        let mut threaded = settings();
        threaded.threads = 1;
        assert_ne!(Plan::new(&[entry("a")], &threaded).hash(), a.hash());
        // A repeated batch size adds no job.
        let mut repeated = settings();
        repeated.batch_sizes = vec![1, 8, 1];
        assert_eq!(Plan::new(&[entry("a")], &repeated), a);
    }

    #[test]
    fn sha256_matches_a_known_digest() {
        // printf 'abc' | sha256sum -> ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(short_sha256(b"abc"), "ba7816bf8f01cfea");
    }

    #[test]
    fn sampling_becomes_the_harness_rule() {
        let mut s = settings();
        let config = s.sampling_for(1).harness_config().unwrap();
        assert_eq!(config.stop, StopRule::Count(5));
        s.sampling.min_time_s = Some(2.0);
        assert!(matches!(
            s.sampling_for(1).harness_config().unwrap().stop,
            StopRule::Time { min_samples: 5, .. }
        ));
        s.sampling.target_ci = Some(0.02);
        s.sampling.max_time_s = Some(1.0);
        // --min-time 2 above --max-time 1 cannot work.
        assert!(s.sampling_for(1).harness_config().is_err());
        s.sampling.min_time_s = Some(1e30);
        assert!(s.sampling_for(1).harness_config().is_err());
        let mut steady = settings();
        steady.sampling.steady_state = Some(SteadyStateRule {
            window: 5,
            tolerance: 0.03,
        });
        let warmup = steady.sampling_for(1).harness_config().unwrap().warmup;
        assert_eq!(warmup.max_time, STEADY_STATE_MAX_WARMUP);
        assert!(warmup.steady_state.is_some());
    }
}
