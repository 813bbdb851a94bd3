//! What this machine offers: NVML and its GPUs, or the reason there is none.

use crate::missing::Missing;
use crate::nvml::{DeviceInfo, NvmlSystem};
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;

/// The outcome of looking for NVML: a handle to read GPUs through, or why there is none.
#[derive(Debug, Clone)]
pub enum Probe {
    /// NVML loaded and initialised (it may still see no GPU: check `facts().devices`).
    Available(NvmlSystem),
    /// No NVML: no library, no driver, or no permission.
    Unavailable {
        /// What the loader or NVML said.
        reason: String,
    },
}

/// Looks for NVML in the default place (`libnvidia-ml.so.1` through the dynamic loader). Never
/// panics; on a machine without NVML it returns [`Probe::Unavailable`].
pub fn probe() -> Probe {
    Probe::from_init(NvmlSystem::init())
}

/// Like [`probe`], loading NVML from `path`.
pub fn probe_with_library(path: impl AsRef<OsStr>) -> Probe {
    Probe::from_init(NvmlSystem::init_with_library(path))
}

impl Probe {
    fn from_init(init: crate::Result<NvmlSystem>) -> Self {
        match init {
            Ok(system) => Self::Available(system),
            Err(crate::Error::NvmlUnavailable { reason }) => Self::Unavailable { reason },
            Err(other) => Self::Unavailable {
                reason: other.to_string(),
            },
        }
    }

    /// The NVML handle, if there is one.
    pub fn system(&self) -> Option<&NvmlSystem> {
        match self {
            Self::Available(system) => Some(system),
            Self::Unavailable { .. } => None,
        }
    }

    /// Why there is no NVML, if there is none.
    pub fn unavailable_reason(&self) -> Option<&str> {
        match self {
            Self::Available(_) => None,
            Self::Unavailable { reason } => Some(reason),
        }
    }

    /// The facts for a results file: drivers and devices, or why there are none.
    pub fn facts(&self) -> GpuFacts {
        match self {
            Self::Available(system) => system.facts(),
            Self::Unavailable { reason } => GpuFacts::unavailable(reason),
        }
    }
}

/// The GPU facts of a machine, for a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuFacts {
    /// Whether NVML loaded and initialised.
    pub nvml_available: bool,
    /// Why NVML is unavailable, when it is.
    pub unavailable_reason: Option<String>,
    /// Driver version, e.g. "550.54.15".
    pub driver_version: Option<String>,
    /// Highest CUDA version the driver supports, e.g. "12.4".
    pub cuda_driver_version: Option<String>,
    /// Every GPU NVML sees, by NVML index.
    pub devices: Vec<DeviceInfo>,
    /// System-level values that could not be read, and why (each device has its own list).
    pub missing: Vec<Missing>,
}

impl GpuFacts {
    /// The facts of a machine without NVML.
    pub fn unavailable(reason: &str) -> Self {
        Self {
            nvml_available: false,
            unavailable_reason: Some(reason.to_owned()),
            driver_version: None,
            cuda_driver_version: None,
            devices: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// Every missing value of the system and its devices, each `(what, reason)` once.
    pub fn all_missing(&self) -> Vec<Missing> {
        crate::missing::unique(
            std::iter::once(self.missing.as_slice())
                .chain(self.devices.iter().map(|d| d.missing.as_slice())),
        )
    }
}
