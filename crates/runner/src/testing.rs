//! A fake GPU for tests: runs on the CPU, but takes the runner's GPU path (device memory,
//! telemetry, NVML lookup) and logs every call, so that the CUDA wiring is tested without a GPU.

use std::sync::{Arc, Mutex};

use gpu_telemetry::{CudaEnv, DeviceReader, GpuDirectory, Reading, Readings};
use model_zoo::Batch;
use model_zoo::tch;

use crate::device::{AllocatorMemory, Device, GpuLink, Identity};

/// A call the runner made on a [`FakeGpu`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// [`Device::fence`].
    Fence,
    /// [`Device::stage`] of one batch.
    Stage,
    /// [`Device::reset_peak_memory`].
    ResetPeak,
    /// [`Device::memory`].
    ReadMemory,
    /// [`Device::release_cached_memory`].
    ReleaseCache,
    /// A telemetry reader was handed out (the sampler starts with it).
    ReaderOpened,
    /// That reader was dropped (the sampler stopped).
    ReaderClosed,
}

/// The shared event log.
pub type Log = Arc<Mutex<Vec<Event>>>;

fn push(log: &Log, event: Event) {
    if let Ok(mut log) = log.lock() {
        log.push(event);
    }
}

/// A GPU that runs on the CPU. Its allocator is a model: `allocated = weights + staged` and
/// `peak = allocated + activations`, where `staged` counts the bytes of every batch passed to
/// [`Device::stage`] since the last [`Device::release_cached_memory`]; its telemetry comes from a [`GpuDirectory`] matched as a real CUDA device's
/// would be (by PCI bus id, or `CUDA_VISIBLE_DEVICES`).
pub struct FakeGpu {
    index: usize,
    link: GpuLink,
    log: Log,
    weights_bytes: u64,
    activation_bytes: u64,
    staged_bytes: Mutex<u64>,
    available: Option<u64>,
}

impl std::fmt::Debug for FakeGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGpu")
            .field("index", &self.index)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl FakeGpu {
    /// CUDA device `index`, whose PCI bus id is `pci_bus_id` (as the CUDA runtime writes it, or
    /// `None` when the runtime cannot say), under `env`, on a machine whose GPUs `directory` lists.
    pub fn new(
        index: usize,
        pci_bus_id: Option<&str>,
        env: &CudaEnv,
        directory: impl GpuDirectory + 'static,
    ) -> Self {
        Self {
            index,
            link: GpuLink::new(index, pci_bus_id, env, Ok(Box::new(directory))),
            log: Arc::new(Mutex::new(Vec::new())),
            weights_bytes: 0,
            activation_bytes: 0,
            staged_bytes: Mutex::new(0),
            available: None,
        }
    }

    /// Sets the free device memory the runner sees (else: NVML's, through the directory).
    pub fn with_available_memory(mut self, bytes: u64) -> Self {
        self.available = Some(bytes);
        self
    }

    /// Sets the allocator model's weight and activation bytes.
    pub fn with_memory(mut self, weights_bytes: u64, activation_bytes: u64) -> Self {
        self.weights_bytes = weights_bytes;
        self.activation_bytes = activation_bytes;
        self
    }

    /// The calls made so far.
    pub fn events(&self) -> Vec<Event> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Bytes staged so far.
    pub fn staged_bytes(&self) -> u64 {
        self.staged_bytes.lock().map(|b| *b).unwrap_or(0)
    }

    /// The NVML index the device was matched to.
    pub fn nvml_index(&self) -> Result<u32, String> {
        self.link.nvml_index().map_err(str::to_owned)
    }
}

/// A reader that logs when it is dropped.
struct LoggedReader {
    inner: Box<dyn DeviceReader>,
    log: Log,
}

impl DeviceReader for LoggedReader {
    fn read(&mut self) -> Readings {
        self.inner.read()
    }

    fn energy_mj(&mut self) -> Reading<u64> {
        self.inner.energy_mj()
    }
}

impl Drop for LoggedReader {
    fn drop(&mut self) {
        push(&self.log, Event::ReaderClosed);
    }
}

impl Device for FakeGpu {
    fn torch(&self) -> tch::Device {
        tch::Device::Cpu
    }

    fn name(&self) -> String {
        format!("cuda:{}", self.index)
    }

    fn is_gpu(&self) -> bool {
        true
    }

    fn fence(&self) {
        push(&self.log, Event::Fence);
    }

    fn stage(&self, batch: &Batch) -> Batch {
        push(&self.log, Event::Stage);
        if let Ok(mut staged) = self.staged_bytes.lock() {
            *staged += crate::run::batch_bytes(batch);
        }
        batch.to_device(tch::Device::Cpu)
    }

    fn reset_peak_memory(&self) -> Result<(), String> {
        push(&self.log, Event::ResetPeak);
        Ok(())
    }

    fn memory(&self) -> Result<AllocatorMemory, String> {
        push(&self.log, Event::ReadMemory);
        let allocated = self.weights_bytes + self.staged_bytes();
        Ok(AllocatorMemory {
            allocated,
            peak_allocated: allocated + self.activation_bytes,
        })
    }

    fn release_cached_memory(&self) {
        push(&self.log, Event::ReleaseCache);
        if let Ok(mut staged) = self.staged_bytes.lock() {
            *staged = 0;
        }
    }

    fn telemetry_reader(&self) -> Result<Box<dyn DeviceReader>, String> {
        let inner = self.link.reader()?;
        push(&self.log, Event::ReaderOpened);
        Ok(Box::new(LoggedReader {
            inner,
            log: Arc::clone(&self.log),
        }))
    }

    fn identity(&self) -> Identity {
        self.link.identity()
    }

    fn available_memory(&self) -> Option<u64> {
        self.available.or_else(|| self.link.available_memory())
    }
}
