//! `analyze-latency`: ranks and compares bert-latency results files.
//!
//! Glue only: `args` parses, `run` calls the `report` library and prints. Exit status 0 on
//! success, 1 when a baseline gate finds a regression, 2 on an error.

mod args;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use report::analysis::{self, AnalysisConfig, BaselineConfig};
use report::export::{self, Format};

use crate::args::{Args, FormatArg};

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(regressions) if regressions > 0 => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("analyze-latency: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the analysis; returns the number of baseline regressions.
fn run(args: &Args) -> Result<usize> {
    let rows = report::io::read_many(&args.results)?;
    anyhow::ensure!(!rows.is_empty(), "the results files hold no records");
    let config = AnalysisConfig {
        ignore_machine: args.ignore_machine,
        ..AnalysisConfig::default()
    };
    let analysis = analysis::analyze(&rows, &config)?;
    let baseline = match &args.baseline {
        Some(path) => {
            let base = report::io::read_results(path).context("reading the baseline")?;
            let gate = BaselineConfig {
                threshold: args.threshold,
                ignore_machine: args.ignore_machine,
            };
            let compared = analysis::compare_to_baseline(&rows, &base, &gate).with_context(|| {
                format!(
                    "comparing {} with the baseline {}",
                    results_name(args),
                    path.display()
                )
            });
            Some(compared?)
        }
        None => None,
    };
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Json => Format::Json,
    };
    let text = export::render(&analysis, baseline.as_ref(), format)?;
    print!("{text}");
    // Also on stderr, where a CI log shows them even when the report goes to a file.
    for note in export::notes(&analysis, baseline.as_ref()) {
        eprintln!("analyze-latency: note: {note}");
    }
    if args.save_analysis {
        report::io::write_atomic(&args.output_file, text.as_bytes())
            .with_context(|| "saving the analysis (--save-analysis)")?;
        eprintln!("analysis saved to {}", args.output_file.display());
    }
    if let Some(dir) = &args.plot {
        for path in report::plot::write_charts(&rows, dir, args.ignore_machine)? {
            eprintln!("chart: {}", path.display());
        }
    }
    Ok(baseline.map_or(0, |b| b.regressions()))
}

/// The results files as messages name them.
fn results_name(args: &Args) -> String {
    match args.results.as_slice() {
        [one] => one.display().to_string(),
        _ => "RESULTS (their records numbered across the files, in the order given)".to_owned(),
    }
}
