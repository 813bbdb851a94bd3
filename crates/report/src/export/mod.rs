//! Rendering an analysis (and a baseline comparison) as text, markdown or JSON.
//!
//! The text and markdown reports are built from one list of [`Block`]s, so both always hold the
//! same content in the same order: the Python analyzer's sections (Summary, Performance Rankings,
//! Model Type Comparison, Efficiency Analysis, Pairwise Comparisons), then Baseline Comparison.

mod document;
mod markdown;
mod text;

use serde::Serialize;

use crate::analysis::{Analysis, BaselineReport};
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
