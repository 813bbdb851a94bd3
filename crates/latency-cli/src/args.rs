//! Command-line flags of `latency-analysis`: the Python tool's, with its names and defaults, then
//! ours.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use model_zoo::{Dtype, Lengths};
use runner::{Inputs, Order, Sampling, Settings, ShardSpec, ShardStrategy, SteadyStateRule};

/// Measure the inference latency of BERT-family encoders on a GPU or CPU.
///
/// Runs every model of the config file at every batch size and sequence length, and writes one
/// record per combination to the CSV file and a JSON file with the same stem, as soon as it is
/// measured. Flags keep the names, defaults and meanings of the Python tool `latency_analysis.py`.
/// Exit status: 0 when every job ran, 1 when some failed (the others still ran), 2 on an error
/// that stopped the run before it measured (bad flags or config, an unusable device or output
/// location), 130 after Ctrl-C or SIGTERM, which stop at the next batch and keep every record
/// finished so far (a second one exits at once).
#[derive(Debug, Parser)]
#[command(name = "latency-analysis", version, about, long_about)]
pub struct Args {
    /// `plan --emit slurm|k8s`: write a scheduler's job for this run instead of running it.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// YAML file with a `models:` list; when it does not exist, the built-in default config
    /// (configs/latency_config.yaml) is used and a notice says so.
    #[arg(
        global = true,
        long,
        default_value = "latency_config.yaml",
        value_name = "PATH"
    )]
    pub config_file: PathBuf,

    /// Results CSV; a JSON file with the same stem is written beside it.
    #[arg(
        global = true,
        long,
        default_value = "latency_results.csv",
        value_name = "PATH"
    )]
    pub output_file: PathBuf,

    /// Sequences per batch; a comma-separated list runs each.
    #[arg(global = true, long, default_value = "8", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Vec<u32>,

    /// Tokens per sequence (inputs fill exactly this length); a comma-separated list runs each.
    #[arg(global = true, long, default_value = "512", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(2..))]
    pub sequence_length: Vec<u32>,

    /// Number of synthetic samples; with batch 8, 1000 samples are 125 batches.
    #[arg(global = true, long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub num_samples: u32,

    /// Batches run before measuring (their timings are reported as cold numbers).
    #[arg(global = true, long, default_value_t = 10)]
    pub warmup_batches: u32,

    /// Warm up for at least this many seconds too (and at least --warmup-batches batches).
    #[arg(global = true, long, value_name = "SECONDS", default_value_t = 0.0, value_parser = parse_seconds)]
    pub warmup_time: f64,

    /// Keep warming up until the median of the last 10 warm-up batches is within TOLERANCE
    /// (default 0.03, i.e. 3%) of the median of the 10 before them, for at most 60 s (or
    /// --warmup-time if longer); records say whether steady state was reached.
    #[arg(global = true, long, value_name = "TOLERANCE", num_args = 0..=1, default_missing_value = "0.03", value_parser = parse_fraction)]
    pub steady_state: Option<f64>,

    /// Batches measured (capped by the number of batches the samples make).
    #[arg(global = true, long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub measure_batches: u32,

    /// Device: auto (cuda when available, else cpu), cpu, cuda or cuda:N.
    #[arg(global = true, long, default_value = "auto")]
    pub device: String,

    /// Float type of the weights and activations.
    #[arg(global = true, long, default_value = "fp32", value_parser = parse_dtype())]
    pub dtype: Dtype,

    /// CPU intra-op threads for libtorch (default: libtorch's own choice); recorded with results.
    #[arg(global = true, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,

    /// Measure for at least this many seconds (and at least --measure-batches batches). With
    /// --target-ci, the least time before the target may stop the run.
    #[arg(global = true, long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub min_time: Option<f64>,

    /// Adaptive stopping: the most seconds to measure while the target is not met (default 60).
    #[arg(global = true, long, value_name = "SECONDS", value_parser = parse_seconds, requires = "target_ci")]
    pub max_time: Option<f64>,

    /// Adaptive stopping: measure until the 95% interval of the median is narrower than this
    /// fraction of it (e.g. 0.02), after at least --measure-batches batches and --min-time, or
    /// until --max-time; whether the target was met is reported.
    #[arg(global = true, long, value_name = "WIDTH", value_parser = parse_fraction)]
    pub target_ci: Option<f64>,

    /// Row lengths of the random inputs (real tokens; the rest is padding): `full` (every row
    /// fills --sequence-length, the Python tool's inputs), `uniform:MIN..MAX`, `fill:RATIO` (e.g.
    /// fill:0.5) or `file:PATH` (one length per line, used in order and cycled). Lengths above the
    /// sequence length are cut to it.
    #[arg(global = true, long, default_value = "full", value_name = "DIST", value_parser = parse_lengths)]
    pub lengths: Lengths,

    /// Real text instead of random ids: one sample per non-blank line, used in order and cycled,
    /// tokenized with --tokenizer and truncated at the sequence length.
    #[arg(
        global = true,
        long,
        value_name = "PATH",
        requires = "tokenizer",
        conflicts_with = "lengths"
    )]
    pub text_file: Option<PathBuf>,

    /// HuggingFace tokenizer.json for --text-file (the model's own tokenizer).
    #[arg(global = true, long, value_name = "PATH", requires = "text_file")]
    pub tokenizer: Option<PathBuf>,

    /// Time the host-to-device copy of each batch too (inputs then start on the host); recorded as
    /// time_boundary forward+transfer. Without it, inputs are on the device before timing. No
    /// effect on the CPU (there is no copy; a warning says so).
    #[arg(global = true, long)]
    pub include_transfer: bool,

    /// Seed of the random weights and inputs.
    #[arg(global = true, long, default_value_t = 0)]
    pub seed: u64,

    /// How the jobs are ordered: sequential (one after another in plan order, the Python tool's
    /// way), random (one after another, shuffled by --seed, so that drift over the sweep does not
    /// always fall on the last models) or interleaved (the models of one shape all built and
    /// warmed up, then rounds of --block batches of each model in a shuffled order, so that drift
    /// falls on all of them alike; records keep each round's value for paired comparisons;
    /// memory and power are not recorded). A shape whose models do not fit in memory together
    /// (weights + 20%) runs sequentially, with a warning in its records.
    #[arg(global = true, long, value_name = "ORDER", default_value = "sequential", value_parser = ["sequential", "random", "interleaved"])]
    pub order: String,

    /// With --order interleaved: batches of each model per round (rounds =
    /// ceil(--measure-batches / BLOCK), so each model runs rounds x BLOCK batches, at least
    /// BLOCK). Keep at least 6 rounds: with fewer, the paired test cannot reach p < 0.05.
    #[arg(global = true, long, value_name = "BLOCK", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub block: u32,

    /// Write the results and manifest into this folder (created if missing): results.csv, or
    /// shard-I-of-N.csv for a shard, with their .json and .manifest.json.
    #[arg(global = true, long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// For a shard whose files exist: measure every job again instead of skipping the ones
    /// already recorded (and replace files written by another plan).
    #[arg(global = true, long)]
    pub force: bool,

    /// Run only shard I of N of the plan (1-based, e.g. 2/4). Every model at one shape, dtype and
    /// input distribution stays on one shard, so comparisons never span two machines.
    #[arg(global = true, long, value_name = "I/N", value_parser = parse_shard, conflicts_with = "shard_from_env")]
    pub shard: Option<ShardSpec>,

    /// Take the shard from the scheduler: a Slurm job array (SLURM_ARRAY_TASK_ID minus
    /// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX, of --shards N).
    #[arg(global = true, long)]
    pub shard_from_env: bool,

    /// The number of shards, for --shard-from-env under Kubernetes (the Job's completions);
    /// checked against SLURM_ARRAY_TASK_COUNT under Slurm.
    #[arg(global = true, long, value_name = "N", requires = "shard_from_env", value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: Option<u32>,

    /// How jobs are split into shards: slice (contiguous, balanced counts), hash (a job keeps its
    /// shard when the sweep grows) or cost (balanced estimated FLOPs).
    #[arg(global = true, long, value_name = "STRATEGY", default_value = "slice", value_parser = parse_strategy)]
    pub shard_strategy: ShardStrategy,

    /// Run the whole plan K times, each run in a fresh process (this program runs itself again),
    /// and write all K runs' records into the results file (repeat_index, repeats); then print
    /// each job's between-run spread and the 95% t interval of its median across runs. Every
    /// process also records its cold start: process_to_built_s on its first model, first_latency
    /// (the first forward) and, in the JSON, warmup_latencies_ms (the first batches).
    #[arg(global = true, long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,

    /// Internal, set by --repeat: this process is run I of K.
    #[arg(global = true, long, value_name = "I/K", hide = true, value_parser = parse_repeat_run)]
    pub repeat_run: Option<(u32, u32)>,

    /// Print the plan (every job with its id, size, cost and, when sharded, its shard), and run
    /// nothing.
    #[arg(global = true, long)]
    pub dry_run: bool,

    /// Print nothing but errors (and --json output).
    #[arg(global = true, long)]
    pub quiet: bool,

    /// Print the records as JSON on standard output at the end.
    #[arg(global = true, long)]
    pub json: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a Slurm job array script (`--emit slurm`, submit with sbatch) or a Kubernetes Indexed
    /// Job manifest (`--emit k8s`, apply with kubectl) that runs this plan (the config and every
    /// run flag given) in --tasks shards, each with --shard-from-env, into one results folder.
    Plan(PlanArgs),
}

/// `plan`'s own flags (the run flags go with them, before or after `plan`).
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// What to write: `slurm` (an sbatch script) or `k8s` (a ConfigMap with the config and an
    /// Indexed Job).
    #[arg(long, value_parser = ["slurm", "k8s"])]
    pub emit: String,

    /// Shards: Slurm array tasks, or the Job's completions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub tasks: u32,

    /// Where the shards write their results and manifests (default: --output-dir, else
    /// `latency-results` in the current folder; `/results`, a volume, in Kubernetes).
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,

    /// Kubernetes: the container image, with latency-analysis on its PATH.
    #[arg(long, value_name = "IMAGE", default_value = "bert-latency:latest")]
    pub image: String,

    /// Kubernetes: the PersistentVolumeClaim mounted at the results folder.
    #[arg(long, value_name = "NAME", default_value = "bert-latency-results")]
    pub results_claim: String,

    /// Write here instead of standard output.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// `--dtype`: one of model-zoo's dtypes, listed in `--help`.
fn parse_dtype() -> impl clap::builder::TypedValueParser<Value = Dtype> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Dtype::ALL.map(Dtype::as_str))
        .map(|name| name.parse::<Dtype>().unwrap_or(Dtype::Fp32))
}

fn parse_shard(text: &str) -> Result<ShardSpec, String> {
    text.parse().map_err(|e: runner::Error| e.to_string())
}

fn parse_repeat_run(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, k)| Some((i.parse::<u32>().ok()?, k.parse::<u32>().ok()?)));
    match parsed {
        Some((i, k)) if i >= 1 && i <= k => Ok((i, k)),
        _ => Err(format!("'{text}' is not I/K with 1 <= I <= K")),
    }
}

fn parse_strategy(text: &str) -> Result<ShardStrategy, String> {
    text.parse().map_err(|e: runner::Error| e.to_string())
}

fn parse_lengths(text: &str) -> Result<Lengths, String> {
    Lengths::parse(text).map_err(|e| e.to_string())
}

/// `--max-time`'s default, s (the runner's too).
const DEFAULT_MAX_TIME: f64 = 60.0;

/// The longest time flag accepted: a year, far beyond any run, and well inside what a
/// `Duration` holds.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=MAX_SECONDS).contains(&x) => Ok(x),
        _ => Err(format!(
            "'{text}' is not a number of seconds from 0 to {MAX_SECONDS} (a year)"
        )),
    }
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!(
            "'{text}' is not a fraction between 0 and 1, e.g. 0.02"
        )),
    }
}

impl Args {
    /// Checks the flags that depend on each other, as a parse error would (exit 2).
    ///
    /// # Errors
    /// A message naming the flags: `--min-time` above `--max-time`.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(min), Some(_)) = (self.min_time, self.target_ci) {
            let max = self.max_time.unwrap_or(DEFAULT_MAX_TIME);
            if min > max {
                let which = if self.max_time.is_some() {
                    format!("--max-time {max}")
                } else {
                    format!("--max-time (default {max})")
                };
                return Err(format!(
                    "--min-time {min} is above {which}: adaptive stopping would stop before the \
                     least time; lower --min-time or raise --max-time"
                ));
            }
        }
        if self.order == "interleaved"
            && (self.min_time.is_some()
                || self.target_ci.is_some()
                || self.steady_state.is_some()
                || self.warmup_time > 0.0)
        {
            return Err(
                "--order interleaved runs a fixed number of rounds (--measure-batches / --block) \
                 after --warmup-batches: --min-time, --target-ci, --steady-state and \
                 --warmup-time do not apply to it"
                    .to_owned(),
            );
        }
        if self.repeat > 1 {
            let sharded = [
                (self.shard.is_some(), "--shard"),
                (self.shard_from_env, "--shard-from-env"),
                (self.output_dir.is_some(), "--output-dir"),
            ];
            if let Some((_, flag)) = sharded.iter().find(|(given, _)| *given) {
                return Err(format!(
                    "--repeat runs the whole plan K times on this machine into --output-file; it \
                     cannot be combined with {flag} (for a sharded sweep, repeat the sweep)"
                ));
            }
        }
        for (flag, values) in [
            ("--batch-size", &self.batch_size),
            ("--sequence-length", &self.sequence_length),
        ] {
            if let Some((_, v)) = values
                .iter()
                .enumerate()
                .find(|(i, v)| values[..*i].contains(v))
            {
                return Err(format!(
                    "{flag} lists {v} twice: each value is one job per model, measured once"
                ));
            }
        }
        Ok(())
    }

    /// The shard this process runs: `--shard`, or the scheduler's with `--shard-from-env`.
    ///
    /// # Errors
    /// The scheduler's variables missing or contradicting each other, named.
    pub fn shard_spec(&self) -> Result<Option<ShardSpec>, runner::Error> {
        if self.shard_from_env {
            runner::shard_from_env(|name| std::env::var(name).ok(), self.shards).map(Some)
        } else {
            Ok(self.shard)
        }
    }

    /// Where token ids come from.
    pub fn inputs(&self) -> Inputs {
        match (&self.text_file, &self.tokenizer) {
            (Some(text_file), Some(tokenizer)) => Inputs::Text {
                text_file: text_file.clone(),
                tokenizer: tokenizer.clone(),
            },
            _ => Inputs::Random(self.lengths.clone()),
        }
    }

    /// The run flags that reproduce this plan elsewhere (a scheduler's task): every flag that
    /// changes what is measured, with `config` for `--config-file`; output, sharding and display
    /// flags are left out.
    pub fn run_flags(&self, config: &str) -> Vec<String> {
        let list = |values: &[u32]| {
            values
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut flags: Vec<String> = vec![
            "--config-file".into(),
            config.into(),
            "--batch-size".into(),
            list(&self.batch_size),
            "--sequence-length".into(),
            list(&self.sequence_length),
            "--num-samples".into(),
            self.num_samples.to_string(),
            "--warmup-batches".into(),
            self.warmup_batches.to_string(),
            "--warmup-time".into(),
            self.warmup_time.to_string(),
            "--measure-batches".into(),
            self.measure_batches.to_string(),
            "--device".into(),
            self.device.clone(),
            "--dtype".into(),
            self.dtype.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            "--shard-strategy".into(),
            self.shard_strategy.as_str().into(),
            "--order".into(),
            self.order.clone(),
            "--block".into(),
            self.block.to_string(),
        ];
        let mut optional = |flag: &str, value: Option<String>| {
            if let Some(value) = value {
                flags.extend([flag.to_owned(), value]);
            }
        };
        optional("--steady-state", self.steady_state.map(|t| t.to_string()));
        optional("--threads", self.threads.map(|t| t.to_string()));
        optional("--min-time", self.min_time.map(|t| t.to_string()));
        optional("--max-time", self.max_time.map(|t| t.to_string()));
        optional("--target-ci", self.target_ci.map(|t| t.to_string()));
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        optional("--text-file", path(&self.text_file));
        optional("--tokenizer", path(&self.tokenizer));
        if self.text_file.is_none() {
            flags.extend(["--lengths".to_owned(), self.lengths.to_string()]);
        }
        if self.include_transfer {
            flags.push("--include-transfer".into());
        }
        flags
    }

    /// The run's settings on `device` (`cpu` or `cuda:N`).
    pub fn settings(&self, device: String) -> Settings {
        Settings {
            batch_sizes: self.batch_size.clone(),
            sequence_lengths: self.sequence_length.clone(),
            dtype: self.dtype,
            device,
            threads: model_zoo::threads(),
            inputs: self.inputs(),
            seed: self.seed,
            include_transfer: self.include_transfer,
            sampling: Sampling {
                warmup_batches: self.warmup_batches,
                warmup_time_s: self.warmup_time,
                steady_state: self.steady_state.map(|tolerance| SteadyStateRule {
                    window: 10,
                    tolerance,
                }),
                num_samples: self.num_samples,
                measure_batches: self.measure_batches,
                min_time_s: self.min_time,
                target_ci: self.target_ci,
                max_time_s: self.max_time,
                order: match self.order.as_str() {
                    "interleaved" => Order::Interleaved { block: self.block },
                    "random" => Order::Random,
                    _ => Order::Sequential,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_python_tool() {
        let args = Args::parse_from(["latency-analysis"]);
        assert_eq!(args.config_file, PathBuf::from("latency_config.yaml"));
        assert_eq!(args.output_file, PathBuf::from("latency_results.csv"));
        assert_eq!(
            (args.batch_size.as_slice(), args.sequence_length.as_slice()),
            (&[8][..], &[512][..])
        );
        assert_eq!(
            (args.num_samples, args.warmup_batches, args.measure_batches),
            (1000, 10, 100)
        );
        assert_eq!(args.device, "auto");
        assert_eq!(
            args.settings("cpu".into()).sampling_for(8).measure_batches,
            100
        );
    }

    #[test]
    fn lists_and_caps() {
        let args = Args::parse_from([
            "x",
            "--num-samples",
            "20",
            "--batch-size",
            "1,8",
            "--sequence-length",
            "128,512",
        ]);
        assert_eq!(args.batch_size, [1, 8]);
        assert_eq!(args.sequence_length, [128, 512]);
        let settings = args.settings("cpu".into());
        assert_eq!(
            (
                settings.sampling_for(1).measure_batches,
                settings.sampling_for(8).measure_batches
            ),
            (20, 3)
        );
    }

    #[test]
    fn zero_sizes_are_rejected() {
        for flag in [
            "--batch-size",
            "--sequence-length",
            "--measure-batches",
            "--num-samples",
        ] {
            assert!(
                Args::try_parse_from(["x", flag, "0"]).is_err(),
                "{flag} 0 was accepted"
            );
        }
        assert!(Args::try_parse_from(["x", "--dtype", "fp8"]).is_err());
        assert!(Args::try_parse_from(["x", "--target-ci", "1.5"]).is_err());
        assert!(Args::try_parse_from(["x", "--min-time", "-1"]).is_err());
        assert!(
            Args::try_parse_from(["x", "--max-time", "5"]).is_err(),
            "--max-time needs --target-ci"
        );
        assert!(Args::try_parse_from(["x", "--max-time", "5", "--target-ci", "0.02"]).is_ok());
    }

    #[test]
    fn timing_flags_are_checked_before_anything_runs() {
        // A Duration cannot hold 1e30 s: refused at parse time, not a panic later.
        for flag in ["--min-time", "--warmup-time"] {
            let err = Args::try_parse_from(["x", flag, "1e30"]).unwrap_err();
            assert!(err.to_string().contains("1e30"), "{err}");
        }
        let args = Args::parse_from([
            "x",
            "--target-ci",
            "0.02",
            "--min-time",
            "10",
            "--max-time",
            "5",
        ]);
        let err = args.validate().unwrap_err();
        assert!(
            err.contains("--min-time 10") && err.contains("--max-time 5"),
            "{err}"
        );
        // The default --max-time counts too.
        let args = Args::parse_from(["x", "--target-ci", "0.02", "--min-time", "100"]);
        let err = args.validate().unwrap_err();
        assert!(err.contains("--max-time (default 60)"), "{err}");
        // A repeated value would make two identical jobs.
        let err = Args::parse_from(["x", "--batch-size", "4,1,4"])
            .validate()
            .unwrap_err();
        assert!(err.contains("--batch-size lists 4 twice"), "{err}");
        // Interleaved runs a fixed number of rounds.
        let err = Args::parse_from(["x", "--order", "interleaved", "--min-time", "2"])
            .validate()
            .unwrap_err();
        assert!(err.contains("--order interleaved"), "{err}");
        for flags in [["--steady-state", "0.03"], ["--warmup-time", "2"]] {
            let mut argv = vec!["x", "--order", "interleaved"];
            argv.extend(flags);
            let err = Args::parse_from(argv).validate().unwrap_err();
            assert!(err.contains(flags[0]), "{err}");
        }
        let args = Args::parse_from(["x", "--order", "interleaved", "--block", "4"]);
        assert_eq!(
            args.settings("cpu".into()).sampling.order,
            Order::Interleaved { block: 4 }
        );
        let steady = Args::parse_from(["x", "--steady-state"]);
        assert_eq!(steady.steady_state, Some(0.03));
        let steady = Args::parse_from(["x", "--steady-state", "0.05", "--warmup-time", "2"]);
        let settings = steady.settings("cpu".into());
        assert_eq!(
            settings.sampling.steady_state.map(|s| s.tolerance),
            Some(0.05)
        );
        assert_eq!(settings.sampling.warmup_time_s, 2.0);
        assert_eq!(
            Args::parse_from(["x", "--dtype", "bf16"]).dtype,
            Dtype::Bf16
        );
    }

    #[test]
    fn input_flags() {
        let args = Args::parse_from(["x"]);
        assert_eq!(args.lengths, Lengths::Full);
        assert!(args.text_file.is_none() && !args.include_transfer);
        let args = Args::parse_from(["x", "--lengths", "uniform:64..512", "--include-transfer"]);
        assert_eq!(args.lengths, Lengths::Uniform { min: 64, max: 512 });
        assert!(args.include_transfer);
        let message = Args::try_parse_from(["x", "--lengths", "uniform:512..64"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("uniform:MIN..MAX"), "{message}");
        let message = Args::try_parse_from(["x", "--lengths", "file:/no/such/lengths.txt"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("/no/such/lengths.txt"), "{message}");
        assert!(
            Args::try_parse_from(["x", "--text-file", "t.txt"]).is_err(),
            "--text-file needs --tokenizer"
        );
        assert!(
            Args::try_parse_from(["x", "--tokenizer", "tokenizer.json"]).is_err(),
            "--tokenizer needs --text-file"
        );
        assert!(
            Args::try_parse_from([
                "x",
                "--text-file",
                "t.txt",
                "--tokenizer",
                "t.json",
                "--lengths",
                "fill:0.5"
            ])
            .is_err(),
            "--text-file and --lengths conflict"
        );
        assert!(
            Args::try_parse_from(["x", "--text-file", "t.txt", "--tokenizer", "t.json"]).is_ok()
        );
    }
}
