//! Reading a safetensors file one tensor at a time, each straight into the storage it keeps.
//!
//! A tensor's bytes are read from the file into a fresh tensor's own memory (a seek and one read,
//! no intermediate buffer), so loading a model holds one copy of its weights, not two:
//! `Tensor::read_safetensors` reads the whole file into a buffer, then copies every tensor out
//! of it. The file is not memory-mapped on purpose: weights backed by a file mapping count as
//! page cache, which the kernel may drop under memory pressure and fault back in during a timed
//! forward pass; fresh anonymous memory stays put.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use super::header::{Header, read_header};
use crate::error::{Error, Result};

/// An open safetensors file whose header has been read and checked.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    file: File,
    header: Header,
}

/// The tensor type of a safetensors dtype, for the types libtorch holds.
fn kind_of(dtype: &str) -> Option<Kind> {
    Some(match dtype {
        "F64" => Kind::Double,
        "F32" => Kind::Float,
        "F16" => Kind::Half,
        "BF16" => Kind::BFloat16,
        "I64" => Kind::Int64,
        "I32" => Kind::Int,
        "I16" => Kind::Int16,
        "I8" => Kind::Int8,
        "U8" => Kind::Uint8,
        "BOOL" => Kind::Bool,
        _ => return None,
    })
}

impl Reader {
    /// Opens `path` and reads its header ([`read_header`]); no tensor data is read yet.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`] when the file cannot be opened or is not a complete safetensors
    /// file.
    pub fn open(path: &Path) -> Result<Self> {
        let header = read_header(path)?;
        let file = File::open(path).map_err(|e| Error::CheckpointFile {
            path: path.to_owned(),
            message: format!("cannot be opened: {e}"),
        })?;
        Ok(Self {
            path: path.to_owned(),
            file,
            header,
        })
    }

    /// The file's header: every tensor's name and shape, and its metadata.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tensor `name`, as stored (its dtype, on the CPU), read from the file into its own
    /// memory.
    ///
    /// # Errors
    /// [`Error::CheckpointFile`] when the file has no such tensor, its dtype is not one libtorch
    /// holds (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL), or its bytes cannot be read.
    pub fn read(&self, name: &str) -> Result<Tensor> {
        let bad = |message: String| Error::CheckpointFile {
            path: self.path.clone(),
            message: format!("tensor '{name}' {message}"),
        };
        let (Some(data), Some(shape)) = (self.header.data.get(name), self.header.tensors.get(name))
        else {
            return Err(bad("is not in the file".to_owned()));
        };
        let kind = kind_of(&data.dtype).ok_or_else(|| {
            bad(format!(
                "has dtype {}, which cannot be loaded (supported: F64, F32, F16, BF16, I64, I32, \
                 I16, I8, U8, BOOL)",
                data.dtype
            ))
        })?;
        if cfg!(target_endian = "big") && kind.elt_size_in_bytes() > 1 {
            return Err(bad(
                "cannot be loaded on a big-endian machine (safetensors data is little-endian)"
                    .to_owned(),
            ));
        }
        let tensor = Tensor::f_empty(shape.as_slice(), (kind, Device::Cpu))?;
        let len = usize::try_from(data.end - data.start)
            .map_err(|_| bad("is too large for this machine".to_owned()))?;
        // The header check matched the byte range to the dtype and shape; this keeps the unsafe
        // block below sound whatever the header says.
        if tensor.numel().checked_mul(kind.elt_size_in_bytes()) != Some(len) {
            return Err(bad(format!(
                "spans {len} bytes, which do not hold {} {shape:?}",
                data.dtype
            )));
        }
        if len > 0 {
            // SAFETY: `tensor` was just allocated as a contiguous CPU tensor of exactly `len`
            // bytes (checked above), nothing else refers to its storage, and the slice is dropped
            // before `tensor` is returned.
            let bytes =
                unsafe { std::slice::from_raw_parts_mut(tensor.data_ptr().cast::<u8>(), len) };
            populate(bytes);
            let mut file = &self.file;
            file.seek(SeekFrom::Start(data.start))
                .and_then(|_| file.read_exact(bytes))
                .map_err(|e| bad(format!("cannot be read: {e}")))?;
        }
        Ok(tensor)
    }
}

/// Below this many bytes a tensor's pages are left to fault in one by one.
const POPULATE_BYTES: usize = 1 << 20;

/// Maps the pages of a fresh buffer about to be overwritten in one call
/// (`madvise(MADV_POPULATE_WRITE)`, Linux ≥ 5.14) rather than one page fault each while the file
/// is read into it: the same memory, a quarter less time on the 2-core VM of
/// docs/performance.md, where a fault costs microseconds. Best effort: where the call fails
/// (older kernels) the pages fault in as before.
#[cfg(target_os = "linux")]
fn populate(bytes: &mut [u8]) {
    const PAGE: usize = 4096;
    if bytes.len() < POPULATE_BYTES {
        return;
    }
    let start = bytes.as_mut_ptr() as usize;
    // Whole pages inside the buffer only: its first and last pages may hold other allocations.
    let first = start.div_ceil(PAGE) * PAGE;
    let end = (start + bytes.len()) / PAGE * PAGE;
    if end > first {
        // SAFETY: [first, end) lies within `bytes`, memory this process owns and may write;
        // MADV_POPULATE_WRITE only faults those pages in (writable, contents unchanged), and the
        // return value is ignored on purpose (see above).
        let _ = unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                end - first,
                libc::MADV_POPULATE_WRITE,
            )
        };
    }
}

#[cfg(not(target_os = "linux"))]
fn populate(_bytes: &mut [u8]) {}

/// Files for tests here and in `layers::params`.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    /// A safetensors file with `a` (F32 `[2]`) and `b` (U16 `[2]`, which tch has no type for).
    pub(crate) fn unsupported_dtype_file(test: &str) -> PathBuf {
        let header = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U16","shape":[2],"data_offsets":[8,12]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 12]);
        let path = std::env::temp_dir().join(format!(
            "model-zoo-{test}-{}.safetensors",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_read_one_by_one_equal_what_libtorch_wrote() {
        let path = std::env::temp_dir().join(format!(
            "model-zoo-reader-{}.safetensors",
            std::process::id()
        ));
        let tensors = [
            ("f32", Tensor::randn([3, 5], (Kind::Float, Device::Cpu))),
            ("bf16", Tensor::randn([7], (Kind::BFloat16, Device::Cpu))),
            (
                "i64",
                Tensor::arange(6, (Kind::Int64, Device::Cpu)).view([2, 3]),
            ),
            ("empty", Tensor::zeros([0, 4], (Kind::Float, Device::Cpu))),
            // Over POPULATE_BYTES: its pages are mapped in one call before the read.
            (
                "big",
                Tensor::randn([600, 1024], (Kind::Float, Device::Cpu)),
            ),
            ("scalar", Tensor::from(2.5f64)),
        ];
        Tensor::write_safetensors(&tensors, &path).unwrap();
        let reader = Reader::open(&path).unwrap();
        for (name, want) in &tensors {
            let got = reader.read(name).unwrap();
            assert_eq!(
                (got.kind(), got.size()),
                (want.kind(), want.size()),
                "{name}"
            );
            assert!(got.equal(want), "{name}");
        }
        let err = reader.read("nope").unwrap_err().to_string();
        assert!(err.contains("tensor 'nope' is not in the file"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_dtype_libtorch_cannot_hold_is_an_error_naming_the_tensor() {
        let path = testutil::unsupported_dtype_file("reader");
        let reader = Reader::open(&path).unwrap();
        assert_eq!(reader.read("a").unwrap().size(), [2]);
        let err = reader.read("b").unwrap_err().to_string();
        assert!(
            err.contains("tensor 'b' has dtype U16, which cannot be loaded")
                && err.contains(&path.display().to_string()),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
