//! Host memory measured for real: a 200 MB allocation must move the peak resident set.
//!
//! One test in its own process, so no other test allocates while it measures.

use gpu_telemetry::host::{self, HostInfo, HostMemoryBaseline, PeakReset};

const MB: u64 = 1_000_000;

#[cfg(target_os = "linux")]
#[test]
fn peak_resident_set_follows_a_200_mb_allocation() {
    let baseline = HostMemoryBaseline::capture().unwrap();
    let reset_works = baseline.peak_reset == PeakReset::Reset;

    let size = 200 * MB as usize;
    let mut block = vec![0u8; size];
    // Touch every page so it is resident (zeroed pages from the allocator are not yet).
    for i in (0..size).step_by(4096) {
        block[i] = 1;
    }
    std::hint::black_box(&mut block);
    let during = host::process_memory().unwrap();
    assert!(
        during.rss_bytes >= baseline.rss_bytes + 190 * MB,
        "{during:?} vs {baseline:?}"
    );
    assert!(during.peak_rss_bytes >= during.rss_bytes);

    drop(block);
    let after = host::process_memory().unwrap();
    assert!(
        after.rss_bytes + 150 * MB <= during.rss_bytes,
        "freeing returned the pages: {after:?}"
    );
    assert!(
        after.peak_rss_bytes >= baseline.rss_bytes + 190 * MB,
        "the peak stays: {after:?}"
    );

    let used = baseline.finish().unwrap();
    assert!(used.peak_over_baseline_bytes >= 190 * MB, "{used:?}");
    assert!(used.peak_over_baseline_bytes <= 260 * MB, "{used:?}");
    assert_eq!(used.baseline_rss_bytes, baseline.rss_bytes);

    // A second reset brings the peak down to the current resident set, where the kernel allows it.
    match host::reset_peak_rss() {
        PeakReset::Reset => {
            let reset = host::process_memory().unwrap();
            assert!(
                reset.peak_rss_bytes + 150 * MB <= after.peak_rss_bytes,
                "{reset:?} vs {after:?}"
            );
        }
        PeakReset::NotReset { reason } => {
            assert!(
                !reset_works,
                "the first reset worked, the second did not: {reason}"
            );
            assert!(reason.contains("clear_refs"), "{reason}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn host_facts_match_the_os() {
    let info = HostInfo::collect();
    assert!(
        info.missing.iter().all(|m| m.what == "cpu model"),
        "{:?}",
        info.missing
    );
    let cores = info.logical_cores.unwrap();
    let available = info.available_cores.unwrap();
    assert!(
        available >= 1 && available <= cores,
        "{available} of {cores}"
    );
    let total = info.memory_total_bytes.unwrap();
    let rss = host::process_memory().unwrap().rss_bytes;
    assert!(total > rss && total < 1 << 50, "{total}");
}
