//! Host memory: installed memory, and this process's resident set and its peak.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

const STATUS: &str = "/proc/self/status";
const CLEAR_REFS: &str = "/proc/self/clear_refs";

/// This process's resident set, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessMemory {
    /// Resident set now (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// Peak resident set (`VmHWM`) since the process started or the last peak reset, in bytes.
    pub peak_rss_bytes: u64,
}

/// Reads this process's resident set and its peak (Linux only: elsewhere an [`Error::Io`]).
pub fn process_memory() -> Result<ProcessMemory> {
    let text = std::fs::read_to_string(STATUS).map_err(|error| Error::Io {
        path: STATUS.into(),
        error,
    })?;
    parse_status(&text)
}

fn parse_status(text: &str) -> Result<ProcessMemory> {
    let kib = |key: &str| -> Result<u64> {
        kib_field(text, key)
            .map(|kib| kib * 1024)
            .ok_or_else(|| Error::Parse {
                path: STATUS,
                problem: format!("no {key} line in kB"),
            })
    };
    Ok(ProcessMemory {
        rss_bytes: kib("VmRSS")?,
        peak_rss_bytes: kib("VmHWM")?,
    })
}

/// "MemTotal" of `/proc/meminfo`, in bytes.
pub(crate) fn meminfo_total_bytes(text: &str) -> Option<u64> {
    kib_field(text, "MemTotal").map(|kib| kib * 1024)
}

/// The value of a `Key:   123 kB` line, in KiB.
pub(super) fn kib_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        let number = v.trim().strip_suffix("kB")?.trim();
        number.parse().ok()
    })
}

/// Whether the peak resident set was reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PeakReset {
    /// `VmHWM` now starts from the current resident set.
    Reset,
    /// `VmHWM` still holds the process-lifetime peak, which may predate the baseline.
    NotReset {
        /// Why: the write was refused, or the kernel accepted it and kept the old peak.
        reason: String,
    },
}

/// Resets the peak resident set by writing `5` to `/proc/self/clear_refs` (Linux 4.0 and later),
/// and checks that the kernel honoured it: a peak well above the resident set that did not fall
/// counts as not reset.
pub fn reset_peak_rss() -> PeakReset {
    let before = process_memory();
    if let Err(e) = std::fs::write(CLEAR_REFS, "5") {
        return PeakReset::NotReset {
            reason: format!("writing 5 to {CLEAR_REFS} failed: {e}"),
        };
    }
    let (before, after) = match (before, process_memory()) {
        (Ok(before), Ok(after)) => (before, after),
        (Err(e), _) | (_, Err(e)) => {
            return PeakReset::NotReset {
                reason: format!("cannot check the reset: {e}"),
            };
        }
    };
    // Slack for pages touched between the reads.
    const SLACK_BYTES: u64 = 4 << 20;
    if after.peak_rss_bytes >= before.peak_rss_bytes
        && before.peak_rss_bytes > after.rss_bytes + SLACK_BYTES
    {
        return PeakReset::NotReset {
            reason: format!(
                "{CLEAR_REFS} accepted the write but VmHWM stayed at {} bytes, above VmRSS {} bytes",
                after.peak_rss_bytes, after.rss_bytes
            ),
        };
    }
    PeakReset::Reset
}

/// Asks the C allocator to return freed heap memory to the operating system (glibc's
/// `malloc_trim`; a no-op elsewhere). Without it, memory freed by an earlier model stays resident,
/// the next baseline starts high, and that model's peak growth reads too low.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The resident set before the model is built, against which the peak is measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMemoryBaseline {
    /// Resident set at capture, in bytes.
    pub rss_bytes: u64,
    /// Whether the peak was reset at capture.
    pub peak_reset: PeakReset,
}

impl HostMemoryBaseline {
    /// Returns freed heap memory to the operating system (see [`trim_heap`]), resets the peak
    /// resident set (where the kernel allows) and records the resident set.
    pub fn capture() -> Result<Self> {
        trim_heap();
        let peak_reset = reset_peak_rss();
        let now = process_memory()?;
        Ok(Self {
            rss_bytes: now.rss_bytes,
            peak_reset,
        })
    }

    /// The host memory used since the capture.
    pub fn finish(&self) -> Result<HostMemory> {
        let now = process_memory()?;
        Ok(HostMemory {
            baseline_rss_bytes: self.rss_bytes,
            peak_rss_bytes: now.peak_rss_bytes,
            rss_bytes: now.rss_bytes,
            peak_over_baseline_bytes: now.peak_rss_bytes.saturating_sub(self.rss_bytes),
            peak_reset: self.peak_reset.clone(),
        })
    }
}

/// Host memory of a run: the process's peak resident set over its resident set before the model
/// was built. This is host (CPU) memory, not device memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMemory {
    /// Resident set at the baseline, in bytes.
    pub baseline_rss_bytes: u64,
    /// Peak resident set since the baseline (since process start if the reset failed), in bytes.
    pub peak_rss_bytes: u64,
    /// Resident set at the end, in bytes.
    pub rss_bytes: u64,
    /// `peak_rss_bytes - baseline_rss_bytes` (0 if negative), in bytes: the host memory the run
    /// needed. An overestimate when `peak_reset` is `NotReset` and the process peaked earlier.
    pub peak_over_baseline_bytes: u64,
    /// Whether the peak was reset at the baseline.
    pub peak_reset: PeakReset,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let text = "Name:\tcargo\nVmPeak:\t  900000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t1\n";
        assert_eq!(
            parse_status(text).unwrap(),
            ProcessMemory {
                rss_bytes: 1024 * 1024,
                peak_rss_bytes: 2048 * 1024
            }
        );
    }

    #[test]
    fn status_without_hwm_is_an_error_naming_it() {
        let err = parse_status("VmRSS:\t 1024 kB\n").unwrap_err();
        assert_eq!(err.to_string(), "/proc/self/status: no VmHWM line in kB");
    }

    #[test]
    fn parses_meminfo() {
        assert_eq!(
            meminfo_total_bytes("MemTotal:       24684096 kB\nMemFree: 1 kB\n"),
            Some(24_684_096 * 1024)
        );
        assert_eq!(meminfo_total_bytes("MemFree: 1 kB\n"), None);
    }
}
