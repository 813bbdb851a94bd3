//! NVML, loaded at run time: the system handle, device facts and the device reader.

mod device;
mod reader;

pub use self::device::{ClockState, DeviceInfo};
pub use self::reader::NvmlReader;

use crate::error::{Error, Result};
use crate::missing::{MissingLog, Reading};
use crate::probe::GpuFacts;
use nvml_wrapper::Nvml;
use std::ffi::OsStr;
use std::fmt;
use std::sync::Arc;

/// An initialised NVML library, shared (cheaply cloned) by the facts queries and every
/// [`NvmlReader`]; NVML is shut down when the last clone is dropped.
#[derive(Clone)]
pub struct NvmlSystem {
    nvml: Arc<Nvml>,
}

impl fmt::Debug for NvmlSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NvmlSystem").finish_non_exhaustive()
    }
}

impl NvmlSystem {
    /// Loads the NVML library (`libnvidia-ml.so.1` on Linux) and initialises it.
    ///
    /// Returns [`Error::NvmlUnavailable`] when there is no library, no driver, or no permission.
    pub fn init() -> Result<Self> {
        Self::wrap(Nvml::init())
    }

    /// Like [`init`](Self::init), loading the library from `path` instead.
    pub fn init_with_library(path: impl AsRef<OsStr>) -> Result<Self> {
        Self::wrap(Nvml::builder().lib_path(path.as_ref()).init())
    }

    fn wrap(nvml: std::result::Result<Nvml, nvml_wrapper::error::NvmlError>) -> Result<Self> {
        nvml.map(|nvml| Self {
            nvml: Arc::new(nvml),
        })
        .map_err(|e| Error::NvmlUnavailable {
            reason: e.to_string(),
        })
    }

    /// How many GPUs NVML sees.
    pub fn device_count(&self) -> Result<u32> {
        self.nvml.device_count().map_err(|e| Error::Nvml {
            what: "device count",
            reason: e.to_string(),
        })
    }

    /// The driver version, e.g. "550.54.15".
    pub fn driver_version(&self) -> Reading<String> {
        self.nvml.sys_driver_version().map_err(|e| e.to_string())
    }

    /// The highest CUDA version the driver supports, e.g. "12.4".
    pub fn cuda_driver_version(&self) -> Reading<String> {
        self.nvml
            .sys_cuda_driver_version()
            .map(|v| {
                format!(
                    "{}.{}",
                    nvml_wrapper::cuda_driver_version_major(v),
                    nvml_wrapper::cuda_driver_version_minor(v)
                )
            })
            .map_err(|e| e.to_string())
    }

    /// The facts of GPU `index`; what cannot be read is `None` with a reason.
    pub fn device_info(&self, index: u32) -> DeviceInfo {
        device::describe(&self.nvml, index)
    }

    /// Driver versions and every device's facts.
    pub fn facts(&self) -> GpuFacts {
        let mut log = MissingLog::default();
        let driver_version = log.take("driver version", self.driver_version());
        let cuda_driver_version = log.take("cuda driver version", self.cuda_driver_version());
        let count = log
            .take("gpu count", self.device_count().map_err(|e| e.to_string()))
            .unwrap_or(0);
        GpuFacts {
            nvml_available: true,
            unavailable_reason: None,
            driver_version,
            cuda_driver_version,
            devices: (0..count).map(|index| self.device_info(index)).collect(),
            missing: log.into_vec(),
        }
    }

    /// A reader of GPU `index` for the [`Sampler`](crate::Sampler); it shares this NVML handle.
    pub fn reader(&self, index: u32) -> Result<NvmlReader> {
        let count = self.device_count()?;
        if index >= count {
            return Err(Error::NoSuchDevice { index, count });
        }
        Ok(NvmlReader::new(Arc::clone(&self.nvml), index))
    }
}

impl crate::cuda_map::GpuDirectory for NvmlSystem {
    fn devices(&self) -> Vec<DeviceInfo> {
        let count = self.device_count().unwrap_or(0);
        (0..count).map(|index| self.device_info(index)).collect()
    }

    fn driver_version(&self) -> Option<String> {
        NvmlSystem::driver_version(self).ok()
    }

    fn reader(&self, index: u32) -> std::result::Result<Box<dyn crate::DeviceReader>, String> {
        NvmlSystem::reader(self, index)
            .map(|r| Box::new(r) as Box<dyn crate::DeviceReader>)
            .map_err(|e| e.to_string())
    }
}
