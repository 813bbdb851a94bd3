//! Device choice (`auto`, `cpu`, `cuda`, `cuda:N`) and the fence that the timing harness calls.

use std::fmt;
use std::str::FromStr;

use tch::Device;

use crate::error::{Error, Result};

/// The device a user asked for, before it is checked against the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The first CUDA device when libtorch sees one, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// The CUDA device with this index.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|index| index.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| Error::UnknownDevice(s.to_owned())),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(0) => f.write_str("cuda"),
            Self::Cuda(index) => write!(f, "cuda:{index}"),
        }
    }
}

impl DeviceChoice {
    /// The libtorch device this choice means on this machine.
    ///
    /// # Errors
    /// [`Error::CudaUnavailable`] when CUDA is asked for and libtorch sees no such GPU.
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Auto => Ok(Device::cuda_if_available()),
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(index) => {
                let count = usize::try_from(tch::Cuda::device_count()).unwrap_or(0);
                if count == 0 {
                    Err(Error::CudaUnavailable {
                        requested: self.to_string(),
                        reason: "libtorch sees no CUDA device (no GPU, no driver, or a CPU-only libtorch)"
                            .to_owned(),
                    })
                } else if index >= count {
                    Err(Error::CudaUnavailable {
                        requested: self.to_string(),
                        reason: format!("this machine has {count} CUDA device(s)"),
                    })
                } else {
                    Ok(Device::Cuda(index))
                }
            }
        }
    }
}

/// Waits until all queued work on `device` has finished: a CUDA synchronize, a no-op on the CPU.
///
/// This is the fence the timing harness calls before starting and after stopping its clock.
pub fn synchronize(device: Device) {
    if let Device::Cuda(index) = device {
        // `device` came from `DeviceChoice::resolve`, so the index fits in an i64.
        tch::Cuda::synchronize(index as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            "cuda".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(0)
        );
        assert_eq!(
            "cuda:3".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(3)
        );
        for bad in ["gpu", "cuda:", "cuda:x", ""] {
            let err = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(
                err.to_string().contains("expected auto, cpu, cuda"),
                "{err}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for choice in [
            DeviceChoice::Auto,
            DeviceChoice::Cpu,
            DeviceChoice::Cuda(0),
            DeviceChoice::Cuda(2),
        ] {
            assert_eq!(choice.to_string().parse::<DeviceChoice>().unwrap(), choice);
        }
    }

    #[test]
    fn cuda_without_gpu_is_an_error_not_a_panic() {
        if tch::Cuda::device_count() > 0 {
            return; // this machine has a GPU; the error path cannot be reached here
        }
        let err = DeviceChoice::Cuda(0).resolve().unwrap_err();
        assert!(matches!(err, Error::CudaUnavailable { .. }), "{err}");
        assert_eq!(DeviceChoice::Auto.resolve().unwrap(), Device::Cpu);
    }
}
