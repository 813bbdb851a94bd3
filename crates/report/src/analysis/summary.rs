//! The summary section: what the records cover.

use serde::Serialize;

use crate::schema::ResultRow;

/// Counts and distinct values across all records (sorted, distinct).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of records.
    pub records: usize,
    /// Distinct model names, in order of first appearance.
    pub models: Vec<String>,
    /// Distinct model types.
    pub model_types: Vec<String>,
    /// Distinct batch sizes.
    pub batch_sizes: Vec<u64>,
    /// Distinct sequence lengths.
    pub sequence_lengths: Vec<u64>,
    /// Distinct devices (`unknown` for Python tool files).
    pub devices: Vec<String>,
    /// Distinct dtypes (`unknown` for Python tool files).
    pub dtypes: Vec<String>,
    /// Distinct machines (`unknown machine` for Python tool files).
    pub machines: Vec<String>,
}

impl Summary {
    /// Summarizes `rows`.
    pub fn new(rows: &[ResultRow]) -> Self {
        let mut seen = std::collections::HashSet::new();
        let models = rows
            .iter()
            .filter(|row| seen.insert(row.model_name.as_str()))
            .map(|row| row.model_name.clone())
            .collect();
        Self {
            records: rows.len(),
            models,
            model_types: distinct(rows.iter().map(|r| r.model_type.clone())),
            batch_sizes: distinct(rows.iter().map(|r| r.batch_size)),
            sequence_lengths: distinct(rows.iter().map(|r| r.sequence_length)),
            devices: distinct(rows.iter().map(|r| r.shape().device)),
            dtypes: distinct(rows.iter().map(|r| r.shape().dtype)),
            machines: distinct(rows.iter().map(|r| r.machine().to_string())),
        }
    }
}

fn distinct<T: Ord>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut values: Vec<T> = values.collect();
    values.sort();
    values.dedup();
    values
}
