//! Host facts from the operating system: CPU model, cores, memory, and the process's resident set.

mod cpu;
mod memory;
mod process;

pub use self::memory::{
    HostMemory, HostMemoryBaseline, PeakReset, ProcessMemory, process_memory, reset_peak_rss,
    trim_heap,
};
pub use self::process::{available_memory_bytes, process_age};

use crate::missing::{Missing, MissingLog};
use serde::{Deserialize, Serialize};

/// The host machine, for a results file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    /// The machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
    pub host_name: Option<String>,
    /// CPU model, from the first "model name" line of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// Logical CPUs of the machine (the "processor" entries of `/proc/cpuinfo`).
    pub logical_cores: Option<usize>,
    /// Logical CPUs this process may use (`std::thread::available_parallelism`: affinity mask and
    /// cgroup quota applied).
    pub available_cores: Option<usize>,
    /// Installed memory, from "MemTotal" in `/proc/meminfo`, in bytes.
    pub memory_total_bytes: Option<u64>,
    /// Values that could not be read, and why.
    pub missing: Vec<Missing>,
}

impl HostInfo {
    /// Reads the host facts; what cannot be read is `None` with a reason.
    pub fn collect() -> Self {
        let mut log = MissingLog::default();
        let host_name = log.take(
            "host name",
            read("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .or_else(|e| std::env::var("HOSTNAME").map_err(|_| e))
                .and_then(|h| {
                    Some(h)
                        .filter(|h| !h.is_empty())
                        .ok_or_else(|| "the host name is empty".to_owned())
                }),
        );
        let cpuinfo = log.take("cpu model", read("/proc/cpuinfo"));
        let cpu_model = cpuinfo.as_deref().and_then(|text| {
            log.take(
                "cpu model",
                cpu::model_name(text)
                    .ok_or_else(|| "no \"model name\" line in /proc/cpuinfo".to_owned()),
            )
        });
        let logical_cores = cpuinfo.as_deref().and_then(|text| {
            log.take(
                "logical cores",
                Some(cpu::processor_count(text))
                    .filter(|n| *n > 0)
                    .ok_or_else(|| "no \"processor\" line in /proc/cpuinfo".to_owned()),
            )
        });
        let available_cores = log.take(
            "available cores",
            std::thread::available_parallelism()
                .map(usize::from)
                .map_err(|e| e.to_string()),
        );
        let memory_total_bytes = log
            .take("memory total", read("/proc/meminfo"))
            .and_then(|text| {
                log.take(
                    "memory total",
                    memory::meminfo_total_bytes(&text)
                        .ok_or_else(|| "no \"MemTotal\" line in /proc/meminfo".to_owned()),
                )
            });
        Self {
            host_name,
            cpu_model,
            logical_cores,
            available_cores,
            memory_total_bytes,
            missing: log.into_vec(),
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_name_is_what_uname_says() {
        let uname = std::process::Command::new("uname")
            .arg("-n")
            .output()
            .unwrap();
        let expected = String::from_utf8_lossy(&uname.stdout).trim().to_owned();
        assert_eq!(
            HostInfo::collect().host_name.as_deref(),
            Some(expected.as_str())
        );
    }
}
