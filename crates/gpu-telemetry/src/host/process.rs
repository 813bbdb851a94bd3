//! This process's age and the memory the host can still give: what a cold start and a memory-fit
//! check need.

use std::time::Duration;

/// How long ago this process started (exec), from `starttime` in `/proc/self/stat` (clock ticks
/// since boot, 10 ms on most kernels) and `CLOCK_BOOTTIME`. `None` off Linux or when either
/// cannot be read.
pub fn process_age() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let start_ticks = start_ticks(&stat)?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_s <= 0 {
        return None;
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return None;
    }
    let since_boot = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    let started = Duration::from_secs_f64(start_ticks as f64 / ticks_per_s as f64);
    since_boot.checked_sub(started)
}

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` line. The command name (field 2) is in
/// parentheses and may hold spaces or parentheses itself, so fields are counted after the last
/// `)`.
fn start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")": field 3 (state) is the first; starttime is field 22, the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Memory the host can give to new allocations without swapping: "MemAvailable" of
/// `/proc/meminfo`, in bytes. `None` when it cannot be read.
pub fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    super::memory::kib_field(&text, "MemAvailable").map(|kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starttime_is_counted_after_the_command_name() {
        // A command name with a space and a ')' in it (proc(5): field 22 is starttime).
        let line = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 \
                    987654 1000 200 18446744073709551615";
        assert_eq!(start_ticks(line), Some(987_654));
        assert_eq!(start_ticks("garbage"), None);
    }

    #[test]
    fn this_process_is_younger_than_the_machine_and_older_than_zero() {
        let age = process_age().expect("Linux /proc");
        // The test binary started before this line and, on any CI, less than a day ago.
        assert!(age < Duration::from_secs(86_400), "{age:?}");
        let later = process_age().unwrap();
        assert!(later >= age);
        let available = available_memory_bytes().expect("MemAvailable");
        assert!(available > 0);
    }
}
