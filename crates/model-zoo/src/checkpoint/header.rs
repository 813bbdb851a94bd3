//! The header of a safetensors file, read and checked without reading the tensors.
//!
//! A safetensors file is an 8-byte little-endian header length `N`, `N` bytes of JSON (one entry
//! per tensor with its dtype, shape and byte range in the data that follows, plus an optional
//! `__metadata__` map of strings), then the data. Reading the header costs two small reads, so a
//! config check can find broken files (a Git LFS pointer, an interrupted download) before any
//! model is built.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The first line of a Git LFS pointer file (what `git clone` leaves without `git lfs`).
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// The parts of a safetensors header this crate uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// Each tensor's name and shape.
    pub tensors: BTreeMap<String, Vec<i64>>,
    /// The `__metadata__` map (string to string); empty when the file has none.
    pub metadata: BTreeMap<String, String>,
    /// Each tensor's type and bytes in the file, for [`Reader`](super::Reader).
    pub(crate) data: BTreeMap<String, TensorData>,
}

/// Where a tensor's bytes lie in a safetensors file, and their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TensorData {
    /// The dtype as the header spells it (`F32`, `BF16`, ...).
    pub dtype: String,
    /// The first byte, from the start of the file.
    pub start: u64,
    /// One past the last byte, from the start of the file.
    pub end: u64,
}

/// Bytes per value of a safetensors dtype; `None` for one this crate does not know.
pub(crate) fn dtype_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

impl Header {
    /// Names `safetensors.torch.save_model` dropped because they share storage with a kept tensor,
    /// each with the kept name: the `__metadata__` entries whose key is not a tensor of the file
    /// and whose value is one.
    pub fn shared_names(&self) -> BTreeMap<String, String> {
        self.metadata
            .iter()
            .filter(|(dropped, kept)| {
                !self.tensors.contains_key(*dropped) && self.tensors.contains_key(*kept)
            })
            .map(|(dropped, kept)| (dropped.clone(), kept.clone()))
            .collect()
    }
}

/// Checks that `path` is a complete safetensors file: not a Git LFS pointer, a header length and
/// header JSON that fit the file, and every tensor's bytes within it. Reads the first 8 bytes and
/// the header only.
///
/// # Errors
/// [`Error::CheckpointFile`] saying what the file is and what to do about it.
pub fn check_file(path: &Path) -> Result<()> {
    read_header(path).map(|_| ())
}

/// Reads and checks the header of the safetensors file at `path` (see [`check_file`]).
///
/// # Errors
/// As [`check_file`].
pub fn read_header(path: &Path) -> Result<Header> {
    let bad = |message: String| Error::CheckpointFile {
        path: path.to_owned(),
        message,
    };
    let mut file = File::open(path).map_err(|e| bad(format!("cannot be opened: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| bad(format!("cannot be read: {e}")))?
        .len();
    let mut start = Vec::with_capacity(LFS_POINTER.len());
    (&mut file)
        .take(LFS_POINTER.len() as u64)
        .read_to_end(&mut start)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    if start == LFS_POINTER {
        return Err(bad(lfs_message(size)));
    }
    if size < 8 {
        return Err(bad(format!(
            "is {size} bytes long, too short for a safetensors file (8-byte header length, then \
             the header); the file is truncated or not a safetensors file"
        )));
    }
    let header_len = u64::from_le_bytes(start[..8].try_into().expect("8 bytes read"));
    if header_len > size - 8 {
        return Err(bad(format!(
            "its header length field says {header_len} bytes, but the file has only {} after it: \
             the file is truncated (download it again) or not a safetensors file",
            size - 8
        )));
    }
    let mut json = start[8..].to_vec();
    (&mut file)
        .take(header_len.saturating_sub(json.len() as u64))
        .read_to_end(&mut json)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    json.truncate(header_len as usize);
    let value: Value = serde_json::from_slice(&json).map_err(|e| {
        bad(format!(
            "its {header_len}-byte header is not valid JSON ({e}): the file is damaged or not a \
             safetensors file"
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(bad(
            "its header is not a JSON object: the file is damaged or not a safetensors file"
                .to_owned(),
        ));
    };
    parse_entries(map, 8 + header_len, size - 8 - header_len).map_err(bad)
}

fn lfs_message(size: u64) -> String {
    format!(
        "is a Git LFS pointer ({size} bytes of text), not the weights: fetch the real file with \
         `git lfs pull` in its repository (or download it again with git-lfs installed)"
    )
}

/// Refuses a Git LFS pointer in place of any weight file (e.g. a TorchScript `.pt`); reads the
/// first 42 bytes only.
///
/// # Errors
/// [`Error::CheckpointFile`] for a pointer or a file that cannot be read.
pub fn check_not_lfs_pointer(path: &Path) -> Result<()> {
    let bad = |message: String| Error::CheckpointFile {
        path: path.to_owned(),
        message,
    };
    let mut start = Vec::with_capacity(LFS_POINTER.len());
    let mut file = File::open(path).map_err(|e| bad(format!("cannot be opened: {e}")))?;
    (&mut file)
        .take(LFS_POINTER.len() as u64)
        .read_to_end(&mut start)
        .map_err(|e| bad(format!("cannot be read: {e}")))?;
    if start == LFS_POINTER {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        return Err(bad(lfs_message(size)));
    }
    Ok(())
}

/// The tensors and metadata of a header; checks each tensor's byte range against `data_len`, the
/// bytes the file holds after its header (which start at byte `data_start` of the file), and
/// against its dtype and shape.
fn parse_entries(
    map: Map<String, Value>,
    data_start: u64,
    data_len: u64,
) -> std::result::Result<Header, String> {
    let mut header = Header::default();
    let mut data_end = 0u64;
    for (name, entry) in map {
        if name == "__metadata__" {
            let Value::Object(metadata) = entry else {
                return Err("its __metadata__ is not a map of strings".to_owned());
            };
            for (key, value) in metadata {
                let Value::String(value) = value else {
                    return Err(format!("its __metadata__ entry '{key}' is not a string"));
                };
                header.metadata.insert(key, value);
            }
            continue;
        }
        let malformed = || format!("the header entry of tensor '{name}' is malformed");
        let dtype = entry
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(malformed)?
            .to_owned();
        let shape = entry
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(malformed)?
            .iter()
            .map(|d| d.as_i64().filter(|&d| d >= 0))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(malformed)?;
        let offsets = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|o| Some((o.first()?.as_u64()?, o.get(1)?.as_u64()?)))
            .ok_or_else(malformed)?;
        if offsets.0 > offsets.1 {
            return Err(malformed());
        }
        if let Some(bytes) = dtype_bytes(&dtype) {
            let want = shape
                .iter()
                .try_fold(bytes, |n, &d| n.checked_mul(d as u64));
            if want != Some(offsets.1 - offsets.0) {
                return Err(format!(
                    "the header entry of tensor '{name}' spans {} bytes, but {dtype} {shape:?} \
                     needs {}: the file is damaged or not a safetensors file",
                    offsets.1 - offsets.0,
                    want.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string()),
                ));
            }
        }
        data_end = data_end.max(offsets.1);
        header.data.insert(
            name.clone(),
            TensorData {
                dtype,
                // Saturating: a range past the end is refused below, once every entry is read.
                start: data_start.saturating_add(offsets.0),
                end: data_start.saturating_add(offsets.1),
            },
        );
        header.tensors.insert(name, shape);
    }
    if data_end > data_len {
        return Err(format!(
            "is truncated: its tensors need {data_end} bytes of data, the file holds {data_len} \
             (download it again)"
        ));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8], test: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "model-zoo-header-{test}-{}.safetensors",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn safetensors(header: &str, data: usize) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.resize(bytes.len() + data, 0);
        bytes
    }

    #[test]
    fn a_complete_file_reads_its_names_shapes_and_metadata() {
        let header = r#"{"__metadata__":{"b":"a","format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#;
        let path = file_with(&safetensors(header, 24), "complete");
        let header = read_header(&path).unwrap();
        assert_eq!(header.tensors["a"], vec![2, 3]);
        assert_eq!(header.metadata["format"], "pt");
        assert_eq!(
            header.shared_names().into_iter().collect::<Vec<_>>(),
            vec![("b".to_owned(), "a".to_owned())]
        );
    }

    #[test]
    fn broken_files_say_what_they_are() {
        let header = r#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#;
        let cases: [(Vec<u8>, &str); 7] = [
            (
                b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n".to_vec(),
                "is a Git LFS pointer",
            ),
            (vec![1, 2, 3], "too short for a safetensors file"),
            (
                safetensors(header, 24)[..40].to_vec(),
                "header length field says",
            ),
            (safetensors(header, 10), "is truncated: its tensors need 24"),
            (safetensors("{\"a\": 1", 0), "is not valid JSON"),
            (
                safetensors(r#"{"a":{"shape":[2],"data_offsets":[4]}}"#, 8),
                "tensor 'a' is malformed",
            ),
            (
                safetensors(
                    r#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#,
                    24,
                ),
                "tensor 'a' spans 20 bytes, but F32 [2, 3] needs 24",
            ),
        ];
        for (index, (bytes, want)) in cases.into_iter().enumerate() {
            let path = file_with(&bytes, &format!("broken-{index}"));
            let err = check_file(&path).unwrap_err().to_string();
            assert!(
                err.contains(want) && err.contains(&path.display().to_string()),
                "{want}: {err}"
            );
        }
    }
}
