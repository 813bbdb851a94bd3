//! Rendering an analysis (and a baseline comparison) as text, markdown or JSON.
//!
//! The text and markdown reports are built from one list of [`Block`]s, so both always hold the
//! same content in the same order: the Python analyzer's sections (Summary, Performance Rankings,
//! Model Type Comparison, Efficiency Analysis, Pairwise Comparisons), then Baseline Comparison,
//! then Notes (records whose raw latencies could not be used, once each).

mod document;
mod markdown;
mod text;

use serde::Serialize;

use crate::analysis::{Analysis, BaselineReport, Note};
use crate::error::{Error, Result};

/// A piece of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading; level 1 is a section, 2 a shape group, 3 a table's title.
    Heading(u8, String),
    /// A line of text.
    Line(String),
    /// A table: header and rows of cells.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// The report formats of `analyze-latency --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text with box-drawn tables, for terminals.
    Text,
    /// GitHub-flavoured markdown, for pull-request comments.
    Markdown,
    /// JSON, for machines.
    Json,
}

/// Renders the report in `format`.
///
/// # Errors
/// Only a JSON serialization error, which the types rule out in practice.
pub fn render(
    analysis: &Analysis,
    baseline: Option<&BaselineReport>,
    format: Format,
) -> Result<String> {
    match format {
        Format::Text => Ok(text::render(&document::blocks(analysis, baseline))),
        Format::Markdown => Ok(markdown::render(&document::blocks(analysis, baseline))),
        Format::Json => {
            #[derive(Serialize)]
            struct Report<'a> {
                #[serde(flatten)]
                analysis: &'a Analysis,
                baseline: Option<&'a BaselineReport>,
            }
            let mut out = serde_json::to_string_pretty(&Report { analysis, baseline })
                .map_err(|e| Error::io("<json>", e.into()))?;
            out.push('\n');
            Ok(out)
        }
    }
}

/// The notes of an analysis and its baseline comparison, each once (a record of the results can be
/// noted by both), in order: the results' records, then the baseline's.
pub fn notes<'a>(analysis: &'a Analysis, baseline: Option<&'a BaselineReport>) -> Vec<&'a Note> {
    let mut seen = std::collections::HashSet::new();
    let mut notes: Vec<&Note> = analysis
        .notes
        .iter()
        .chain(baseline.into_iter().flat_map(|b| &b.notes))
        .filter(|note| seen.insert(*note))
        .collect();
    notes.sort_by_key(|note| {
        (
            note.origin == crate::analysis::Origin::Baseline,
            note.record,
        )
    });
    notes
}
