//! Which physical GPU a CUDA device index is: its PCI bus id, from the CUDA runtime that libtorch
//! loaded.
//!
//! CUDA numbers devices after `CUDA_VISIBLE_DEVICES` and `CUDA_DEVICE_ORDER` (fastest first by
//! default); NVML numbers every GPU in PCI order. The PCI bus id is the same in both, so it is how
//! telemetry finds the GPU a run uses. The runtime's `cudaDeviceGetPCIBusId` is looked up at run
//! time in the libraries already loaded (libtorch_cuda loads `libcudart`), so nothing extra is
//! linked and a CPU-only libtorch simply reports it as unavailable.

use crate::error::{Error, Result};

/// `cudaError_t cudaDeviceGetPCIBusId(char* pciBusId, int len, int device)`.
type GetPciBusId = unsafe extern "C" fn(*mut std::ffi::c_char, i32, i32) -> i32;

/// The PCI bus id (`domain:bus:device.function`, e.g. `0000:3B:00.0`) of CUDA device `device`.
///
/// # Errors
/// [`Error::CudaUnavailable`] when the CUDA runtime is not loaded (a CPU-only libtorch) or fails
/// (no such device, no driver), with the runtime's error code.
pub fn cuda_pci_bus_id(device: usize) -> Result<String> {
    let unavailable = |reason: String| Error::CudaUnavailable {
        requested: format!("the PCI bus id of cuda:{device}"),
        reason,
    };
    let index = i32::try_from(device).map_err(|_| unavailable("no such device".to_owned()))?;
    // SAFETY: dlsym with RTLD_DEFAULT only searches the loaded libraries; the name is a valid
    // NUL-terminated string.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"cudaDeviceGetPCIBusId".as_ptr()) };
    if symbol.is_null() {
        return Err(unavailable(
            "the CUDA runtime is not loaded (a CPU-only libtorch)".to_owned(),
        ));
    }
    // SAFETY: the symbol is the CUDA runtime's cudaDeviceGetPCIBusId, whose C signature is
    // `GetPciBusId`.
    let get: GetPciBusId = unsafe { std::mem::transmute::<*mut libc::c_void, GetPciBusId>(symbol) };
    let mut buffer = [0 as std::ffi::c_char; 64];
    // SAFETY: the buffer is valid for its length; the runtime writes at most `len` bytes,
    // NUL-terminated.
    let status = unsafe { get(buffer.as_mut_ptr(), buffer.len() as i32, index) };
    if status != 0 {
        return Err(unavailable(format!(
            "cudaDeviceGetPCIBusId failed with CUDA error {status}"
        )));
    }
    // SAFETY: on success the runtime wrote a NUL-terminated string into the buffer.
    let text = unsafe { std::ffi::CStr::from_ptr(buffer.as_ptr()) };
    Ok(text.to_string_lossy().trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_gpu_it_is_an_error_not_a_crash() {
        if tch::Cuda::device_count() > 0 {
            let id = cuda_pci_bus_id(0).unwrap();
            assert!(id.contains(':') && id.contains('.'), "{id}");
            return;
        }
        let err = cuda_pci_bus_id(0).unwrap_err();
        assert!(err.to_string().contains("cuda:0"), "{err}");
    }
}
