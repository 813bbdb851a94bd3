//! Which NVML device a CUDA device index is.
//!
//! CUDA numbers the devices a process may use after `CUDA_VISIBLE_DEVICES` (indices or UUIDs, as
//! Slurm and Kubernetes set it) and `CUDA_DEVICE_ORDER` (`FASTEST_FIRST` by default, or
//! `PCI_BUS_ID`); NVML numbers every GPU of the machine in PCI bus order. Using the CUDA index as
//! the NVML index reads another GPU's power whenever the two differ. [`resolve_cuda_device`]
//! matches them, in order of trust:
//!
//! 1. the PCI bus id of the CUDA device (from the CUDA runtime), equal to one NVML device's;
//! 2. else the `CUDA_VISIBLE_DEVICES` entry of the CUDA index: a UUID (or unique UUID prefix,
//!    `GPU-…` or `MIG-…`) names the NVML device; an integer is an index in CUDA's enumeration
//!    order, which is NVML's order when `CUDA_DEVICE_ORDER=PCI_BUS_ID`, or when every GPU is the
//!    same model (fastest-first then falls back to PCI order);
//! 3. else, without `CUDA_VISIBLE_DEVICES`, the CUDA index itself under the same two conditions.
//!
//! Anything else is unresolved: the caller records no GPU telemetry and warns, rather than
//! recording a neighbour's.

use crate::nvml::DeviceInfo;
use crate::reader::DeviceReader;

/// The CUDA environment variables that decide CUDA's device numbering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CudaEnv {
    /// `CUDA_VISIBLE_DEVICES`, if set.
    pub visible_devices: Option<String>,
    /// `CUDA_DEVICE_ORDER`, if set (`FASTEST_FIRST` or `PCI_BUS_ID`).
    pub device_order: Option<String>,
}

impl CudaEnv {
    /// Reads the two variables from this process's environment.
    pub fn from_env() -> Self {
        Self {
            visible_devices: std::env::var("CUDA_VISIBLE_DEVICES").ok(),
            device_order: std::env::var("CUDA_DEVICE_ORDER").ok(),
        }
    }

    fn pci_order(&self) -> bool {
        self.device_order
            .as_deref()
            .is_some_and(|o| o.trim().eq_ignore_ascii_case("PCI_BUS_ID"))
    }
}

/// The machine's GPUs as NVML sees them, and readers for the sampler: [`NvmlSystem`] on a real
/// machine, [`testing::FakeDirectory`](crate::testing::FakeDirectory) in tests.
///
/// [`NvmlSystem`]: crate::NvmlSystem
pub trait GpuDirectory {
    /// Every GPU, by NVML index.
    fn devices(&self) -> Vec<DeviceInfo>;
    /// The driver version, if known.
    fn driver_version(&self) -> Option<String>;
    /// A reader of GPU `index` (an NVML index) for the sampler.
    ///
    /// # Errors
    /// Why the device cannot be read, in words.
    fn reader(&self, index: u32) -> Result<Box<dyn DeviceReader>, String>;
}

impl<T: GpuDirectory + ?Sized> GpuDirectory for std::sync::Arc<T> {
    fn devices(&self) -> Vec<DeviceInfo> {
        (**self).devices()
    }

    fn driver_version(&self) -> Option<String> {
        (**self).driver_version()
    }

    fn reader(&self, index: u32) -> Result<Box<dyn DeviceReader>, String> {
        (**self).reader(index)
    }
}

/// The NVML index of CUDA device `cuda_index`, given its PCI bus id (when the CUDA runtime gave
/// one), the CUDA environment and NVML's devices. See the module docs for the rules.
///
/// # Errors
/// Why the device cannot be matched, in words naming the variable or id that did not match.
pub fn resolve_cuda_device(
    cuda_index: usize,
    pci_bus_id: Option<&str>,
    env: &CudaEnv,
    devices: &[DeviceInfo],
) -> Result<u32, String> {
    if let Some(id) = pci_bus_id {
        let wanted = parse_pci_bus_id(id).ok_or_else(|| format!("unreadable PCI bus id '{id}'"))?;
        return devices
            .iter()
            .find(|d| d.pci_bus_id.as_deref().and_then(parse_pci_bus_id) == Some(wanted))
            .map(|d| d.index)
            .ok_or_else(|| format!("no NVML device has PCI bus id {id}"));
    }
    let same_model = devices
        .first()
        .and_then(|d| d.name.as_ref())
        .is_some_and(|name| devices.iter().all(|d| d.name.as_ref() == Some(name)));
    let order_known = env.pci_order() || same_model || devices.len() == 1;
    let enumerated = |position: usize, what: &str| -> Result<u32, String> {
        if !order_known {
            return Err(format!(
                "{what} is an index in CUDA's fastest-first order, which is not NVML's PCI order \
                 on this machine of mixed GPUs; set CUDA_DEVICE_ORDER=PCI_BUS_ID"
            ));
        }
        devices
            .get(position)
            .map(|d| d.index)
            .ok_or_else(|| format!("{what}: NVML sees only {} device(s)", devices.len()))
    };
    let Some(visible) = env.visible_devices.as_deref() else {
        return enumerated(cuda_index, &format!("cuda:{cuda_index}"));
    };
    // CUDA stops at the first entry it cannot parse; blank entries are skipped here too.
    let entries: Vec<&str> = visible
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let entry = entries.get(cuda_index).ok_or_else(|| {
        format!("CUDA_VISIBLE_DEVICES='{visible}' has no entry for cuda:{cuda_index}")
    })?;
    if let Ok(position) = entry.parse::<usize>() {
        return enumerated(
            position,
            &format!("CUDA_VISIBLE_DEVICES entry '{entry}' (cuda:{cuda_index})"),
        );
    }
    let matches: Vec<&DeviceInfo> = devices
        .iter()
        .filter(|d| d.uuid.as_deref().is_some_and(|u| uuid_matches(u, entry)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.index),
        [] => Err(format!(
            "CUDA_VISIBLE_DEVICES entry '{entry}' (cuda:{cuda_index}) matches no NVML device's UUID"
        )),
        _ => Err(format!(
            "CUDA_VISIBLE_DEVICES entry '{entry}' (cuda:{cuda_index}) matches {} NVML devices' UUIDs",
            matches.len()
        )),
    }
}

/// Whether a `CUDA_VISIBLE_DEVICES` entry names the GPU with `uuid`: the whole UUID or a prefix
/// of it, with or without the `GPU-` prefix, any case.
fn uuid_matches(uuid: &str, entry: &str) -> bool {
    let strip = |s: &str| {
        let lower = s.to_ascii_lowercase();
        lower
            .strip_prefix("gpu-")
            .map(str::to_owned)
            .unwrap_or(lower)
    };
    let (uuid, entry) = (strip(uuid), strip(entry));
    !entry.is_empty() && uuid.starts_with(&entry)
}

/// `(domain, bus, device, function)` of a PCI bus id as CUDA (`0000:3B:00.0`) or NVML
/// (`00000000:3B:00.0`) writes it.
pub fn parse_pci_bus_id(id: &str) -> Option<(u32, u32, u32, u32)> {
    let id = id.trim();
    let (domain, rest) = id.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (device, function) = rest.split_once('.')?;
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    Some((hex(domain)?, hex(bus)?, hex(device)?, hex(function)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fake_device_info;

    /// Four GPUs in PCI order; the third is a different model.
    fn machine(mixed: bool) -> Vec<DeviceInfo> {
        (0..4)
            .map(|i| {
                let name = if mixed && i == 2 {
                    "NVIDIA L4"
                } else {
                    "NVIDIA H100"
                };
                fake_device_info(
                    i,
                    name,
                    &format!("GPU-{i}a{i}b0000-1111-2222-3333-44445555666{i}"),
                    &format!("00000000:{:02X}:00.0", 0x18 + 0x10 * i),
                )
            })
            .collect()
    }

    fn env(visible: Option<&str>, order: Option<&str>) -> CudaEnv {
        CudaEnv {
            visible_devices: visible.map(str::to_owned),
            device_order: order.map(str::to_owned),
        }
    }

    #[test]
    fn the_pci_bus_id_decides_whatever_the_environment_says() {
        let devices = machine(true);
        // CUDA writes a 4-digit domain, NVML an 8-digit one.
        let found = resolve_cuda_device(0, Some("0000:38:00.0"), &env(Some("2,0"), None), &devices);
        assert_eq!(found, Ok(2));
        let err = resolve_cuda_device(0, Some("0000:99:00.0"), &env(None, None), &devices);
        assert!(err.unwrap_err().contains("0000:99:00.0"));
    }

    #[test]
    fn shuffled_visible_indices_map_in_pci_order() {
        let devices = machine(true);
        let shuffled = env(Some("3,1"), Some("PCI_BUS_ID"));
        assert_eq!(resolve_cuda_device(0, None, &shuffled, &devices), Ok(3));
        assert_eq!(resolve_cuda_device(1, None, &shuffled, &devices), Ok(1));
        let missing = resolve_cuda_device(2, None, &shuffled, &devices).unwrap_err();
        assert!(missing.contains("no entry for cuda:2"), "{missing}");
    }

    #[test]
    fn fastest_first_on_mixed_gpus_is_refused_not_guessed() {
        let err =
            resolve_cuda_device(0, None, &env(Some("3,1"), None), &machine(true)).unwrap_err();
        assert!(err.contains("CUDA_DEVICE_ORDER=PCI_BUS_ID"), "{err}");
        let err = resolve_cuda_device(1, None, &env(None, None), &machine(true)).unwrap_err();
        assert!(err.contains("cuda:1"), "{err}");
        // Identical GPUs: fastest-first falls back to PCI order.
        assert_eq!(
            resolve_cuda_device(0, None, &env(Some("3,1"), None), &machine(false)),
            Ok(3)
        );
        assert_eq!(
            resolve_cuda_device(1, None, &env(None, None), &machine(false)),
            Ok(1)
        );
    }

    #[test]
    fn uuids_and_their_prefixes_name_devices() {
        let devices = machine(true);
        let by_uuid = env(
            Some("GPU-2a2b0000-1111-2222-3333-444455556662,GPU-0a0b"),
            None,
        );
        assert_eq!(resolve_cuda_device(0, None, &by_uuid, &devices), Ok(2));
        assert_eq!(resolve_cuda_device(1, None, &by_uuid, &devices), Ok(0));
        let none = resolve_cuda_device(0, None, &env(Some("GPU-ffff"), None), &devices);
        assert!(none.unwrap_err().contains("matches no NVML device"));
    }

    #[test]
    fn pci_bus_ids_parse_in_both_writings() {
        assert_eq!(parse_pci_bus_id("0000:3B:00.0"), Some((0, 0x3b, 0, 0)));
        assert_eq!(parse_pci_bus_id("00000000:3b:00.0"), Some((0, 0x3b, 0, 0)));
        assert_eq!(parse_pci_bus_id("garbage"), None);
    }
}
