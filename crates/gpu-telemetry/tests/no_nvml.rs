//! The real path where NVML is absent: nothing panics, and the reason is reported.

use gpu_telemetry::{Error, NvmlSystem, Probe, probe, probe_with_library};

#[test]
fn missing_library_is_unavailable_with_the_loader_reason() {
    let probe = probe_with_library("/nonexistent/libnvidia-ml.so.1");
    let reason = probe
        .unavailable_reason()
        .expect("no library there")
        .to_owned();
    assert!(
        reason.contains("/nonexistent/libnvidia-ml.so.1"),
        "{reason}"
    );
    assert!(probe.system().is_none());

    let facts = probe.facts();
    assert!(!facts.nvml_available);
    assert_eq!(facts.unavailable_reason.as_deref(), Some(reason.as_str()));
    assert!(facts.devices.is_empty());
    assert_eq!(
        (facts.driver_version, facts.cuda_driver_version),
        (None, None)
    );
    let json = serde_json::to_value(probe.facts()).unwrap();
    assert_eq!(json["nvml_available"], false);
}

#[test]
fn init_error_names_the_problem() {
    let err = NvmlSystem::init_with_library("/nonexistent/libnvidia-ml.so.1").unwrap_err();
    assert!(matches!(err, Error::NvmlUnavailable { .. }));
    assert!(
        err.to_string().starts_with("nvml is unavailable: "),
        "{err}"
    );
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_library_that_is_not_nvml_is_unavailable() {
    // libc loads, but has no nvmlInit_v2.
    let probe = probe_with_library("libc.so.6");
    let reason = probe.unavailable_reason().expect("libc is not NVML");
    assert!(reason.contains("nvmlInit_v2"), "{reason}");
}

#[test]
fn default_probe_is_consistent_with_what_the_machine_has() {
    match probe() {
        Probe::Unavailable { reason } => {
            // This machine has no NVML (the case on the project's CI and dev machines).
            assert!(!reason.is_empty());
            let facts = Probe::Unavailable {
                reason: reason.clone(),
            }
            .facts();
            assert!(!facts.nvml_available && facts.devices.is_empty());
        }
        Probe::Available(system) => {
            let facts = system.facts();
            assert!(facts.nvml_available);
            assert_eq!(facts.devices.len() as u32, system.device_count().unwrap());
            let count = facts.devices.len() as u32;
            assert!(
                matches!(system.reader(count), Err(Error::NoSuchDevice { index, .. }) if index == count)
            );
        }
    }
}
