//! Loading weights from safetensors files, with a complete report of names that do not fit.

use std::fmt;
use std::path::{Path, PathBuf};

use tch::Tensor;

use crate::error::{Error, Result};

mod header;
mod reader;

pub use header::{Header, check_file, check_not_lfs_pointer, read_header};
pub use reader::Reader;
#[cfg(test)]
pub(crate) use reader::testutil::unsupported_dtype_file;

/// Every tensor name that did not fit the architecture. Missing and misshaped tensors make a
/// checkpoint unusable; unexpected ones are only worth a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameReport {
    /// Tensors the architecture needs that the file lacks: name and expected shape.
    pub missing: Vec<(String, Vec<i64>)>,
    /// Tensors whose shape differs: name, expected shape, shape in the file.
    pub misshaped: Vec<(String, Vec<i64>, Vec<i64>)>,
    /// Tensors in the file that the architecture does not use: name and shape.
    pub unexpected: Vec<(String, Vec<i64>)>,
}

impl NameReport {
    /// Whether the checkpoint can be used (nothing missing or misshaped).
    pub fn is_usable(&self) -> bool {
        self.missing.is_empty() && self.misshaped.is_empty()
    }
}

impl fmt::Display for NameReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (name, shape) in &self.missing {
            parts.push(format!("missing {name} {shape:?}"));
        }
        for (name, want, got) in &self.misshaped {
            parts.push(format!("{name} has shape {got:?}, expected {want:?}"));
        }
        for (name, shape) in &self.unexpected {
            parts.push(format!("unexpected {name} {shape:?}"));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The safetensors file a `pretrained_checkpoint` names: the file itself, or `model.safetensors`
/// inside a directory; checked with [`check_file`] (its header only).
///
/// # Errors
/// [`Error::CheckpointFile`] when the path does not exist, holds no `model.safetensors`, or the
/// file is not a complete safetensors file (a Git LFS pointer, a truncated download).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let bad = |message: String| Error::CheckpointFile {
        path: path.to_owned(),
        message,
    };
    if path.is_dir() {
        let file = path.join("model.safetensors");
        return if file.is_file() {
            check_file(&file)?;
            Ok(file)
        } else {
            Err(bad("is a directory without model.safetensors".into()))
        };
    }
    if !path.exists() {
        return Err(bad("does not exist".into()));
    }
    if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(bad(
            "is not a .safetensors file (convert PyTorch/Composer .pt files first; see docs/models.md)".into(),
        ));
    }
    check_file(path)?;
    Ok(path.to_owned())
}

/// Reads every tensor of a safetensors file, in name order, each straight into its own memory
/// (see [`Reader`]).
///
/// # Errors
/// [`Error::CheckpointFile`] when it cannot be read or parsed.
pub fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let reader = Reader::open(path)?;
    reader
        .header()
        .tensors
        .keys()
        .map(|name| Ok((name.clone(), reader.read(name)?)))
        .collect()
}
