//! One GPU's facts: name, UUID, memory, power limits and clock settings.

use crate::missing::{Missing, MissingLog, Reading};
use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::Clock;
use serde::{Deserialize, Serialize};

/// What NVML says about one GPU's fixed properties and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// NVML's index of the device (not necessarily the CUDA index; match by UUID).
    pub index: u32,
    /// Product name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: Option<String>,
    /// UUID, e.g. "GPU-5a1f...".
    pub uuid: Option<String>,
    /// PCI bus id as NVML writes it, e.g. "00000000:3B:00.0": how a CUDA device is matched to it.
    #[serde(default)]
    pub pci_bus_id: Option<String>,
    /// Installed device memory, in bytes.
    pub total_memory_bytes: Option<u64>,
    /// The power limit in force, in milliwatts.
    pub power_limit_mw: Option<u32>,
    /// The default power limit, in milliwatts: differs from `power_limit_mw` when it was changed.
    pub default_power_limit_mw: Option<u32>,
    /// Whether persistence mode is on (off means the driver may reinitialise between runs).
    pub persistence_mode: Option<bool>,
    /// Whether the applications clocks are at their defaults.
    pub clocks: ClockState,
    /// Values that could not be read, and why ("gpu 0 uuid: ...").
    pub missing: Vec<Missing>,
}

/// The applications-clocks setting of a GPU, compared with its default.
///
/// NVML reports the applications clocks (`nvidia-smi -ac`) and their defaults; it has no query
/// for locked clocks (`nvidia-smi -lgc`), so `Default` means only that the applications clocks
/// are at their defaults. During a window, the `applications_clocks_setting` throttle reason and
/// the SM clock's minimum and maximum show whether clocks were held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClockState {
    /// The applications clocks equal their defaults.
    Default {
        /// The SM applications clock, in MHz.
        sm_mhz: u32,
        /// The memory applications clock, in MHz, if readable.
        mem_mhz: Option<u32>,
    },
    /// The applications clocks differ from their defaults: someone set them.
    ApplicationClocksSet {
        /// The SM applications clock, in MHz.
        sm_mhz: u32,
        /// Its default, in MHz.
        default_sm_mhz: u32,
        /// The memory applications clock, in MHz, if readable.
        mem_mhz: Option<u32>,
        /// Its default, in MHz, if readable.
        default_mem_mhz: Option<u32>,
    },
    /// NVML would not say (e.g. not supported on this device).
    Unknown {
        /// Why.
        reason: String,
    },
}

impl ClockState {
    /// The state given the applications clocks and their defaults as read. The SM pair decides
    /// whether the state is known; the memory pair, when both are readable, counts too.
    pub fn from_readings(
        sm_mhz: Reading<u32>,
        default_sm_mhz: Reading<u32>,
        mem_mhz: Reading<u32>,
        default_mem_mhz: Reading<u32>,
    ) -> Self {
        let (sm_mhz, default_sm_mhz) = match (sm_mhz, default_sm_mhz) {
            (Ok(sm), Ok(default)) => (sm, default),
            (Err(reason), _) | (_, Err(reason)) => {
                return Self::Unknown {
                    reason: format!("applications clocks: {reason}"),
                };
            }
        };
        let (mem_mhz, default_mem_mhz) = match (mem_mhz, default_mem_mhz) {
            (Ok(mem), Ok(default)) => (Some(mem), Some(default)),
            _ => (None, None),
        };
        if sm_mhz == default_sm_mhz && mem_mhz == default_mem_mhz {
            Self::Default { sm_mhz, mem_mhz }
        } else {
            Self::ApplicationClocksSet {
                sm_mhz,
                default_sm_mhz,
                mem_mhz,
                default_mem_mhz,
            }
        }
    }
}

/// Reads device `index`'s facts; never fails, missing values carry their reason.
pub(crate) fn describe(nvml: &Nvml, index: u32) -> DeviceInfo {
    let mut log = MissingLog::default();
    let device = match nvml.device_by_index(index) {
        Ok(device) => device,
        Err(e) => {
            let reason = e.to_string();
            log.push(Missing::new(format!("gpu {index}"), reason.clone()));
            return DeviceInfo {
                index,
                name: None,
                uuid: None,
                pci_bus_id: None,
                total_memory_bytes: None,
                power_limit_mw: None,
                default_power_limit_mw: None,
                persistence_mode: None,
                clocks: ClockState::Unknown { reason },
                missing: log.into_vec(),
            };
        }
    };
    let what = |field: &str| format!("gpu {index} {field}");
    let text = |e: nvml_wrapper::error::NvmlError| e.to_string();
    let name = log.take(&what("name"), device.name().map_err(text));
    let uuid = log.take(&what("uuid"), device.uuid().map_err(text));
    let pci_bus_id = log.take(
        &what("pci bus id"),
        device.pci_info().map(|p| p.bus_id).map_err(text),
    );
    let total_memory_bytes = log.take(
        &what("total memory"),
        device.memory_info().map(|m| m.total).map_err(text),
    );
    let power_limit_mw = log.take(
        &what("power limit"),
        device.enforced_power_limit().map_err(text),
    );
    let default_power_limit_mw = log.take(
        &what("default power limit"),
        device.power_management_limit_default().map_err(text),
    );
    let persistence_mode = log.take(
        &what("persistence mode"),
        device.is_in_persistent_mode().map_err(text),
    );
    let clocks = ClockState::from_readings(
        device.applications_clock(Clock::SM).map_err(text),
        device.default_applications_clock(Clock::SM).map_err(text),
        device.applications_clock(Clock::Memory).map_err(text),
        device
            .default_applications_clock(Clock::Memory)
            .map_err(text),
    );
    if let ClockState::Unknown { reason } = &clocks {
        log.push(Missing::new(what("clock state"), reason.clone()));
    }
    DeviceInfo {
        index,
        name,
        uuid,
        pci_bus_id,
        total_memory_bytes,
        power_limit_mw,
        default_power_limit_mw,
        persistence_mode,
        clocks,
        missing: log.into_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_at_defaults() {
        let state = ClockState::from_readings(Ok(1410), Ok(1410), Ok(1215), Ok(1215));
        assert_eq!(
            state,
            ClockState::Default {
                sm_mhz: 1410,
                mem_mhz: Some(1215)
            }
        );
    }

    #[test]
    fn changed_sm_or_memory_clock_is_set() {
        let sm = ClockState::from_readings(Ok(1200), Ok(1410), Ok(1215), Ok(1215));
        assert!(matches!(
            sm,
            ClockState::ApplicationClocksSet {
                sm_mhz: 1200,
                default_sm_mhz: 1410,
                ..
            }
        ));
        let mem = ClockState::from_readings(Ok(1410), Ok(1410), Ok(877), Ok(1215));
        assert!(matches!(
            mem,
            ClockState::ApplicationClocksSet {
                mem_mhz: Some(877),
                default_mem_mhz: Some(1215),
                ..
            }
        ));
    }

    #[test]
    fn unreadable_memory_pair_is_ignored_but_sm_pair_decides() {
        let state =
            ClockState::from_readings(Ok(1410), Ok(1410), Err("not supported".into()), Ok(1215));
        assert_eq!(
            state,
            ClockState::Default {
                sm_mhz: 1410,
                mem_mhz: None
            }
        );
        let unknown =
            ClockState::from_readings(Ok(1410), Err("no permission".into()), Ok(1), Ok(1));
        assert_eq!(
            unknown,
            ClockState::Unknown {
                reason: "applications clocks: no permission".into()
            }
        );
    }
}
