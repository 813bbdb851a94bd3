//! GPU and host telemetry for bert-latency: what the machine is and what a measured window cost.
//!
//! `gpu-telemetry` owns every reading that is not a latency. It has no libtorch dependency, and it
//! loads NVML at run time, so it builds and runs where there is no GPU: every value that cannot be
//! read is `None` with a [`Missing`] reason, never a panic. In data-flow order:
//!
//! 1. **What the machine offers.** [`probe()`] loads NVML and returns a [`Probe`]: an
//!    [`NvmlSystem`] handle or the reason there is none. [`Probe::facts`] gives the [`GpuFacts`]
//!    for a results file (driver and CUDA driver versions, and per GPU a [`DeviceInfo`]: name,
//!    UUID, memory, power limit, applications-clocks [`ClockState`]).
//!    [`host::HostInfo::collect`] gives the CPU model, cores and installed memory.
//! 2. **Before the run.** [`host::HostMemoryBaseline::capture`] resets the process's peak resident
//!    set and records the resident set before the model is built. Optionally,
//!    [`measure_idle_power`] measures the idle [`IdlePower`].
//! 3. **Around the measured phase.** [`Sampler::start`] polls a [`DeviceReader`] (an
//!    [`NvmlReader`] from [`NvmlSystem::reader`], or in tests a [`testing::ScriptedReader`]) in a
//!    background thread every [`SamplerConfig::interval`] (50 ms by default), recording
//!    [`TelemetrySample`]s and the energy counter at both ends into a [`Recording`];
//!    [`Sampler::stop`] summarises it into a [`TelemetryWindow`]: mean and peak power, energy
//!    (from the counter, or integrated, with its [`EnergySource`]), clock and temperature ranges,
//!    the fraction of throttled samples ([`ThrottleReasons`]) and device-wide memory used.
//! 4. **After the run.** [`host::HostMemoryBaseline::finish`] gives the [`host::HostMemory`] the
//!    run needed; [`TelemetryWindow::with_idle_power`] separates dynamic from static energy, and
//!    [`TelemetryWindow::energy_per_1k_tokens_j`] and friends scale it.
//!
//! ```
//! use gpu_telemetry::{DeviceReader, EnergySource, Sampler, SamplerConfig, host};
//! use gpu_telemetry::testing::ScriptedReader;
//! use std::time::Duration;
//!
//! let probe = gpu_telemetry::probe(); // without NVML: `Unavailable` with the loader's reason
//! let facts = probe.facts();
//! let host_info = host::HostInfo::collect();
//! let baseline = host::HostMemoryBaseline::capture()?;
//!
//! // GPU 0 if there is one; here without a GPU, a stand-in drawing a steady 300 W.
//! let gpu = probe.system().and_then(|nvml| nvml.reader(0).ok());
//! let reader: Box<dyn DeviceReader> = match gpu {
//!     Some(reader) => Box::new(reader),
//!     None => Box::new(ScriptedReader::steady(300_000, vec![Ok(5_000_000), Ok(5_015_000)])),
//! };
//! let config = SamplerConfig { interval: Duration::from_millis(10), ..SamplerConfig::default() };
//! let mut sampler = Sampler::start(reader, config)?;
//! std::thread::sleep(Duration::from_millis(50)); // the measured phase
//! let window = sampler.stop()?;
//! let host_memory = baseline.finish()?;
//!
//! if !facts.nvml_available {
//!     assert!(window.avg_power_w.is_some_and(|w| (w - 300.0).abs() < 1e-9));
//!     // 50 ms is too short for the energy counter: the power samples are integrated instead.
//!     assert!(!window.window_long_enough);
//!     assert_eq!(window.energy_source, Some(EnergySource::Integrated));
//!     assert!(window.energy_per_1k_tokens_j(4 * 128).is_some());
//! }
//! assert!(host_memory.peak_rss_bytes >= host_memory.rss_bytes);
//! // Each reason a value is missing, once, for the CLI to print.
//! let _missing = gpu_telemetry::unique_missing([&facts.missing[..], &window.missing[..], &host_info.missing[..]]);
//! # Ok::<(), gpu_telemetry::Error>(())
//! ```
#![deny(missing_docs)]

mod cuda_map;
pub mod energy;
mod error;
pub mod host;
mod missing;
mod nvml;
mod probe;
mod reader;
mod sampler;
pub mod testing;
mod throttle;
mod window;

pub use crate::cuda_map::{CudaEnv, GpuDirectory, parse_pci_bus_id, resolve_cuda_device};
pub use crate::energy::EnergySource;
pub use crate::error::{Error, Result};
pub use crate::missing::{Missing, Reading, unique as unique_missing};
pub use crate::nvml::{ClockState, DeviceInfo, NvmlReader, NvmlSystem};
pub use crate::probe::{GpuFacts, Probe, probe, probe_with_library};
pub use crate::reader::{DeviceReader, Readings, TelemetrySample};
pub use crate::sampler::{
    CounterReading, IdlePower, Recording, Sampler, SamplerConfig, measure_idle_power,
};
pub use crate::throttle::ThrottleReasons;
pub use crate::window::{ReasonCount, TelemetryWindow};
