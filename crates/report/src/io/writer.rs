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

    /// A writer for `csv_path` that keeps `rows` (records of an earlier, interrupted run being
    /// resumed) and appends after them.
    ///
    /// # Errors
    /// As [`ResultsWriter::new`].
    pub fn resume(csv_path: impl Into<PathBuf>, rows: Vec<ResultRow>) -> Result<Self> {
        let mut writer = Self::new(csv_path)?;
        writer.rows = rows;
        Ok(writer)
    }

    /// Creates the results files' folder if it does not exist, and checks that files can be
    /// written there: called before anything is measured, so that no measurement is lost to a
    /// bad `--output-file`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the folder that cannot be created or written.
    pub fn prepare(&self) -> Result<()> {
        let dir = folder_of(&self.csv_path);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        for path in [&self.csv_path, &self.json_path] {
            if path.is_dir() {
                return Err(Error::io(
                    path,
                    std::io::Error::other("is a folder, not a results file"),
                ));
            }
        }
        let probe = dir.join(format!(".bert-latency-probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(|e| Error::io(&dir, e))?;
        // Best effort: the probe is empty and hidden.
        let _ = std::fs::remove_file(&probe);
        Ok(())
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

/// Replaces `path` with `bytes` atomically and durably: a temporary file beside it is written,
/// synced, renamed over it, and the folder is synced (atomic-write-file), so a crash leaves the
/// old file or the new one, never a mix.
///
/// # Errors
/// [`Error::Io`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let result = (|| {
        let mut file = atomic_write_file::AtomicWriteFile::open(path)?;
        file.write_all(bytes)?;
        file.commit()
    })();
    result.map_err(|e| Error::io(path, e))
}

/// The folder a file is in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_creates_the_folder_before_anything_is_written() {
        let root = std::env::temp_dir().join(format!("writer-prepare-{}", std::process::id()));
        let csv = root.join("a/b/results.csv");
        let writer = ResultsWriter::new(&csv).unwrap();
        writer.prepare().unwrap();
        assert!(root.join("a/b").is_dir());
        assert_eq!(std::fs::read_dir(root.join("a/b")).unwrap().count(), 0);
        // A folder that cannot be created (a file is in the way) is an error naming it.
        std::fs::write(root.join("file"), b"x").unwrap();
        let blocked = ResultsWriter::new(root.join("file/results.csv")).unwrap();
        let err = blocked.prepare().unwrap_err().to_string();
        assert!(err.contains("file"), "{err}");
        // A results path that is a folder is refused before anything is measured.
        std::fs::create_dir_all(root.join("dir.csv")).unwrap();
        let folder = ResultsWriter::new(root.join("dir.csv")).unwrap();
        let err = folder.prepare().unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn write_atomic_replaces_the_whole_file() {
        let root = std::env::temp_dir().join(format!("writer-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let path = root.join("x.json");
        write_atomic(&path, b"first, longer content").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
