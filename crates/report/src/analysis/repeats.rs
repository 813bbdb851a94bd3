//! Repeated runs (`latency-analysis --repeat K`): the same jobs measured in K fresh processes.
//! Per model and group: each run's median, their spread and the t interval of their mean (the
//! between-run view), beside the within-run interval of the median; and each process's cold
//! start.

use serde::Serialize;
use timing_core::stats::{Level, Samples, between_runs, quantile_ci};

use crate::schema::{ResultRow, Shape};

/// One model in one group, measured in several runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatedRuns {
    /// The model.
    pub model_name: String,
    /// Its group.
    pub shape: Shape,
    /// The runs found, by `repeat_index` (ascending).
    pub runs: Vec<u64>,
    /// `repeats` as recorded (K of `--repeat K`), if the records agree on it.
    pub repeats: Option<u64>,
    /// Each run's median latency, ms, in run order.
    pub run_medians: Vec<f64>,
    /// The mean of the run medians, ms.
    pub mean_median: f64,
    /// Between-run spread: the standard deviation of the run medians over their mean.
    pub between_run_cv: f64,
    /// The 95% t interval of the mean of the run medians, ms (`None` for one run); its lower
    /// bound is at least 0 (with 2 or 3 runs the interval can reach below 0).
    pub between_run_ci: Option<(f64, f64)>,
    /// Half the width of the between-run interval, relative to the mean: "±x" at 95%.
    pub between_run_half_width: Option<f64>,
    /// The mean of the runs' own 95% intervals of the median, half their width relative to the
    /// median: "±x" at 95%, comparable with [`Self::between_run_half_width`]. From the raw
    /// latencies, else from the recorded `median_ci_low`/`median_ci_high`.
    pub within_run_half_width: Option<f64>,
    /// Each run's cold start: seconds from process start to the model built (only a process's
    /// first model has one), in run order.
    pub process_to_built_s: Vec<Option<f64>>,
    /// Each run's first forward (the cold call), ms, in run order.
    pub first_latency: Vec<Option<f64>>,
}

/// The repeated runs among `rows`: records with a `repeat_index`, grouped by model and group (in
/// order of first appearance); a model measured in fewer than two runs is left out.
pub fn repeated_runs(rows: &[ResultRow], ignore_machine: bool) -> Vec<RepeatedRuns> {
    let mut keys: Vec<(String, Shape)> = Vec::new();
    let mut members: Vec<Vec<&ResultRow>> = Vec::new();
    for row in rows.iter().filter(|r| r.repeat_index.is_some()) {
        let key = (row.model_name.clone(), row.group(ignore_machine));
        match keys.iter().position(|k| *k == key) {
            Some(i) => members[i].push(row),
            None => {
                keys.push(key);
                members.push(vec![row]);
            }
        }
    }
    keys.into_iter()
        .zip(members)
        .filter_map(|((model_name, shape), mut runs)| {
            runs.sort_by_key(|r| r.repeat_index);
            summarize(model_name, shape, &runs)
        })
        .collect()
}

fn summarize(model_name: String, shape: Shape, runs: &[&ResultRow]) -> Option<RepeatedRuns> {
    if runs.len() < 2 {
        return None;
    }
    let run_medians: Vec<f64> = runs.iter().map(|r| r.median_latency).collect();
    let spread = between_runs(&run_medians, Level::default()).ok()?;
    let widths: Vec<f64> =
        runs.iter()
            .filter_map(|r| {
                let recorded = || {
                    let (lo, hi) = (r.median_ci_low?, r.median_ci_high?);
                    (r.median_latency > 0.0).then(|| (hi - lo) / r.median_latency)
                };
                match r.latencies_ms.clone().map(Samples::new) {
                    Some(Ok(samples)) => quantile_ci(&samples, 0.5, Level::default())
                        .relative_width(samples.median()),
                    _ => recorded(),
                }
                .map(|w| w / 2.0)
            })
            .collect();
    let between_run_ci = spread.ci.bounds().map(|(lo, hi)| (lo.max(0.0), hi));
    let repeats = runs[0]
        .repeats
        .filter(|k| runs.iter().all(|r| r.repeats == Some(*k)));
    Some(RepeatedRuns {
        model_name,
        shape,
        runs: runs.iter().filter_map(|r| r.repeat_index).collect(),
        repeats,
        mean_median: spread.mean,
        between_run_cv: spread.cv,
        between_run_half_width: spread
            .ci
            .bounds()
            .filter(|_| spread.mean > 0.0)
            .map(|(lo, hi)| (hi - lo) / 2.0 / spread.mean),
        between_run_ci,
        within_run_half_width: (widths.len() == runs.len())
            .then(|| widths.iter().sum::<f64>() / widths.len() as f64),
        process_to_built_s: runs.iter().map(|r| r.process_to_built_s).collect(),
        first_latency: runs.iter().map(|r| r.first_latency).collect(),
        run_medians,
    })
}
