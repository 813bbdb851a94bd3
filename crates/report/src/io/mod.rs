//! Reading and writing results files (CSV or JSON, chosen by extension).

mod csv;
mod json;
mod writer;

use std::path::Path;

pub use self::writer::{ResultsWriter, write_atomic};
use crate::error::{Error, Result};
use crate::schema::ResultRow;

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON list of objects.
    Json,
}

impl Format {
    /// The format named by `path`'s extension.
    ///
    /// # Errors
    /// [`Error::UnsupportedFormat`] for anything but `.csv` and `.json`.
    pub fn of(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Self::Csv),
            Some("json") => Ok(Self::Json),
            _ => Err(Error::UnsupportedFormat(path.to_owned())),
        }
    }
}

/// Reads one results file, written by us or by the Python tool.
///
/// # Errors
/// [`Error::Io`] when it cannot be read, [`Error::UnsupportedFormat`] for another extension,
/// [`Error::Malformed`] naming the line or record and the field when its content does not fit.
pub fn read_results(path: &Path) -> Result<Vec<ResultRow>> {
    let format = Format::of(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut rows = match format {
        Format::Csv => csv::parse(path, &text),
        Format::Json => json::parse(path, &text),
    }?;
    rows.iter_mut().for_each(ResultRow::upgrade_legacy);
    Ok(rows)
}

/// Reads several results files and merges their records, in file order (e.g. runs of several
/// machines).
///
/// # Errors
/// The first file's error, as [`read_results`].
pub fn read_many<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    for path in paths {
        rows.extend(read_results(path.as_ref())?);
    }
    Ok(rows)
}

/// Serializes `rows` as CSV text (header plus one line per record).
///
/// # Errors
/// Only if a record cannot be serialized, which the schema rules out.
pub fn to_csv(rows: &[ResultRow]) -> Result<String> {
    csv::render(rows)
}

/// Serializes `rows` as a pretty-printed JSON list.
///
/// # Errors
/// Only if a record cannot be serialized, which the schema rules out.
pub fn to_json(rows: &[ResultRow]) -> Result<String> {
    json::render(rows)
}
