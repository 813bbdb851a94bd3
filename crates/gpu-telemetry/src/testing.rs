//! Stand-ins for a GPU machine: a scripted [`DeviceReader`] to exercise the sampler and its
//! callers, and a [`FakeDirectory`] of GPUs whose readers are scripted.

use crate::cuda_map::GpuDirectory;
use crate::missing::Reading;
use crate::nvml::{ClockState, DeviceInfo};
use crate::reader::{DeviceReader, Readings};
use crate::throttle::ThrottleReasons;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A device reader that plays back scripted readings: the `n`-th `read` returns the `n`-th
/// readings and the `n`-th `energy_mj` the `n`-th counter value, repeating the last entry once the
/// script runs out.
#[derive(Debug, Clone)]
pub struct ScriptedReader {
    readings: Vec<Readings>,
    energy_mj: Vec<Reading<u64>>,
    next_read: usize,
    next_energy: usize,
    read_delay: Duration,
    reads: Arc<AtomicUsize>,
}

impl ScriptedReader {
    /// Plays `readings` and `energy_mj` back in order. An empty script reads as missing values.
    pub fn new(readings: Vec<Readings>, energy_mj: Vec<Reading<u64>>) -> Self {
        Self {
            readings,
            energy_mj,
            next_read: 0,
            next_energy: 0,
            read_delay: Duration::ZERO,
            reads: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A device that always draws `power_mw` at fixed clocks and temperature, with no throttling,
    /// and whose energy counter reads the `energy_mj` values in turn.
    pub fn steady(power_mw: u32, energy_mj: Vec<Reading<u64>>) -> Self {
        Self::new(vec![steady_readings(power_mw)], energy_mj)
    }

    /// Makes every `read` take `delay`, like a slow device.
    pub fn with_read_delay(mut self, delay: Duration) -> Self {
        self.read_delay = delay;
        self
    }

    /// A counter of the `read` calls made so far, readable while the reader is in a sampler.
    pub fn read_count(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.reads)
    }
}

/// Readings of a steady device drawing `power_mw`: SM 1410 MHz, memory 1215 MHz, 60 °C, no
/// throttle reason, 1 GiB used.
pub fn steady_readings(power_mw: u32) -> Readings {
    Readings {
        power_mw: Ok(power_mw),
        sm_clock_mhz: Ok(1410),
        mem_clock_mhz: Ok(1215),
        temperature_c: Ok(60),
        throttle: Ok(ThrottleReasons::NONE),
        device_memory_used_bytes: Ok(1 << 30),
    }
}

fn play<T: Clone>(script: &[T], next: &mut usize) -> Option<T> {
    let item = script.get(*next).or_else(|| script.last()).cloned();
    *next += 1;
    item
}

impl DeviceReader for ScriptedReader {
    fn read(&mut self) -> Readings {
        if !self.read_delay.is_zero() {
            std::thread::sleep(self.read_delay);
        }
        self.reads.fetch_add(1, Ordering::SeqCst);
        play(&self.readings, &mut self.next_read)
            .unwrap_or_else(|| Readings::unavailable("no scripted readings"))
    }

    fn energy_mj(&mut self) -> Reading<u64> {
        play(&self.energy_mj, &mut self.next_energy)
            .unwrap_or_else(|| Err("no scripted energy counter".into()))
    }
}

/// The facts of a fake GPU: `name`, `uuid` and `pci_bus_id` (NVML's writing, e.g.
/// `00000000:3B:00.0`) set, the rest unknown.
pub fn fake_device_info(index: u32, name: &str, uuid: &str, pci_bus_id: &str) -> DeviceInfo {
    DeviceInfo {
        index,
        name: Some(name.to_owned()),
        uuid: Some(uuid.to_owned()),
        pci_bus_id: Some(pci_bus_id.to_owned()),
        total_memory_bytes: None,
        power_limit_mw: None,
        default_power_limit_mw: None,
        persistence_mode: None,
        clocks: ClockState::Unknown {
            reason: "fake device".to_owned(),
        },
        missing: Vec::new(),
    }
}

/// A machine's GPUs for tests: fixed facts, and for each a factory of readers (called once per
/// [`GpuDirectory::reader`]); the indices of the readers handed out are logged.
pub struct FakeDirectory {
    devices: Vec<DeviceInfo>,
    driver_version: Option<String>,
    readers: Box<dyn Fn(u32) -> Box<dyn DeviceReader> + Send + Sync>,
    opened: std::sync::Mutex<Vec<u32>>,
}

impl FakeDirectory {
    /// `devices` (in NVML order), whose readers `readers(index)` makes.
    pub fn new(
        devices: Vec<DeviceInfo>,
        driver_version: Option<&str>,
        readers: impl Fn(u32) -> Box<dyn DeviceReader> + Send + Sync + 'static,
    ) -> Self {
        Self {
            devices,
            driver_version: driver_version.map(str::to_owned),
            readers: Box::new(readers),
            opened: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The NVML indices of the readers handed out so far, in order.
    pub fn opened(&self) -> Vec<u32> {
        self.opened.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl std::fmt::Debug for FakeDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDirectory")
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

impl GpuDirectory for FakeDirectory {
    fn devices(&self) -> Vec<DeviceInfo> {
        self.devices.clone()
    }

    fn driver_version(&self) -> Option<String> {
        self.driver_version.clone()
    }

    fn reader(&self, index: u32) -> Result<Box<dyn DeviceReader>, String> {
        if !self.devices.iter().any(|d| d.index == index) {
            return Err(format!("no fake device {index}"));
        }
        if let Ok(mut opened) = self.opened.lock() {
            opened.push(index);
        }
        Ok((self.readers)(index))
    }
}
