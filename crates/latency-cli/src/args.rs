//! Command-line flags of `latency-analysis`: the Python tool's, with its names and defaults, then
//! ours.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use model_zoo::Lengths;

/// Measure the inference latency of BERT-family encoders on a GPU or CPU.
///
/// Runs every model of the config file at every batch size and sequence length, and writes one
/// record per combination to the CSV file and a JSON file with the same stem, as soon as it is
/// measured. Flags keep the names, defaults and meanings of the Python tool `latency_analysis.py`.
/// Exit status: 0 when every model ran, 1 when some failed (the others still ran), 2 on an error
/// that stopped the run (bad flags or config), 130 after Ctrl-C, which stops at the next batch and
/// keeps every record finished so far.
#[derive(Debug, Parser)]
#[command(name = "latency-analysis", version, about, long_about)]
pub struct Args {
    /// YAML file with a `models:` list; when it does not exist, the built-in default config
    /// (configs/latency_config.yaml) is used and a notice says so.
    #[arg(long, default_value = "latency_config.yaml", value_name = "PATH")]
    pub config_file: PathBuf,

    /// Results CSV; a JSON file with the same stem is written beside it.
    #[arg(long, default_value = "latency_results.csv", value_name = "PATH")]
    pub output_file: PathBuf,

    /// Sequences per batch; a comma-separated list runs each.
    #[arg(long, default_value = "8", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Vec<u32>,

    /// Tokens per sequence (inputs fill exactly this length); a comma-separated list runs each.
    #[arg(long, default_value = "512", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(2..))]
    pub sequence_length: Vec<u32>,

    /// Number of synthetic samples; with batch 8, 1000 samples are 125 batches.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub num_samples: u32,

    /// Batches run before measuring (their timings are reported as cold numbers).
    #[arg(long, default_value_t = 10)]
    pub warmup_batches: u32,

    /// Batches measured (capped by the number of batches the samples make).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub measure_batches: u32,

    /// Device: auto (cuda when available, else cpu), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,

    /// Float type of the weights and activations.
    #[arg(long, value_enum, default_value_t = Dtype::Fp32)]
    pub dtype: Dtype,

    /// CPU intra-op threads for libtorch (default: libtorch's own choice); recorded with results.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,

    /// Measure for at least this many seconds (and at least --measure-batches batches). With
    /// --target-ci, the least time before the target may stop the run.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub min_time: Option<f64>,

    /// Adaptive stopping: the most seconds to measure while the target is not met (default 60).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, requires = "target_ci")]
    pub max_time: Option<f64>,

    /// Adaptive stopping: measure until the 95% interval of the median is narrower than this
    /// fraction of it (e.g. 0.02), after at least --measure-batches batches and --min-time, or
    /// until --max-time; whether the target was met is reported.
    #[arg(long, value_name = "WIDTH", value_parser = parse_fraction)]
    pub target_ci: Option<f64>,

    /// Row lengths of the random inputs (real tokens; the rest is padding): `full` (every row
    /// fills --sequence-length, the Python tool's inputs), `uniform:MIN..MAX`, `fill:RATIO` (e.g.
    /// fill:0.5) or `file:PATH` (one length per line, used in order and cycled). Lengths above the
    /// sequence length are cut to it.
    #[arg(long, default_value = "full", value_name = "DIST", value_parser = parse_lengths)]
    pub lengths: Lengths,

    /// Real text instead of random ids: one sample per non-blank line, used in order and cycled,
    /// tokenized with --tokenizer and truncated at the sequence length.
    #[arg(
        long,
        value_name = "PATH",
        requires = "tokenizer",
        conflicts_with = "lengths"
    )]
    pub text_file: Option<PathBuf>,

    /// HuggingFace tokenizer.json for --text-file (the model's own tokenizer).
    #[arg(long, value_name = "PATH", requires = "text_file")]
    pub tokenizer: Option<PathBuf>,

    /// Time the host-to-device copy of each batch too (inputs then start on the host); recorded as
    /// time_boundary forward+transfer. Without it, inputs are on the device before timing.
    #[arg(long)]
    pub include_transfer: bool,

    /// Seed of the random weights and inputs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Validate every entry, print parameter counts, FLOPs and weight memory, and run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print nothing but errors (and --json output).
    #[arg(long)]
    pub quiet: bool,

    /// Print the records as JSON on standard output at the end.
    #[arg(long)]
    pub json: bool,
}

/// `--dtype` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// 32-bit float.
    Fp32,
    /// 16-bit float.
    Fp16,
    /// bfloat16.
    Bf16,
}

impl Dtype {
    /// The name used in results files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Fp16 => "fp16",
            Self::Bf16 => "bf16",
        }
    }
}

fn parse_lengths(text: &str) -> Result<Lengths, String> {
    Lengths::parse(text).map_err(|e| e.to_string())
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a number of seconds >= 0")),
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
    /// The number of batches measured at `batch_size`: `--measure-batches`, capped by the batches
    /// that `--num-samples` make, as in the Python tool.
    pub fn measured_batches(&self, batch_size: u32) -> u32 {
        self.measure_batches
            .min(self.num_samples.div_ceil(batch_size))
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
        assert_eq!(args.measured_batches(8), 100);
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
        assert_eq!(
            (args.measured_batches(1), args.measured_batches(8)),
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
