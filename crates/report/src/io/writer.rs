//! `ResultsWriter`: writes the CSV and the JSON after every record, atomically.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::schema::ResultRow;

/// Keeps a run's records and rewrites `<stem>.csv` and `<stem>.json` after each one, each through a
/// temporary file renamed into place, so a crash or Ctrl-C after k records leaves k complete
/// records and never a half-written file.
#[derive(Debug)]
pub struct ResultsWriter {
    csv_path: PathBuf,
    json_path: PathBuf,
    rows: Vec<ResultRow>,
}

impl ResultsWriter {
    /// A writer for `csv_path` and the JSON file with the same stem beside it. Nothing is written
    /// until the first [`append`](Self::append).
    ///
    /// # Errors
    /// [`Error::UnsupportedFormat`] when `csv_path` ends in `.json` (the two files would collide).
    pub fn new(csv_path: impl Into<PathBuf>) -> Result<Self> {
        let csv_path = csv_path.into();
        let json_path = csv_path.with_extension("json");
        if json_path == csv_path {
            return Err(Error::UnsupportedFormat(csv_path));
        }
        Ok(Self {
            csv_path,
            json_path,
            rows: Vec::new(),
        })
    }

    /// The CSV file's path.
    pub fn csv_path(&self) -> &Path {
        &self.csv_path
    }

    /// The JSON file's path.
    pub fn json_path(&self) -> &Path {
        &self.json_path
    }

    /// The records written so far.
    pub fn rows(&self) -> &[ResultRow] {
        &self.rows
    }

    /// Adds `row` and rewrites both files.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that could not be written; the record stays in memory.
    pub fn append(&mut self, row: ResultRow) -> Result<()> {
        self.rows.push(row);
        write_atomic(&self.csv_path, super::to_csv(&self.rows)?.as_bytes())?;
        write_atomic(&self.json_path, super::to_json(&self.rows)?.as_bytes())
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        // Best effort: a leftover temporary file is harmless but untidy.
        let _ = std::fs::remove_file(&temp);
        Error::io(path, e)
    })
}
