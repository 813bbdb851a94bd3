//! Notes: records whose raw latencies cannot be used, said once per record.
//!
//! One policy for a bad record everywhere (rankings, pairwise comparisons, baselines): a record
//! whose `latencies_ms` is not a usable sample set (empty, a non-finite or negative value, a median
//! of 0) keeps its place in every table, but its intervals, p-values and verdicts are skipped, and
//! one [`Note`] says so. Nothing aborts because of one record.

use serde::Serialize;
use timing_core::stats::Samples;

use crate::schema::{ResultRow, Shape};

/// Which input a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The results being analysed (several files are numbered as one list, in file order).
    Results,
    /// The baseline of a comparison.
    Baseline,
}

/// A record whose statistics were (partly) skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Note {
    /// The input the record came from.
    pub origin: Origin,
    /// The record's 1-based position in that input.
    pub record: usize,
    /// Its model.
    pub model_name: String,
    /// Its shape.
    pub shape: Shape,
    /// What was skipped and why.
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = match self.origin {
            Origin::Results => "",
            Origin::Baseline => "baseline ",
        };
        write!(
            f,
            "{origin}record {} (model {}, {}): {}",
            self.record, self.model_name, self.shape, self.message
        )
    }
}

impl Note {
    /// A note on `rows[index]`.
    pub(crate) fn new(origin: Origin, index: usize, row: &ResultRow, message: String) -> Self {
        Self {
            origin,
            record: index + 1,
            model_name: row.model_name.clone(),
            shape: row.shape(),
            message,
        }
    }
}

/// Each record's raw latencies as samples, where they are usable, and a note for each record
/// whose `latencies_ms` is present but unusable. Records without raw latencies (CSV files, the
/// Python tool's files) get `None` and no note: that is normal, and the tables say so.
pub(crate) fn raw_samples(rows: &[ResultRow], origin: Origin) -> (Vec<Option<Samples>>, Vec<Note>) {
    let mut notes = Vec::new();
    let samples = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let raw = row.latencies_ms.as_ref()?;
            let problem = match problem(raw) {
                Some(problem) => problem,
                None => match Samples::new(raw.clone()) {
                    Ok(samples) if samples.median() > 0.0 => return Some(samples),
                    Ok(_) => "their median is 0, so no ratio can be formed".to_owned(),
                    Err(e) => e.to_string(),
                },
            };
            notes.push(Note::new(
                origin,
                index,
                row,
                format!(
                    "no raw latencies usable: {problem}; its intervals and verdicts are skipped"
                ),
            ));
            None
        })
        .collect();
    (samples, notes)
}

/// What makes `raw` unusable as samples, with 1-based element numbers as in the file.
fn problem(raw: &[f64]) -> Option<String> {
    if raw.is_empty() {
        return Some("the list is empty".into());
    }
    let (index, value) = raw
        .iter()
        .enumerate()
        .find(|(_, x)| !x.is_finite() || **x < 0.0)?;
    Some(if value.is_finite() {
        format!("element {} is {value}, a negative duration", index + 1)
    } else {
        format!("element {} is {value}, not a finite number", index + 1)
    })
}
