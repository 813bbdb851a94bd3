//! The device-reading trait the sampler polls, and the sample it records.

use crate::missing::{MissingLog, Reading};
use crate::throttle::ThrottleReasons;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The instantaneous values of one device at one instant; each is the value or why it could not
/// be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Readings {
    /// Board power in milliwatts (`nvmlDeviceGetPowerUsage`: a ~1 s moving average on recent GPUs).
    pub power_mw: Reading<u32>,
    /// Current SM clock in MHz.
    pub sm_clock_mhz: Reading<u32>,
    /// Current memory clock in MHz.
    pub mem_clock_mhz: Reading<u32>,
    /// GPU die temperature in degrees Celsius.
    pub temperature_c: Reading<u32>,
    /// Current clocks throttle reasons.
    pub throttle: Reading<ThrottleReasons>,
    /// Device-wide used memory in bytes: every process's allocations plus CUDA contexts.
    pub device_memory_used_bytes: Reading<u64>,
}

impl Readings {
    /// Readings where every value is missing for the same reason (e.g. the GPU fell off the bus).
    pub fn unavailable(reason: &str) -> Self {
        Self {
            power_mw: Err(reason.to_owned()),
            sm_clock_mhz: Err(reason.to_owned()),
            mem_clock_mhz: Err(reason.to_owned()),
            temperature_c: Err(reason.to_owned()),
            throttle: Err(reason.to_owned()),
            device_memory_used_bytes: Err(reason.to_owned()),
        }
    }

    /// The sample these readings make at time `t`, noting each missing value's reason in `log`.
    pub(crate) fn into_sample(self, t: Duration, log: &mut MissingLog) -> TelemetrySample {
        TelemetrySample {
            t,
            power_mw: log.take("power", self.power_mw),
            sm_clock_mhz: log.take("sm clock", self.sm_clock_mhz),
            mem_clock_mhz: log.take("memory clock", self.mem_clock_mhz),
            temperature_c: log.take("temperature", self.temperature_c),
            throttle: log.take("throttle reasons", self.throttle),
            device_memory_used_bytes: log.take("device memory used", self.device_memory_used_bytes),
        }
    }
}

/// A source of device readings: NVML ([`NvmlReader`](crate::NvmlReader)) or a scripted fake
/// ([`testing::ScriptedReader`](crate::testing::ScriptedReader)).
///
/// Implementations return errors as values and must not panic; a reader that panics anyway makes
/// [`Sampler::stop`](crate::Sampler::stop) return [`Error::SamplerPanicked`](crate::Error).
pub trait DeviceReader: Send {
    /// Reads the instantaneous values.
    fn read(&mut self) -> Readings;
    /// Reads the total-energy counter in millijoules (`nvmlDeviceGetTotalEnergyConsumption`:
    /// energy since the driver was loaded).
    fn energy_mj(&mut self) -> Reading<u64>;
}

impl<R: DeviceReader + ?Sized> DeviceReader for Box<R> {
    fn read(&mut self) -> Readings {
        (**self).read()
    }

    fn energy_mj(&mut self) -> Reading<u64> {
        (**self).energy_mj()
    }
}

/// One sample taken by the sampler; a value is `None` when it could not be read (the reason is in
/// the recording's `missing` list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetrySample {
    /// When it was taken, from the sampler's start.
    pub t: Duration,
    /// Board power in milliwatts.
    pub power_mw: Option<u32>,
    /// SM clock in MHz.
    pub sm_clock_mhz: Option<u32>,
    /// Memory clock in MHz.
    pub mem_clock_mhz: Option<u32>,
    /// GPU temperature in degrees Celsius.
    pub temperature_c: Option<u32>,
    /// Clocks throttle reasons.
    pub throttle: Option<ThrottleReasons>,
    /// Device-wide used memory in bytes (all processes and CUDA contexts).
    pub device_memory_used_bytes: Option<u64>,
}

impl TelemetrySample {
    /// A sample at `t` with no values, to fill in field by field (handy in tests).
    pub fn empty(t: Duration) -> Self {
        Self {
            t,
            power_mw: None,
            sm_clock_mhz: None,
            mem_clock_mhz: None,
            temperature_c: None,
            throttle: None,
            device_memory_used_bytes: None,
        }
    }
}
