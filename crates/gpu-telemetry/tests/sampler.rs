//! The sampler thread with a scripted device: timing, stopping, dropping, failures.

use gpu_telemetry::testing::{ScriptedReader, steady_readings};
use gpu_telemetry::{
    DeviceReader, EnergySource, Error, Missing, Reading, Readings, Sampler, SamplerConfig,
    measure_idle_power,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn samples_every_interval_and_brackets_the_window() {
    let config = SamplerConfig {
        interval: ms(20),
        min_energy_window: ms(100),
    };
    // 300 W, and a counter that moves 90 J between the start and stop readings.
    let mut sampler = Sampler::start(
        ScriptedReader::steady(300_000, vec![Ok(1_000_000), Ok(1_090_000)]),
        config,
    )
    .unwrap();
    std::thread::sleep(ms(300));
    let recording = sampler.stop_recording().unwrap();

    let n = recording.samples.len();
    // One sample per 20 ms tick plus the start and stop samples; fewer on a loaded machine.
    let ticks = recording.duration.as_millis() as usize / 20;
    assert!(
        n >= 5 && n <= ticks + 2,
        "{n} samples in {:?}",
        recording.duration
    );
    assert!(recording.samples[0].t < ms(20));
    assert!(recording.samples.windows(2).all(|w| w[0].t <= w[1].t));
    let last = recording.samples[n - 1].t;
    assert!(
        last >= ms(300) && recording.duration >= last,
        "{last:?} {:?}",
        recording.duration
    );
    let (start, end) = (
        recording.energy_start.unwrap(),
        recording.energy_end.unwrap(),
    );
    assert!(start.t <= recording.samples[0].t && end.t >= last);

    let window = recording.summarize();
    let avg = window.avg_power_w.unwrap();
    assert!((avg - 300.0).abs() < 1e-9, "{avg}");
    assert_eq!(window.max_power_w, Some(300.0));
    assert!(window.window_long_enough);
    assert_eq!(window.energy_source, Some(EnergySource::Counter));
    assert_eq!(window.energy_j, Some(90.0));
    assert!(window.missing.is_empty(), "{:?}", window.missing);
    assert_eq!(
        (window.sm_clock_min_mhz, window.sm_clock_max_mhz),
        (Some(1410), Some(1410))
    );
    assert_eq!(window.throttled(), Some(false));
}

#[test]
fn stop_is_prompt_with_a_long_interval() {
    let config = SamplerConfig {
        interval: Duration::from_secs(10),
        ..SamplerConfig::default()
    };
    let mut sampler = Sampler::start(ScriptedReader::steady(100_000, vec![Ok(0)]), config).unwrap();
    let begun = Instant::now();
    let window = sampler.stop().unwrap();
    assert!(
        begun.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        begun.elapsed()
    );
    assert_eq!(window.samples, 2, "the start and stop samples only");
}

#[test]
fn second_stop_is_an_error_not_a_panic() {
    let mut sampler = Sampler::start(
        ScriptedReader::steady(100_000, vec![Ok(0)]),
        SamplerConfig::default(),
    )
    .unwrap();
    assert!(sampler.is_running());
    assert!(sampler.stop().is_ok());
    assert!(!sampler.is_running());
    assert!(matches!(sampler.stop(), Err(Error::AlreadyStopped)));
    assert!(matches!(
        sampler.stop_recording(),
        Err(Error::AlreadyStopped)
    ));
    assert_eq!(Error::AlreadyStopped.to_string(), "sampler already stopped");
}

/// A reader that says when the sampler thread let go of it.
struct DropFlag {
    inner: ScriptedReader,
    dropped: Arc<AtomicBool>,
}

impl DeviceReader for DropFlag {
    fn read(&mut self) -> Readings {
        self.inner.read()
    }
    fn energy_mj(&mut self) -> Reading<u64> {
        self.inner.energy_mj()
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn dropping_a_running_sampler_ends_its_thread() {
    let dropped = Arc::new(AtomicBool::new(false));
    let inner = ScriptedReader::steady(100_000, vec![Ok(0)]);
    let reads = inner.read_count();
    let config = SamplerConfig {
        interval: ms(5),
        ..SamplerConfig::default()
    };
    let sampler = Sampler::start(
        DropFlag {
            inner,
            dropped: Arc::clone(&dropped),
        },
        config,
    )
    .unwrap();
    std::thread::sleep(ms(30));
    assert!(!dropped.load(Ordering::SeqCst));
    drop(sampler);
    // Drop joined the thread, which dropped the reader.
    assert!(dropped.load(Ordering::SeqCst));
    let after_drop = reads.load(Ordering::SeqCst);
    std::thread::sleep(ms(30));
    assert_eq!(reads.load(Ordering::SeqCst), after_drop);
}

#[test]
fn each_missing_reason_is_reported_once() {
    let mut readings = steady_readings(200_000);
    readings.power_mw = Err("the requested operation is not available on the target device".into());
    readings.throttle =
        Err("the current user does not have permission to perform this operation".into());
    let reader = ScriptedReader::new(vec![readings], vec![Err("not supported".into())]);
    let mut sampler = Sampler::start(
        reader,
        SamplerConfig {
            interval: ms(5),
            ..SamplerConfig::default()
        },
    )
    .unwrap();
    std::thread::sleep(ms(50));
    let window = sampler.stop().unwrap();
    assert!(window.samples >= 3);
    assert_eq!(
        window.missing,
        [
            Missing::new("energy counter", "not supported"),
            Missing::new(
                "power",
                "the requested operation is not available on the target device"
            ),
            Missing::new(
                "throttle reasons",
                "the current user does not have permission to perform this operation"
            ),
        ]
    );
    assert_eq!(
        (window.avg_power_w, window.energy_j, window.energy_source),
        (None, None, None)
    );
    assert_eq!(window.throttled(), None);
    assert_eq!(window.temperature_max_c, Some(60));
}

#[test]
fn a_device_that_reads_nothing_still_stops_cleanly() {
    let reader = ScriptedReader::new(
        vec![Readings::unavailable("gpu 0: device fell off the bus")],
        Vec::new(),
    );
    let mut sampler = Sampler::start(
        reader,
        SamplerConfig {
            interval: ms(5),
            ..SamplerConfig::default()
        },
    )
    .unwrap();
    std::thread::sleep(ms(20));
    let window = sampler.stop().unwrap();
    assert_eq!(
        window.missing.len(),
        7,
        "six values and the energy counter: {:?}",
        window.missing
    );
    assert_eq!(window.energy_j, None);
}

struct Panicking {
    reads_before_panic: usize,
}

impl DeviceReader for Panicking {
    fn read(&mut self) -> Readings {
        if self.reads_before_panic == 0 {
            panic!("reader bug");
        }
        self.reads_before_panic -= 1;
        steady_readings(1)
    }
    fn energy_mj(&mut self) -> Reading<u64> {
        Ok(0)
    }
}

#[test]
fn a_panicking_reader_is_an_error_value() {
    let config = SamplerConfig {
        interval: ms(5),
        ..SamplerConfig::default()
    };
    let err = Sampler::start(
        Panicking {
            reads_before_panic: 0,
        },
        config,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "sampler thread panicked: reader bug");

    let mut sampler = Sampler::start(
        Panicking {
            reads_before_panic: 2,
        },
        config,
    )
    .unwrap();
    std::thread::sleep(ms(50));
    assert!(matches!(sampler.stop(), Err(Error::SamplerPanicked(m)) if m == "reader bug"));
    assert!(matches!(sampler.stop(), Err(Error::AlreadyStopped)));
}

#[test]
fn stop_waits_only_for_the_read_in_flight() {
    let reader = ScriptedReader::steady(100_000, vec![Ok(0)]).with_read_delay(ms(30));
    let config = SamplerConfig {
        interval: ms(5),
        ..SamplerConfig::default()
    };
    let mut sampler = Sampler::start(reader, config).unwrap();
    std::thread::sleep(ms(200));
    let begun = Instant::now();
    sampler.stop().unwrap();
    // The read in flight and the final read: 60 ms, not a backlog of missed 5 ms ticks.
    assert!(begun.elapsed() < ms(500), "stop took {:?}", begun.elapsed());
}

/// A device whose second read (the first tick) takes 100 ms and whose other reads are instant.
struct OneSlowRead {
    reads: usize,
}

impl DeviceReader for OneSlowRead {
    fn read(&mut self) -> Readings {
        self.reads += 1;
        if self.reads == 2 {
            std::thread::sleep(ms(100));
        }
        steady_readings(100_000)
    }
    fn energy_mj(&mut self) -> Reading<u64> {
        Ok(0)
    }
}

#[test]
fn a_late_read_skips_missed_ticks_instead_of_bursting() {
    let config = SamplerConfig {
        interval: ms(10),
        ..SamplerConfig::default()
    };
    let mut sampler = Sampler::start(OneSlowRead { reads: 0 }, config).unwrap();
    std::thread::sleep(ms(300));
    let recording = sampler.stop_recording().unwrap();
    let ticks = &recording.samples[..recording.samples.len() - 1]; // without the stop sample
    let slow_end = ticks[1].t;
    // Ten ticks were missed during the slow read. Catching up would take about ten samples at
    // once; skipping them leaves one per 10 ms: about five in the next 50 ms.
    let soon_after = ticks
        .iter()
        .filter(|s| s.t > slow_end && s.t <= slow_end + ms(50))
        .count();
    assert!(
        soon_after <= 6,
        "{soon_after} samples within 50 ms of the late read"
    );
}

#[test]
fn zero_or_huge_interval_is_refused() {
    for interval in [Duration::ZERO, Duration::from_secs(3601)] {
        let config = SamplerConfig {
            interval,
            ..SamplerConfig::default()
        };
        let err = Sampler::start(ScriptedReader::steady(1, vec![]), config).unwrap_err();
        assert!(matches!(err, Error::InvalidInterval(d) if d == interval));
    }
}

#[test]
fn idle_power_is_the_mean_over_the_idle_window() {
    let reader = ScriptedReader::new(
        vec![steady_readings(40_000), steady_readings(60_000)],
        vec![Ok(0)],
    );
    let config = SamplerConfig {
        interval: ms(10),
        ..SamplerConfig::default()
    };
    let idle = measure_idle_power(reader, ms(200), config).unwrap();
    // 40 W at the first sample, 60 W from the next (10 ms later) on: the time-weighted mean lies
    // in between, near 60 W.
    let avg = idle.avg_power_w.unwrap();
    assert!(avg > 50.0 && avg < 60.0, "{avg}");
    assert_eq!(idle.max_power_w, Some(60.0));
    assert!(idle.duration >= ms(200));
    assert!(idle.samples >= 3);
}
