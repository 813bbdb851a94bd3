//! The analysis of a set of records: what `analyze-latency` prints, section by section, in the
//! Python analyzer's order, with rankings and comparisons made within each shape group.

mod baseline;
mod by_type;
mod compare;
mod notes;
mod rank;
mod repeats;
mod summary;

use std::collections::HashMap;

use serde::Serialize;
use timing_core::stats::CompareConfig;

pub use self::baseline::{
    BaselineConfig, BaselineEntry, BaselineError, BaselineReport, Nearest, NoMatch,
    compare_to_baseline,
};
pub use self::by_type::TypeStats;
pub use self::compare::{Design, Pairwise};
pub use self::notes::{Note, Origin};
pub use self::rank::{Efficiency, Ranked, Rankings};
pub use self::repeats::{RepeatedRuns, repeated_runs};
pub use self::summary::Summary;
use crate::error::Result;
use crate::schema::{ResultRow, Shape};
use crate::table;

/// Settings of an analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisConfig {
    /// Entries per ranking (the Python analyzer's top 5).
    pub top: usize,
    /// Entries per efficiency list (the Python analyzer's top 3).
    pub top_efficiency: usize,
    /// Pairwise comparisons cover at most this many models per group (the fastest by mean
    /// latency), since their number grows with its square; 20 by default.
    pub max_pairwise_models: usize,
    /// How pairs with raw latencies are compared.
    pub compare: CompareConfig,
    /// Group records of every machine together: by default records are grouped by machine too
    /// (`device_name`, `host_name`, `num_threads`), so two machines' `cuda:0` are not ranked as
    /// one.
    pub ignore_machine: bool,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            top: 5,
            top_efficiency: 3,
            max_pairwise_models: 20,
            compare: CompareConfig::default(),
            ignore_machine: false,
        }
    }
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// What the records cover.
    pub summary: Summary,
    /// One entry per shape group, in order of first appearance.
    pub groups: Vec<GroupAnalysis>,
    /// Records whose raw latencies could not be used, one note each: their intervals and
    /// verdicts are skipped, the rest of the analysis stands.
    pub notes: Vec<Note>,
    /// The margin of the pairwise `equivalent` verdicts, as a fraction (0.02 = ±2%).
    pub equivalence_margin: f64,
    /// Models measured in several runs (`--repeat K`): between-run spread and cold starts.
    pub repeated: Vec<RepeatedRuns>,
}

/// The analysis of one shape group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAnalysis {
    /// The group's batch size, sequence length, device, dtype, inputs, time boundary and machine
    /// (unless [`AnalysisConfig::ignore_machine`]).
    pub shape: Shape,
    /// Records in the group.
    pub records: usize,
    /// The four rankings.
    pub rankings: Rankings,
    /// Per model type statistics; empty when the group has one type.
    pub model_types: Vec<TypeStats>,
    /// Per-token efficiency lists.
    pub efficiency: Efficiency,
    /// Every pair of models, in file order.
    pub pairwise: Vec<Pairwise>,
    /// Models left out of the pairwise comparisons (beyond `max_pairwise_models`).
    pub pairwise_omitted: usize,
}

/// Analyses `rows`. A record whose raw latencies are unusable does not stop it: that record's
/// intervals and verdicts are skipped, and [`Analysis::notes`] says so once.
///
/// # Errors
/// A polars error, or an invalid `config.compare`.
pub fn analyze(rows: &[ResultRow], config: &AnalysisConfig) -> Result<Analysis> {
    let repeated = repeats::repeated_runs(rows, config.ignore_machine);
    // Records of repeated runs are ranked and compared run by run: "model (run i/K)".
    let labeled: Vec<ResultRow>;
    let rows = if rows.iter().any(|r| r.repeat_index.is_some()) {
        labeled = rows
            .iter()
            .map(|r| match (r.repeat_index, r.repeats) {
                (Some(i), Some(k)) => ResultRow {
                    model_name: format!("{} (run {i}/{k})", r.model_name),
                    ..r.clone()
                },
                (Some(i), None) => ResultRow {
                    model_name: format!("{} (run {i})", r.model_name),
                    ..r.clone()
                },
                _ => r.clone(),
            })
            .collect();
        &labeled[..]
    } else {
        rows
    };
    let (shapes, group_of) = groups(rows, config.ignore_machine);
    let frame = table::to_frame(rows, &group_of)?;
    let summary = Summary::new(rows);
    let (samples, notes) = notes::raw_samples(rows, Origin::Results);
    let mut groups = Vec::new();
    for group in table::by_group(&frame)? {
        let indices: Vec<usize> = table::counts(&group, "row")?
            .into_iter()
            .map(|i| i as usize)
            .collect();
        let shape = shapes[group_of[indices[0]] as usize].clone();
        let (pairwise, pairwise_omitted) =
            compare::pairwise(rows, &samples, &shape, &indices, config)?;
        groups.push(GroupAnalysis {
            shape,
            records: indices.len(),
            rankings: rank::rankings(&group, config.top)?,
            model_types: by_type::by_type(&group)?,
            efficiency: rank::efficiency(&group, config.top_efficiency)?,
            pairwise,
            pairwise_omitted,
        });
    }
    Ok(Analysis {
        summary,
        groups,
        notes,
        equivalence_margin: config.compare.equivalence_margin(),
        repeated,
    })
}

/// The distinct groups of `rows` in order of first appearance, and each row's group number.
fn groups(rows: &[ResultRow], ignore_machine: bool) -> (Vec<Shape>, Vec<u64>) {
    let mut number: HashMap<Shape, u64> = HashMap::new();
    let mut shapes = Vec::new();
    let group_of = rows
        .iter()
        .map(|row| {
            let shape = row.group(ignore_machine);
            *number.entry(shape).or_insert_with_key(|shape| {
                shapes.push(shape.clone());
                shapes.len() as u64 - 1
            })
        })
        .collect();
    (shapes, group_of)
}
