//! GPU and host telemetry for bert-latency: what the machine is and what a measured window cost.
//!
//! `gpu-telemetry` owns every reading that is not a latency: through NVML (loaded at run time, so
//! the crate builds and runs where there is no GPU) the devices' names, drivers, memory, power,
//! energy, clocks and throttle reasons, sampled in a background thread around the measured phase;
//! and from the operating system the CPU model, core count, host memory and the process's resident
//! set and its peak. Where a value cannot be read it is absent with a reason, never a panic. It has
//! no libtorch dependency. The NVML sampler lands with its own issue; this crate is its home.
#![deny(missing_docs)]
