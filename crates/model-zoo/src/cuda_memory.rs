//! CUDA caching-allocator statistics (what `torch.cuda.max_memory_allocated` and friends report),
//! read through the C++ shim `csrc/cuda_memory.cpp`: tch does not expose them.
//!
//! The shim is compiled only where the linked libtorch has CUDA and its headers were found at build
//! time ([`CUDA_MEMORY_SUPPORTED`]); elsewhere every call returns [`Error::CudaMemory`].

use crate::error::{Error, Result};

/// Whether this build can read CUDA allocator statistics.
pub const CUDA_MEMORY_SUPPORTED: bool = cfg!(cuda_shim);

/// Bytes the CUDA caching allocator holds on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CudaMemory {
    /// Bytes held by live tensors now.
    pub allocated: i64,
    /// The most bytes held by live tensors since the last [`reset_cuda_peak`].
    pub peak_allocated: i64,
    /// Bytes reserved from the driver now (live tensors plus the cache).
    pub reserved: i64,
    /// The most bytes reserved since the last [`reset_cuda_peak`].
    pub peak_reserved: i64,
}

#[cfg(cuda_shim)]
mod ffi {
    use std::ffi::c_char;

    unsafe extern "C" {
        pub fn bert_latency_cuda_memory(
            device: i32,
            allocated: *mut i64,
            peak_allocated: *mut i64,
            reserved: *mut i64,
            peak_reserved: *mut i64,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        pub fn bert_latency_cuda_reset_peak(
            device: i32,
            error: *mut c_char,
            error_len: usize,
        ) -> i32;
        pub fn bert_latency_cuda_empty_cache(error: *mut c_char, error_len: usize) -> i32;
    }
}

/// Runs one shim call with an error buffer; a non-zero status becomes [`Error::CudaMemory`] with
/// libtorch's message.
#[cfg(cuda_shim)]
fn call(f: impl FnOnce(*mut std::ffi::c_char, usize) -> i32) -> Result<()> {
    let mut buffer = [0 as std::ffi::c_char; 512];
    if f(buffer.as_mut_ptr(), buffer.len()) == 0 {
        return Ok(());
    }
    // SAFETY: the shim always NUL-terminates the buffer on failure.
    let message = unsafe { std::ffi::CStr::from_ptr(buffer.as_ptr()) };
    let message = message.to_string_lossy();
    // libtorch appends a C++ stack trace after the first line; the first line is the cause.
    Err(Error::CudaMemory(
        message
            .lines()
            .next()
            .unwrap_or("libtorch failed")
            .trim()
            .to_owned(),
    ))
}

#[cfg(not(cuda_shim))]
fn unsupported() -> Error {
    Error::CudaMemory(
        "this build cannot read CUDA allocator statistics (libtorch without CUDA, or the CUDA \
         headers were missing when model-zoo was built)"
            .to_owned(),
    )
}

fn device_index(device: usize) -> Result<i32> {
    i32::try_from(device).map_err(|_| Error::CudaMemory(format!("no CUDA device {device}")))
}

/// The allocator's current and peak bytes on CUDA device `device`.
///
/// # Errors
/// [`Error::CudaMemory`] when the device does not exist or this build has no shim.
pub fn cuda_memory(device: usize) -> Result<CudaMemory> {
    let index = device_index(device)?;
    #[cfg(cuda_shim)]
    {
        let mut m = CudaMemory {
            allocated: 0,
            peak_allocated: 0,
            reserved: 0,
            peak_reserved: 0,
        };
        call(|error, len| {
            // SAFETY: the pointers are valid for the call; the shim catches every C++ exception.
            unsafe {
                ffi::bert_latency_cuda_memory(
                    index,
                    &raw mut m.allocated,
                    &raw mut m.peak_allocated,
                    &raw mut m.reserved,
                    &raw mut m.peak_reserved,
                    error,
                    len,
                )
            }
        })?;
        Ok(m)
    }
    #[cfg(not(cuda_shim))]
    {
        let _ = index;
        Err(unsupported())
    }
}

/// Starts the peaks of CUDA device `device` again from the current values.
///
/// # Errors
/// As [`cuda_memory`].
pub fn reset_cuda_peak(device: usize) -> Result<()> {
    let index = device_index(device)?;
    #[cfg(cuda_shim)]
    {
        // SAFETY: the shim catches every C++ exception.
        call(|error, len| unsafe { ffi::bert_latency_cuda_reset_peak(index, error, len) })
    }
    #[cfg(not(cuda_shim))]
    {
        let _ = index;
        Err(unsupported())
    }
}

/// Returns the allocator's cached, unused blocks to the driver (between models, so that one
/// model's cache does not count toward the next one's reserved bytes).
///
/// # Errors
/// [`Error::CudaMemory`] when libtorch fails or this build has no shim.
pub fn empty_cuda_cache() -> Result<()> {
    #[cfg(cuda_shim)]
    {
        // SAFETY: the shim catches every C++ exception.
        call(|error, len| unsafe { ffi::bert_latency_cuda_empty_cache(error, len) })
    }
    #[cfg(not(cuda_shim))]
    {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shim_is_built_wherever_libtorch_has_cuda() {
        let lib = std::path::Path::new(env!("BERT_LATENCY_LIBTORCH_LIB"));
        assert_eq!(
            CUDA_MEMORY_SUPPORTED,
            lib.join("libc10_cuda.so").exists(),
            "libtorch at {} (run `cargo xtask bootstrap` for the CUDA headers)",
            lib.display()
        );
    }

    #[test]
    fn a_missing_device_is_an_error_not_an_abort() {
        let count = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
        let err = cuda_memory(count).unwrap_err();
        assert!(
            matches!(err, Error::CudaMemory(ref m) if !m.is_empty()),
            "{err}"
        );
        assert!(reset_cuda_peak(count).is_err());
    }

    #[test]
    fn counts_a_tensor_on_a_gpu() {
        if tch::Cuda::device_count() == 0 {
            eprintln!(
                "no CUDA device: the allocator's numbers are checked by `cargo xtask gpu-check`"
            );
            return;
        }
        let before = cuda_memory(0).unwrap();
        let t = tch::Tensor::zeros([1 << 20], (tch::Kind::Float, tch::Device::Cuda(0)));
        let during = cuda_memory(0).unwrap();
        assert_eq!(during.allocated - before.allocated, 4 << 20);
        assert!(during.peak_allocated >= during.allocated);
        drop(t);
        reset_cuda_peak(0).unwrap();
        assert_eq!(cuda_memory(0).unwrap().peak_allocated, before.allocated);
    }
}
