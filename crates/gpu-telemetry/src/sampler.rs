//! The background sampler: polls a [`DeviceReader`] around the measured phase.

use crate::error::{Error, Result};
use crate::missing::{Missing, MissingLog};
use crate::reader::{DeviceReader, TelemetrySample};
use crate::window::TelemetryWindow;
use serde::{Deserialize, Serialize};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the sampler samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerConfig {
    /// Time between samples (default 50 ms; 20-100 ms suits NVML, whose power reading is a
    /// moving average and whose energy counter updates every 20-100 ms).
    pub interval: Duration,
    /// The shortest window for which the energy counter's difference is used (default 1 s).
    pub min_energy_window: Duration,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(50),
            min_energy_window: Duration::from_secs(1),
        }
    }
}

impl SamplerConfig {
    /// The longest interval accepted.
    pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

    /// Checks that the interval is positive and at most [`MAX_INTERVAL`](Self::MAX_INTERVAL).
    pub fn validate(&self) -> Result<()> {
        if self.interval.is_zero() || self.interval > Self::MAX_INTERVAL {
            return Err(Error::InvalidInterval(self.interval));
        }
        Ok(())
    }
}

/// One reading of the total-energy counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterReading {
    /// When it was read, from the sampler's start.
    pub t: Duration,
    /// The counter, in millijoules since the driver was loaded.
    pub energy_mj: u64,
}

/// Everything a sampler read over one window, before summarising.
///
/// Order of reads: energy counter, first sample (at `t` = 0), a sample every interval, a last
/// sample at the stop, energy counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The settings it ran with.
    pub config: SamplerConfig,
    /// From the sampler's start to its last read.
    pub duration: Duration,
    /// The samples, in time order.
    pub samples: Vec<TelemetrySample>,
    /// The energy counter at the start, if it could be read.
    pub energy_start: Option<CounterReading>,
    /// The energy counter at the stop, if it could be read.
    pub energy_end: Option<CounterReading>,
    /// Values that could not be read, each `(what, reason)` once.
    pub missing: Vec<Missing>,
}

impl Recording {
    /// The summary of this recording (see [`TelemetryWindow::from_recording`]).
    pub fn summarize(&self) -> TelemetryWindow {
        TelemetryWindow::from_recording(self)
    }
}

/// A background thread sampling one device from [`start`](Self::start) to [`stop`](Self::stop).
///
/// `start` returns once the first energy-counter reading and sample are taken, and `stop` once the
/// last are, so the recording brackets the code run in between. The thread waits on a channel, so
/// `stop` is prompt whatever the interval. Stopping twice returns [`Error::AlreadyStopped`];
/// dropping a running sampler stops and joins its thread.
#[derive(Debug)]
pub struct Sampler {
    stop_tx: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<Recording>>,
}

impl Sampler {
    /// Starts sampling `reader` in a background thread.
    pub fn start<R: DeviceReader + 'static>(reader: R, config: SamplerConfig) -> Result<Self> {
        config.validate()?;
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("gpu-telemetry-sampler".into())
            .spawn(move || run(reader, config, &stop_rx, &ready_tx))
            .map_err(Error::Spawn)?;
        let mut sampler = Self {
            stop_tx: Some(stop_tx),
            handle: Some(handle),
        };
        if ready_rx.recv().is_err() {
            // The thread ended before its first sample: it panicked. Report how.
            return Err(sampler.stop_recording().err().unwrap_or_else(|| {
                Error::SamplerPanicked("sampler ended before its first sample".into())
            }));
        }
        Ok(sampler)
    }

    /// Whether the thread is still sampling (not yet stopped).
    pub fn is_running(&self) -> bool {
        self.handle.is_some()
    }

    /// Stops sampling and summarises the window.
    pub fn stop(&mut self) -> Result<TelemetryWindow> {
        self.stop_recording().map(|recording| recording.summarize())
    }

    /// Stops sampling and returns the raw recording (every sample).
    pub fn stop_recording(&mut self) -> Result<Recording> {
        let handle = self.handle.take().ok_or(Error::AlreadyStopped)?;
        if let Some(stop_tx) = self.stop_tx.take() {
            // A send error means the thread has already ended; join says how.
            let _ = stop_tx.send(());
        }
        handle
            .join()
            .map_err(|panic| Error::SamplerPanicked(panic_message(panic.as_ref())))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.stop_recording();
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".into())
}

/// The sampler thread's body.
fn run<R: DeviceReader>(
    mut reader: R,
    config: SamplerConfig,
    stop_rx: &mpsc::Receiver<()>,
    ready_tx: &mpsc::Sender<()>,
) -> Recording {
    let origin = Instant::now();
    let mut log = MissingLog::default();
    let read_energy = |reader: &mut R, log: &mut MissingLog| {
        let energy = reader.energy_mj();
        let t = origin.elapsed();
        log.take("energy counter", energy)
            .map(|energy_mj| CounterReading { t, energy_mj })
    };
    let energy_start = read_energy(&mut reader, &mut log);
    let mut samples = vec![reader.read().into_sample(origin.elapsed(), &mut log)];
    // The caller may have gone (start failed to wait); sampling on is still harmless.
    let _ = ready_tx.send(());

    // Sample until asked to stop (a message) or the sampler is dropped (the channel disconnects).
    let mut next = origin + config.interval;
    while let Err(RecvTimeoutError::Timeout) =
        stop_rx.recv_timeout(next.saturating_duration_since(Instant::now()))
    {
        let readings = reader.read();
        samples.push(readings.into_sample(origin.elapsed(), &mut log));
        let now = Instant::now();
        next += config.interval;
        if next <= now {
            // Reads took longer than an interval: skip the missed ticks rather than burst.
            next = now + config.interval;
        }
    }
    samples.push(reader.read().into_sample(origin.elapsed(), &mut log));
    let energy_end = read_energy(&mut reader, &mut log);
    Recording {
        config,
        duration: origin.elapsed(),
        samples,
        energy_start,
        energy_end,
        missing: log.into_vec(),
    }
}

/// Idle power measured before a run, to separate static from dynamic energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdlePower {
    /// Time-weighted mean power over the measurement, in watts.
    pub avg_power_w: Option<f64>,
    /// Largest sampled power, in watts.
    pub max_power_w: Option<f64>,
    /// How long it was measured.
    pub duration: Duration,
    /// Samples taken.
    pub samples: usize,
    /// Values that could not be read, and why.
    pub missing: Vec<Missing>,
}

/// Samples `reader` for `duration` while the caller does nothing on the device, and returns the
/// power drawn. Measure at least a few seconds: NVML's power reading is a ~1 s moving average.
pub fn measure_idle_power<R: DeviceReader + 'static>(
    reader: R,
    duration: Duration,
    config: SamplerConfig,
) -> Result<IdlePower> {
    let mut sampler = Sampler::start(reader, config)?;
    std::thread::sleep(duration);
    let window = sampler.stop()?;
    Ok(IdlePower {
        avg_power_w: window.avg_power_w,
        max_power_w: window.max_power_w,
        duration: window.duration,
        samples: window.samples,
        missing: window.missing,
    })
}
