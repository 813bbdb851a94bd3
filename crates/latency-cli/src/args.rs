//! Command-line flags of `latency-analysis`, with the Python tool's names and defaults.

use std::path::PathBuf;

use clap::Parser;

/// Measure the inference latency of BERT-family encoders on a GPU or CPU.
///
/// Flags keep the names, defaults and meanings of the Python tool `latency_analysis.py`.
#[derive(Debug, Parser)]
#[command(name = "latency-analysis", version, about, long_about = None)]
pub struct Args {
    /// YAML file with a `models:` list.
    #[arg(long, default_value = "latency_config.yaml", value_name = "PATH")]
    pub config_file: PathBuf,

    /// Results CSV; a JSON file with the same stem is written beside it.
    #[arg(long, default_value = "latency_results.csv", value_name = "PATH")]
    pub output_file: PathBuf,

    /// Sequences per batch.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,

    /// Tokens per sequence (inputs are padded or truncated to exactly this length).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub sequence_length: u32,

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

    /// CPU intra-op threads for libtorch (default: libtorch's own choice); recorded with results.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
}

impl Args {
    /// The number of batches measured: `--measure-batches`, capped by the batches that
    /// `--num-samples` make, as in the Python tool.
    pub fn measured_batches(&self) -> u32 {
        let available = self.num_samples.div_ceil(self.batch_size);
        self.measure_batches.min(available)
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
        assert_eq!((args.batch_size, args.sequence_length), (8, 512));
        assert_eq!(
            (args.num_samples, args.warmup_batches, args.measure_batches),
            (1000, 10, 100)
        );
        assert_eq!(args.device, "auto");
        assert_eq!(args.measured_batches(), 100);
    }

    #[test]
    fn measure_batches_is_capped_by_the_samples() {
        let args = Args::parse_from(["x", "--num-samples", "20", "--batch-size", "8"]);
        assert_eq!(args.measured_batches(), 3);
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
    }
}
