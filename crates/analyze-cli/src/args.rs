//! Command-line flags of `analyze-latency`, with the Python analyzer's names.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Rank and compare latency results files.
///
/// Reads CSV or JSON results written by latency-analysis or by the Python tool (several files are
/// merged, e.g. runs of several machines) and prints the Python analyzer's sections: summary,
/// rankings, model-type comparison, efficiency and pairwise comparisons, each made within one
/// group: batch size, sequence length, device, dtype, inputs, time boundary and machine (see
/// --ignore-machine). Records with raw latencies (JSON files)
/// get confidence intervals and significance verdicts.
///
/// Records of a sharded sweep (latency-analysis --shard) are checked against their plan first:
/// one plan hash, each job once, every job present (see --allow-partial).
///
/// Pairs of records measured in the same interleaved rounds (latency-analysis --order
/// interleaved) are compared round by round (paired design: Wilcoxon signed-rank, median of the
/// per-round ratios); other pairs as independent samples (Mann-Whitney, bootstrap of the median
/// ratio). Verdicts: faster, slower, equivalent (within --equivalence-margin), or no significant
/// difference.
///
/// Exit status: 0 on success, 1 when --baseline finds a regression (or, with
/// --require-equivalent, a record not shown equivalent), 2 on an error (a bad file or
/// flag, a baseline that matches no record, a model and shape repeated in one input, an
/// incomplete or mixed sweep).
#[derive(Debug, Parser)]
#[command(name = "analyze-latency", version, about, long_about)]
pub struct Args {
    /// Results files (.csv or .json), folders of them (e.g. a sharded sweep's --output-dir: its
    /// .json files, or .csv where no .json is beside it) or glob patterns ('out/*.json').
    #[arg(required = true, value_name = "RESULTS")]
    pub results: Vec<PathBuf>,

    /// Analyse records that do not make one complete plan: records of several plans, jobs
    /// recorded twice (only the first is kept) or jobs of the plan with no record (its manifests
    /// list them). Without it such a set is an error (exit 2), so a merged sweep is never
    /// silently partial.
    #[arg(long)]
    pub allow_partial: bool,

    /// Also write the whole report to --output-file.
    #[arg(long)]
    pub save_analysis: bool,

    /// Where --save-analysis writes the report.
    #[arg(long, default_value = "analysis_report.txt", value_name = "PATH")]
    pub output_file: PathBuf,

    /// Report format: text for terminals, markdown for pull-request comments, json for machines.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Compare every record with the same model and shape in BASE; exit 1 if any is slower by
    /// more than --threshold. With raw latencies on both sides (JSON files) the slowdown must also
    /// be significant; without them the recorded medians decide, and the verdict is marked
    /// untested. Exit 2 when no record matches BASE (the nearest pair is shown) or when either
    /// input holds a model and shape twice.
    #[arg(long, value_name = "BASE")]
    pub baseline: Option<PathBuf>,

    /// Relative slowdown that counts as a regression against --baseline (0.05 = 5%).
    #[arg(long, default_value_t = 0.05, value_parser = parse_threshold)]
    pub threshold: f64,

    /// Equivalence margin, as a fraction (0.02 = ±2%): a pair, or a record and its baseline,
    /// is "equivalent" when the whole 95% interval of their ratio lies within ±margin of 1.
    /// Default: the noise threshold (0.02 for pairwise comparisons, --threshold for --baseline).
    /// A significant change beyond the noise threshold is reported as faster or slower even when
    /// it lies within a wider margin.
    #[arg(long, value_name = "FRACTION", value_parser = parse_margin)]
    pub equivalence_margin: Option<f64>,

    /// With --baseline: assert "no change", not only "no detected change". Every record must be
    /// shown equivalent to its baseline within --equivalence-margin, or the exit status is 1.
    /// This needs raw latencies on both sides (JSON files); an untested record fails.
    #[arg(long, requires = "baseline")]
    pub require_equivalent: bool,

    /// Rank and compare records of different machines together. By default records are grouped
    /// by machine too (device_name: the GPU or CPU model, host_name, num_threads), and a
    /// --baseline record matches only one of the same machine; Python-tool files, which record
    /// none of these, form one "unknown machine" group.
    #[arg(long)]
    pub ignore_machine: bool,

    /// Write SVG charts (latency distributions, latency against sequence length and batch size)
    /// into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Plain text with tables.
    Text,
    /// GitHub-flavoured markdown.
    Markdown,
    /// JSON.
    Json,
}

fn parse_margin(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "'{text}' is not a fraction from 0 to below 1, e.g. 0.02 for ±2%"
        )),
    }
}

fn parse_threshold(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a fraction >= 0, e.g. 0.05 for 5%")),
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
    fn defaults_match_the_python_analyzer() {
        let args = Args::parse_from(["analyze-latency", "r.csv"]);
        assert!(!args.save_analysis);
        assert_eq!(args.output_file, PathBuf::from("analysis_report.txt"));
        assert_eq!((args.format, args.threshold), (FormatArg::Text, 0.05));
        assert!(Args::try_parse_from(["analyze-latency"]).is_err());
        assert!(Args::try_parse_from(["analyze-latency", "r.csv", "--threshold", "-1"]).is_err());
        // A margin of 5 is ±500%, surely meant as 5%: refused.
        for margin in ["5", "1", "-0.1", "nan"] {
            let flag = format!("--equivalence-margin={margin}");
            assert!(
                Args::try_parse_from(["analyze-latency", "r.csv", &flag]).is_err(),
                "{margin}"
            );
        }
        let args = Args::parse_from(["analyze-latency", "r.csv", "--equivalence-margin", "0.05"]);
        assert_eq!(args.equivalence_margin, Some(0.05));
    }
}
