//! `analyze-latency`: ranks and compares bert-latency results files.
//!
//! Glue only: `args` parses, `run` calls the `report` library and prints. Exit status 0 on
//! success, 1 when a baseline gate fails (a regression, or with --require-equivalent a record
//! not shown equivalent), 2 on an error.

mod args;

use std::path::PathBuf;
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

/// Runs the analysis; returns the number of records failing the baseline gate.
fn run(args: &Args) -> Result<usize> {
    let files = results_files(&args.results)?;
    let rows = report::io::read_many(&files)?;
    anyhow::ensure!(!rows.is_empty(), "the results files hold no records");
    let rows = check_plan(rows, &files, args.allow_partial)?;
    let mut config = AnalysisConfig {
        ignore_machine: args.ignore_machine,
        ..AnalysisConfig::default()
    };
    config.compare.margin = args.equivalence_margin;
    let analysis = analysis::analyze(&rows, &config)?;
    let baseline = match &args.baseline {
        Some(path) => {
            let base = report::io::read_results(path).context("reading the baseline")?;
            let gate = BaselineConfig {
                threshold: args.threshold,
                margin: args.equivalence_margin,
                require_equivalent: args.require_equivalent,
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
    Ok(baseline.map_or(0, |b| b.failures()))
}

/// The files the RESULTS arguments name: files, the results files of folders, and glob matches.
fn results_files(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        if !arg.exists() && text.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(&text)
                .with_context(|| format!("pattern '{text}'"))?
                .filter_map(Result::ok)
                // 'out/*.json' also matches the manifests beside the results.
                .filter(|p| !p.to_string_lossy().ends_with(".manifest.json"))
                .collect();
            anyhow::ensure!(!matches.is_empty(), "pattern '{text}' matches no file");
            for path in matches {
                files.extend(report::merge::results_files(&path)?);
            }
        } else {
            let found = report::merge::results_files(arg)?;
            anyhow::ensure!(
                !found.is_empty(),
                "folder {} holds no results files",
                arg.display()
            );
            files.extend(found);
        }
    }
    Ok(files)
}

/// Checks that records of a sharded sweep make one complete plan (see `report::merge`); with
/// `allow_partial` only warns, and keeps the first record of a job recorded twice.
fn check_plan(
    rows: Vec<report::ResultRow>,
    files: &[PathBuf],
    allow_partial: bool,
) -> Result<Vec<report::ResultRow>> {
    let manifests: Vec<_> = report::merge::manifests_for(files)?
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    let coverage = report::merge::coverage(&rows, &manifests);
    if !coverage.plans.is_empty() && !coverage.has_manifest {
        eprintln!(
            "analyze-latency: warning: no manifest (<stem>.manifest.json) beside the results: \
             whether every job of the plan is here cannot be checked"
        );
    }
    for (id, label, cause) in &coverage.failed {
        eprintln!("analyze-latency: note: job {id} ({label}) failed during the run: {cause}");
    }
    if coverage.is_complete() {
        return Ok(rows);
    }
    for problem in coverage.problems() {
        eprintln!("analyze-latency: {problem}");
    }
    anyhow::ensure!(
        allow_partial,
        "the results are not one complete plan (above); --allow-partial analyses them anyway"
    );
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| {
            r.job_id
                .as_ref()
                .is_none_or(|id| seen.insert((id.clone(), r.repeat_index)))
        })
        .collect())
}

/// The results files as messages name them.
fn results_name(args: &Args) -> String {
    match args.results.as_slice() {
        [one] => one.display().to_string(),
        _ => "RESULTS (their records numbered across the files, in the order given)".to_owned(),
    }
}
