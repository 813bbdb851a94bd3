//! The NVML implementation of [`DeviceReader`].

use crate::missing::Reading;
use crate::reader::{DeviceReader, Readings};
use crate::throttle::ThrottleReasons;
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use std::fmt;
use std::sync::Arc;

/// Reads one GPU through NVML; made by [`NvmlSystem::reader`](crate::NvmlSystem::reader).
///
/// It keeps the NVML handle alive and looks the device up by index on every read (a device handle
/// borrows the library, so it cannot travel to the sampler thread on its own).
pub struct NvmlReader {
    nvml: Arc<Nvml>,
    index: u32,
}

impl fmt::Debug for NvmlReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NvmlReader")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl NvmlReader {
    pub(crate) fn new(nvml: Arc<Nvml>, index: u32) -> Self {
        Self { nvml, index }
    }

    /// The NVML index of the GPU read.
    pub fn index(&self) -> u32 {
        self.index
    }
}

fn text(e: nvml_wrapper::error::NvmlError) -> String {
    e.to_string()
}

impl DeviceReader for NvmlReader {
    fn read(&mut self) -> Readings {
        let device = match self.nvml.device_by_index(self.index) {
            Ok(device) => device,
            Err(e) => return Readings::unavailable(&format!("gpu {}: {e}", self.index)),
        };
        Readings {
            power_mw: device.power_usage().map_err(text),
            sm_clock_mhz: device.clock_info(Clock::SM).map_err(text),
            mem_clock_mhz: device.clock_info(Clock::Memory).map_err(text),
            temperature_c: device.temperature(TemperatureSensor::Gpu).map_err(text),
            throttle: device
                .current_throttle_reasons()
                .map(|r| ThrottleReasons(r.bits()))
                .map_err(text),
            device_memory_used_bytes: device.memory_info().map(|m| m.used).map_err(text),
        }
    }

    fn energy_mj(&mut self) -> Reading<u64> {
        self.nvml
            .device_by_index(self.index)
            .and_then(|device| device.total_energy_consumption())
            .map_err(text)
    }
}
