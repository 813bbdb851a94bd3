//! How the runner reaches the device: the [`Device`] trait, with the CPU ([`CpuDevice`]) and a
//! CUDA GPU ([`CudaDevice`]) behind it, and a fake in [`crate::testing`] that drives the GPU path
//! on a CPU.

use gpu_telemetry::{CudaEnv, DeviceReader, GpuDirectory, resolve_cuda_device};
use model_zoo::Batch;
use model_zoo::tch;

/// The CUDA caching allocator's bytes on one device (`torch.cuda.memory_allocated` and
/// `torch.cuda.max_memory_allocated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocatorMemory {
    /// Bytes held by live tensors now.
    pub allocated: u64,
    /// The most bytes held since the last [`Device::reset_peak_memory`].
    pub peak_allocated: u64,
}

/// What a device is, for records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The GPU's name from NVML (`None` on the CPU, whose model comes from the host facts).
    pub device_name: Option<String>,
    /// The GPU driver version from NVML.
    pub driver_version: Option<String>,
    /// Why GPU telemetry and identity are not recorded, when they are not.
    pub unavailable: Option<String>,
}

/// The device a run measures on: what the runner needs beyond libtorch's own calls.
///
/// Every method but [`Device::torch`] and [`Device::name`] is a no-op or an error on the CPU,
/// where the runner reads host memory instead and samples no telemetry.
pub trait Device {
    /// Where models and inputs live.
    fn torch(&self) -> tch::Device;
    /// The name records use: `cpu` or `cuda:N`.
    fn name(&self) -> String;
    /// Whether this is a GPU: device memory and telemetry instead of host memory.
    fn is_gpu(&self) -> bool;
    /// Waits for all queued work (a CUDA synchronize); called before the clock starts and before
    /// it stops.
    fn fence(&self);
    /// The batch on this device, ready before timing starts.
    fn stage(&self, batch: &Batch) -> Batch {
        batch.to_device(self.torch())
    }
    /// Starts the allocator's peak again from the current bytes.
    ///
    /// # Errors
    /// Why the allocator cannot be read, in words.
    fn reset_peak_memory(&self) -> Result<(), String>;
    /// The allocator's current and peak bytes.
    ///
    /// # Errors
    /// Why the allocator cannot be read, in words.
    fn memory(&self) -> Result<AllocatorMemory, String>;
    /// Returns cached, unused blocks to the driver (between models).
    fn release_cached_memory(&self);
    /// A reader of this device's power, clocks and energy for the sampler.
    ///
    /// # Errors
    /// Why there is none (no NVML, the GPU could not be matched), in words.
    fn telemetry_reader(&self) -> Result<Box<dyn DeviceReader>, String>;
    /// The device's name and driver, for records.
    fn identity(&self) -> Identity;
    /// Bytes that new models could still take on this device (the host's available memory on
    /// the CPU, the GPU's free memory on a GPU); `None` when it cannot be read.
    fn available_memory(&self) -> Option<u64> {
        None
    }
}

/// The device a user's choice (`auto`, `cpu`, `cuda`, `cuda:N`) means on this machine.
///
/// # Errors
/// As [`model_zoo::DeviceChoice::resolve`]: CUDA asked for and not available.
pub fn open(choice: model_zoo::DeviceChoice) -> model_zoo::Result<Box<dyn Device>> {
    Ok(match choice.resolve()? {
        tch::Device::Cuda(index) => Box::new(CudaDevice::new(index)),
        _ => Box::new(CpuDevice),
    })
}

/// The CPU.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuDevice;

impl Device for CpuDevice {
    fn torch(&self) -> tch::Device {
        tch::Device::Cpu
    }

    fn name(&self) -> String {
        "cpu".to_owned()
    }

    fn is_gpu(&self) -> bool {
        false
    }

    fn fence(&self) {}

    fn reset_peak_memory(&self) -> Result<(), String> {
        Err("the CPU has no device allocator (host memory is read instead)".to_owned())
    }

    fn memory(&self) -> Result<AllocatorMemory, String> {
        Err("the CPU has no device allocator (host memory is read instead)".to_owned())
    }

    fn release_cached_memory(&self) {}

    fn telemetry_reader(&self) -> Result<Box<dyn DeviceReader>, String> {
        Err("no GPU telemetry on the CPU".to_owned())
    }

    fn identity(&self) -> Identity {
        Identity::default()
    }

    fn available_memory(&self) -> Option<u64> {
        gpu_telemetry::host::available_memory_bytes()
    }
}

/// A CUDA device's link to NVML: the NVML device it is (matched by PCI bus id, see
/// [`resolve_cuda_device`]), or why it could not be matched.
pub struct GpuLink {
    directory: Option<Box<dyn GpuDirectory>>,
    nvml_index: Result<u32, String>,
}

impl std::fmt::Debug for GpuLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuLink")
            .field("nvml_index", &self.nvml_index)
            .finish_non_exhaustive()
    }
}

impl GpuLink {
    /// Matches CUDA device `cuda_index` (whose PCI bus id the CUDA runtime gave, if it did) to a
    /// device of `directory` (`Err` with the reason when there is no NVML).
    pub fn new(
        cuda_index: usize,
        pci_bus_id: Option<&str>,
        env: &CudaEnv,
        directory: Result<Box<dyn GpuDirectory>, String>,
    ) -> Self {
        match directory {
            Ok(directory) => Self {
                nvml_index: resolve_cuda_device(cuda_index, pci_bus_id, env, &directory.devices()),
                directory: Some(directory),
            },
            Err(reason) => Self {
                directory: None,
                nvml_index: Err(reason),
            },
        }
    }

    /// The NVML index, or why there is none.
    pub fn nvml_index(&self) -> Result<u32, &str> {
        self.nvml_index.as_ref().copied().map_err(String::as_str)
    }

    /// A reader of the matched device.
    ///
    /// # Errors
    /// Why the device could not be matched or read.
    pub fn reader(&self) -> Result<Box<dyn DeviceReader>, String> {
        let index = self.nvml_index.clone()?;
        let directory = self
            .directory
            .as_ref()
            .ok_or_else(|| "no NVML".to_owned())?;
        directory.reader(index)
    }

    /// The matched device's free memory, as NVML sees it: installed memory less every process's
    /// use. `None` when it cannot be read.
    pub fn available_memory(&self) -> Option<u64> {
        let index = *self.nvml_index.as_ref().ok()?;
        let total = self
            .directory
            .as_ref()?
            .devices()
            .into_iter()
            .find(|d| d.index == index)?
            .total_memory_bytes?;
        let used = self.reader().ok()?.read().device_memory_used_bytes.ok()?;
        Some(total.saturating_sub(used))
    }

    /// The matched device's name and the driver, or nothing with the reason.
    pub fn identity(&self) -> Identity {
        match (&self.nvml_index, &self.directory) {
            (Ok(index), Some(directory)) => Identity {
                device_name: directory
                    .devices()
                    .into_iter()
                    .find(|d| d.index == *index)
                    .and_then(|d| d.name),
                driver_version: directory.driver_version(),
                unavailable: None,
            },
            (Err(reason), _) => Identity {
                unavailable: Some(reason.clone()),
                ..Identity::default()
            },
            (Ok(_), None) => Identity {
                unavailable: Some("no NVML".to_owned()),
                ..Identity::default()
            },
        }
    }
}

/// A CUDA GPU through libtorch, its allocator through model-zoo's C++ shim, and its telemetry
/// through NVML (matched by PCI bus id).
#[derive(Debug)]
pub struct CudaDevice {
    index: usize,
    link: GpuLink,
}

impl CudaDevice {
    /// CUDA device `index`, linked to NVML through the CUDA runtime's PCI bus id and this
    /// process's `CUDA_VISIBLE_DEVICES` / `CUDA_DEVICE_ORDER`.
    pub fn new(index: usize) -> Self {
        let pci = model_zoo::cuda_pci_bus_id(index).ok();
        let probe = gpu_telemetry::probe();
        let directory = match probe.system() {
            Some(system) => Ok(Box::new(system.clone()) as Box<dyn GpuDirectory>),
            None => Err(probe
                .unavailable_reason()
                .unwrap_or("NVML is unavailable")
                .to_owned()),
        };
        Self {
            index,
            link: GpuLink::new(index, pci.as_deref(), &CudaEnv::from_env(), directory),
        }
    }
}

impl Device for CudaDevice {
    fn torch(&self) -> tch::Device {
        tch::Device::Cuda(self.index)
    }

    fn name(&self) -> String {
        format!("cuda:{}", self.index)
    }

    fn is_gpu(&self) -> bool {
        true
    }

    fn fence(&self) {
        model_zoo::synchronize(self.torch());
    }

    fn reset_peak_memory(&self) -> Result<(), String> {
        model_zoo::reset_cuda_peak(self.index).map_err(|e| e.to_string())
    }

    fn memory(&self) -> Result<AllocatorMemory, String> {
        let m = model_zoo::cuda_memory(self.index).map_err(|e| e.to_string())?;
        Ok(AllocatorMemory {
            allocated: u64::try_from(m.allocated).unwrap_or(0),
            peak_allocated: u64::try_from(m.peak_allocated).unwrap_or(0),
        })
    }

    fn release_cached_memory(&self) {
        // Without the shim there is no cache to empty that we could read anyway.
        let _ = model_zoo::empty_cuda_cache();
    }

    fn telemetry_reader(&self) -> Result<Box<dyn DeviceReader>, String> {
        self.link.reader()
    }

    fn identity(&self) -> Identity {
        self.link.identity()
    }

    fn available_memory(&self) -> Option<u64> {
        self.link.available_memory()
    }
}
