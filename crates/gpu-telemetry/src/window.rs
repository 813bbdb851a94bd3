//! The summary of one measured window: power, energy, clocks, temperature, throttling, memory.

use crate::energy::{self, CounterDelta, EnergySource};
use crate::missing::{Missing, MissingLog};
use crate::reader::TelemetrySample;
use crate::sampler::Recording;
use crate::throttle::ThrottleReasons;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often one throttle reason was seen in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonCount {
    /// The reason's name, e.g. "sw_power_cap" (see [`ThrottleReasons::name`]).
    pub reason: String,
    /// Whether it is one of the [`LIMITING`](ThrottleReasons::LIMITING) reasons.
    pub limiting: bool,
    /// Samples in which it was set.
    pub samples: usize,
    /// `samples` over the samples whose throttle reasons could be read.
    pub fraction: f64,
}

/// What one device did over one measured window, from a sampler [`Recording`].
///
/// Every value that could not be read or computed is `None`, and `missing` says why, once per
/// reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryWindow {
    /// From the sampler's first reading to its last.
    pub duration: Duration,
    /// The sampling interval asked for.
    pub interval: Duration,
    /// Samples taken, including the one at the start and the one at the stop.
    pub samples: usize,
    /// Time-weighted mean of the sampled power (the trapezoid integral over its span), in watts;
    /// with a single power reading, that reading.
    pub avg_power_w: Option<f64>,
    /// Largest sampled power, in watts.
    pub max_power_w: Option<f64>,
    /// The window's energy in joules, from `energy_source`.
    pub energy_j: Option<f64>,
    /// Where `energy_j` came from.
    pub energy_source: Option<EnergySource>,
    /// The total-energy counter's difference over the window in joules, whether used or not
    /// (`None` when the counter is unsupported or was reset).
    pub counter_energy_j: Option<f64>,
    /// The trapezoid integral of the sampled power in joules, whether used or not.
    pub integrated_energy_j: Option<f64>,
    /// Whether the counter wrapped at `u64::MAX` during the window.
    pub counter_wrapped: bool,
    /// Whether the window (between the counter readings, or the samples when there is no counter)
    /// lasted at least `min_energy_window`, so that the counter's 20-100 ms update steps are small
    /// against its difference.
    pub window_long_enough: bool,
    /// The shortest window for which the counter is used.
    pub min_energy_window: Duration,
    /// Lowest SM clock sampled, in MHz.
    pub sm_clock_min_mhz: Option<u32>,
    /// Highest SM clock sampled, in MHz.
    pub sm_clock_max_mhz: Option<u32>,
    /// Lowest memory clock sampled, in MHz.
    pub mem_clock_min_mhz: Option<u32>,
    /// Highest memory clock sampled, in MHz.
    pub mem_clock_max_mhz: Option<u32>,
    /// Lowest GPU temperature sampled, in degrees Celsius.
    pub temperature_min_c: Option<u32>,
    /// Highest GPU temperature sampled, in degrees Celsius.
    pub temperature_max_c: Option<u32>,
    /// Fraction of the samples (of those whose reasons could be read) with a
    /// [`LIMITING`](ThrottleReasons::LIMITING) throttle reason. Above 0, the run is not a
    /// valid comparison.
    pub throttled_fraction: Option<f64>,
    /// Every throttle reason seen, limiting or not (idle, applications clocks), by name.
    pub throttle_reasons: Vec<ReasonCount>,
    /// Highest device-wide used memory, in bytes: NVML's "used" covers the CUDA context and every
    /// other process on the device, so it is not this process's allocator peak.
    pub device_memory_used_max_bytes: Option<u64>,
    /// Idle power measured before the run, in watts, when attached with
    /// [`with_idle_power`](Self::with_idle_power).
    pub idle_power_w: Option<f64>,
    /// `energy_j - idle_power_w * duration`: the energy above idle. It can be negative when the
    /// idle measurement was noisy or the device was busier before the run.
    pub dynamic_energy_j: Option<f64>,
    /// Values that could not be read or used, and why, each pair once.
    pub missing: Vec<Missing>,
}

impl TelemetryWindow {
    /// Summarises a recording; a pure function of it (no clock, no device).
    ///
    /// Energy rule: the counter difference is used when the window is long enough and the counter
    /// is usable (supported at both ends, not reset, and advancing if power was drawn); otherwise
    /// the integral of the sampled power; with no power samples, a short window's counter
    /// difference is still given, with `window_long_enough: false`.
    pub fn from_recording(recording: &Recording) -> Self {
        let mut log = MissingLog::default();
        for missing in &recording.missing {
            log.push(missing.clone());
        }
        let samples = &recording.samples;

        let power: Vec<(Duration, f64)> = samples
            .iter()
            .filter_map(|s| s.power_mw.map(|mw| (s.t, f64::from(mw) / 1000.0)))
            .collect();
        let integrated_energy_j = energy::trapezoid_j(&power);
        let avg_power_w = match (integrated_energy_j, power.first(), power.last()) {
            (Some(energy), Some(first), Some(last)) => {
                Some(energy / (last.0 - first.0).as_secs_f64())
            }
            _ if !power.is_empty() => {
                Some(power.iter().map(|p| p.1).sum::<f64>() / power.len() as f64)
            }
            _ => None,
        };
        let max_power_w = power.iter().map(|p| p.1).reduce(f64::max);

        let counter = match (recording.energy_start, recording.energy_end) {
            (Some(start), Some(end)) => {
                let elapsed = end.t.saturating_sub(start.t);
                Some((
                    elapsed,
                    start.energy_mj,
                    end.energy_mj,
                    energy::counter_delta(start.energy_mj, end.energy_mj, elapsed),
                ))
            }
            _ => None,
        };
        let counter_window = counter.map_or(recording.duration, |c| c.0);
        let window_long_enough = counter_window >= recording.config.min_energy_window;
        let counter_wrapped = matches!(counter, Some((_, _, _, CounterDelta::Wrapped { .. })));
        if let Some((_, start, end, CounterDelta::Reset)) = counter {
            log.push(Missing::new(
                "energy counter",
                format!("counter went back from {start} to {end} mJ (driver reload?): its difference is not used"),
            ));
        }
        let counter_energy_j = counter
            .and_then(|c| c.3.delta_mj())
            .map(|mj| mj as f64 / 1000.0);
        let stuck = window_long_enough
            && counter_energy_j == Some(0.0)
            && integrated_energy_j.is_some_and(|e| e > 0.0);
        if stuck {
            log.push(Missing::new(
                "energy counter",
                format!(
                    "counter did not advance in {:.2} s while power was drawn: not used",
                    counter_window.as_secs_f64()
                ),
            ));
        }
        let usable_counter = counter_energy_j.filter(|_| !stuck);
        let (energy_j, energy_source) = match (usable_counter, integrated_energy_j) {
            (Some(c), _) if window_long_enough => (Some(c), Some(EnergySource::Counter)),
            (_, Some(i)) => (Some(i), Some(EnergySource::Integrated)),
            (Some(c), None) => (Some(c), Some(EnergySource::Counter)),
            (None, None) => (None, None),
        };

        let throttles: Vec<_> = samples.iter().filter_map(|s| s.throttle).collect();
        let throttled_fraction = (!throttles.is_empty()).then(|| {
            throttles.iter().filter(|r| r.is_limiting()).count() as f64 / throttles.len() as f64
        });
        let mut counts = BTreeMap::<u64, usize>::new();
        for reason in throttles.iter().flat_map(|r| r.each()) {
            *counts.entry(reason.0).or_default() += 1;
        }
        let throttle_reasons = counts
            .into_iter()
            .map(|(bit, n)| ReasonCount {
                reason: ThrottleReasons(bit).name(),
                limiting: ThrottleReasons(bit).is_limiting(),
                samples: n,
                fraction: n as f64 / throttles.len() as f64,
            })
            .collect();

        let min_max = |field: fn(&TelemetrySample) -> Option<u32>| {
            let values = samples.iter().filter_map(field);
            (values.clone().min(), values.max())
        };
        let (sm_clock_min_mhz, sm_clock_max_mhz) = min_max(|s| s.sm_clock_mhz);
        let (mem_clock_min_mhz, mem_clock_max_mhz) = min_max(|s| s.mem_clock_mhz);
        let (temperature_min_c, temperature_max_c) = min_max(|s| s.temperature_c);

        Self {
            duration: recording.duration,
            interval: recording.config.interval,
            samples: samples.len(),
            avg_power_w,
            max_power_w,
            energy_j,
            energy_source,
            counter_energy_j,
            integrated_energy_j,
            counter_wrapped,
            window_long_enough,
            min_energy_window: recording.config.min_energy_window,
            sm_clock_min_mhz,
            sm_clock_max_mhz,
            mem_clock_min_mhz,
            mem_clock_max_mhz,
            temperature_min_c,
            temperature_max_c,
            throttled_fraction,
            throttle_reasons,
            device_memory_used_max_bytes: samples
                .iter()
                .filter_map(|s| s.device_memory_used_bytes)
                .max(),
            idle_power_w: None,
            dynamic_energy_j: None,
            missing: log.into_vec(),
        }
    }

    /// This window with the idle power (watts, measured before the run) attached, and the dynamic
    /// energy `energy_j - idle_power_w * duration` computed from it.
    pub fn with_idle_power(mut self, idle_power_w: f64) -> Self {
        self.idle_power_w = Some(idle_power_w);
        self.dynamic_energy_j = self
            .energy_j
            .map(|e| e - idle_power_w * self.duration.as_secs_f64());
        self
    }

    /// Whether a limiting throttle reason was seen (`None` when throttle reasons were unreadable).
    pub fn throttled(&self) -> Option<bool> {
        self.throttled_fraction.map(|f| f > 0.0)
    }

    /// Energy per sample in joules, for a window that measured `samples` samples.
    pub fn energy_per_sample_j(&self, samples: u64) -> Option<f64> {
        per(self.energy_j, samples, 1.0)
    }

    /// Energy per 1,000 tokens in joules, for a window that processed `tokens` tokens.
    pub fn energy_per_1k_tokens_j(&self, tokens: u64) -> Option<f64> {
        per(self.energy_j, tokens, 1000.0)
    }

    /// Dynamic (above-idle) energy per sample in joules.
    pub fn dynamic_energy_per_sample_j(&self, samples: u64) -> Option<f64> {
        per(self.dynamic_energy_j, samples, 1.0)
    }

    /// Dynamic (above-idle) energy per 1,000 tokens in joules.
    pub fn dynamic_energy_per_1k_tokens_j(&self, tokens: u64) -> Option<f64> {
        per(self.dynamic_energy_j, tokens, 1000.0)
    }

    /// The sentence to show when a limiting throttle reason was seen (the window's numbers are
    /// then not a valid comparison); `None` otherwise.
    pub fn throttle_warning(&self) -> Option<String> {
        let fraction = self.throttled_fraction.filter(|f| *f > 0.0)?;
        let limiting: Vec<&str> = self
            .throttle_reasons
            .iter()
            .filter(|r| r.limiting)
            .map(|r| r.reason.as_str())
            .collect();
        Some(format!(
            "gpu clocks were limited ({}) in {:.1}% of samples: this run is not a valid comparison",
            limiting.join(", "),
            fraction * 100.0
        ))
    }

    /// Sentences a report should show next to this window's numbers: throttling (the run is not a
    /// valid comparison) and a window too short for the energy counter. Missing values are in
    /// `missing`, not here.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = self.throttle_warning().into_iter().collect();
        if !self.window_long_enough {
            let source = match self.energy_source {
                Some(EnergySource::Integrated) => "energy is integrated from sampled power",
                Some(EnergySource::Counter) => {
                    "energy is the counter difference all the same (no power samples)"
                }
                None => "no energy is available",
            };
            warnings.push(format!(
                "window of {:.2} s is shorter than {:.2} s, too short for the energy counter: {source}",
                self.duration.as_secs_f64(),
                self.min_energy_window.as_secs_f64()
            ));
        }
        warnings
    }
}

fn per(energy_j: Option<f64>, count: u64, scale: f64) -> Option<f64> {
    (count > 0).then_some(())?;
    energy_j.map(|e| e * scale / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{CounterReading, SamplerConfig};

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn power_samples(step: Duration, watts: &[u32]) -> Vec<TelemetrySample> {
        watts
            .iter()
            .enumerate()
            .map(|(i, w)| TelemetrySample {
                power_mw: Some(w * 1000),
                ..TelemetrySample::empty(step * i as u32)
            })
            .collect()
    }

    fn recording(samples: Vec<TelemetrySample>, energy: Option<(u64, u64)>) -> Recording {
        let duration = samples.last().map_or(Duration::ZERO, |s| s.t);
        Recording {
            config: SamplerConfig::default(),
            duration,
            samples,
            energy_start: energy.map(|(start, _)| CounterReading {
                t: Duration::ZERO,
                energy_mj: start,
            }),
            energy_end: energy.map(|(_, end)| CounterReading {
                t: duration,
                energy_mj: end,
            }),
            missing: Vec::new(),
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn average_is_time_weighted_and_maximum_is_the_peak() {
        // 100 W held for 1 s, then a step to 300 W held for 2 s: 700 J over 3 s. The plain mean
        // of the four readings (200 W) would be wrong.
        let samples: Vec<_> = [(0, 100), (1000, 100), (1000, 300), (3000, 300)]
            .iter()
            .map(|&(t, w)| TelemetrySample {
                power_mw: Some(w * 1000),
                ..TelemetrySample::empty(ms(t))
            })
            .collect();
        let window = recording(samples, None).summarize();
        assert!(close(window.integrated_energy_j, 700.0), "{window:?}");
        assert!(close(window.avg_power_w, 700.0 / 3.0));
        assert_eq!(window.max_power_w, Some(300.0));
    }

    #[test]
    fn long_window_uses_the_counter() {
        // 2 s at ~250 W sampled; the counter says 500 J.
        let samples = power_samples(ms(500), &[250, 250, 250, 250, 250]);
        let window = recording(samples, Some((1_000_000, 1_500_000))).summarize();
        assert!(window.window_long_enough);
        assert_eq!(window.energy_source, Some(EnergySource::Counter));
        assert!(close(window.energy_j, 500.0));
        assert!(close(window.counter_energy_j, 500.0));
        assert!(close(window.integrated_energy_j, 500.0));
        assert!(!window.counter_wrapped);
        assert!(window.warnings().is_empty(), "{:?}", window.warnings());
    }

    #[test]
    fn wrapped_counter_gives_the_energy_across_the_wrap() {
        let samples = power_samples(ms(500), &[1, 1, 1]);
        let window = recording(samples, Some((u64::MAX - 999, 1000))).summarize();
        assert!(window.counter_wrapped);
        assert_eq!(window.energy_source, Some(EnergySource::Counter));
        assert!(close(window.energy_j, 2.0));
    }

    #[test]
    fn reset_counter_falls_back_to_integration_with_a_reason() {
        let samples = power_samples(ms(500), &[200, 200, 200]);
        let window = recording(samples, Some((5_000_000, 100))).summarize();
        assert_eq!(window.counter_energy_j, None);
        assert_eq!(window.energy_source, Some(EnergySource::Integrated));
        assert!(close(window.energy_j, 200.0));
        assert_eq!(window.missing.len(), 1);
        assert!(
            window.missing[0]
                .reason
                .contains("went back from 5000000 to 100 mJ"),
            "{:?}",
            window.missing
        );
    }

    #[test]
    fn short_window_integrates_and_still_reports_the_counter() {
        // 0.4 s: the counter moved 30 J in coarse steps; integration gives 0.4 s x 100 W = 40 J.
        let samples = power_samples(ms(100), &[100, 100, 100, 100, 100]);
        let window = recording(samples, Some((0, 30_000))).summarize();
        assert!(!window.window_long_enough);
        assert_eq!(window.energy_source, Some(EnergySource::Integrated));
        assert!(close(window.energy_j, 40.0));
        assert!(close(window.counter_energy_j, 30.0));
        let warnings = window.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("shorter than 1.00 s"), "{warnings:?}");
    }

    #[test]
    fn short_window_without_power_uses_the_counter_flagged() {
        let mut rec = recording(
            vec![
                TelemetrySample::empty(ms(0)),
                TelemetrySample::empty(ms(300)),
            ],
            Some((0, 30_000)),
        );
        rec.missing.push(Missing::new("power", "not supported"));
        let window = rec.summarize();
        assert!(!window.window_long_enough);
        assert_eq!(window.energy_source, Some(EnergySource::Counter));
        assert!(close(window.energy_j, 30.0));
        assert_eq!(window.avg_power_w, None);
        assert_eq!(window.missing, [Missing::new("power", "not supported")]);
    }

    #[test]
    fn unsupported_counter_falls_back_to_integration() {
        let mut rec = recording(power_samples(ms(1000), &[100, 300]), None);
        rec.missing
            .push(Missing::new("energy counter", "not supported"));
        let window = rec.summarize();
        assert_eq!(window.energy_source, Some(EnergySource::Integrated));
        assert!(close(window.energy_j, 200.0));
        assert_eq!(window.counter_energy_j, None);
        assert!(window.window_long_enough);
    }

    #[test]
    fn counter_that_does_not_advance_is_not_used() {
        let window =
            recording(power_samples(ms(1000), &[100, 100, 100]), Some((42, 42))).summarize();
        assert_eq!(window.energy_source, Some(EnergySource::Integrated));
        assert!(close(window.energy_j, 200.0));
        assert!(
            window
                .missing
                .iter()
                .any(|m| m.what == "energy counter" && m.reason.contains("did not advance"))
        );
    }

    #[test]
    fn idle_device_with_a_still_counter_is_zero_energy() {
        let window = recording(power_samples(ms(1000), &[0, 0, 0]), Some((42, 42))).summarize();
        assert_eq!(window.energy_source, Some(EnergySource::Counter));
        assert_eq!(window.energy_j, Some(0.0));
        assert!(window.missing.is_empty());
    }

    #[test]
    fn throttle_fraction_counts_only_limiting_reasons() {
        let reasons = [
            ThrottleReasons::SW_POWER_CAP,
            ThrottleReasons::GPU_IDLE,
            ThrottleReasons::NONE,
            ThrottleReasons::APPLICATIONS_CLOCKS_SETTING | ThrottleReasons::HW_THERMAL_SLOWDOWN,
        ];
        let mut samples: Vec<_> = reasons
            .iter()
            .enumerate()
            .map(|(i, r)| TelemetrySample {
                throttle: Some(*r),
                ..TelemetrySample::empty(ms(100 * i as u64))
            })
            .collect();
        // A sample whose reasons could not be read does not count either way.
        samples.push(TelemetrySample::empty(ms(400)));
        let window = recording(samples, None).summarize();
        assert_eq!(window.throttled_fraction, Some(0.5));
        assert_eq!(window.throttled(), Some(true));
        let seen: Vec<(&str, bool, usize)> = window
            .throttle_reasons
            .iter()
            .map(|r| (r.reason.as_str(), r.limiting, r.samples))
            .collect();
        assert_eq!(
            seen,
            [
                ("gpu_idle", false, 1),
                ("applications_clocks_setting", false, 1),
                ("sw_power_cap", true, 1),
                ("hw_thermal_slowdown", true, 1)
            ]
        );
        let warning = &window.warnings()[0];
        assert!(
            warning.contains("(sw_power_cap, hw_thermal_slowdown) in 50.0% of samples"),
            "{warning}"
        );
        assert!(warning.contains("not a valid comparison"));
    }

    #[test]
    fn unthrottled_and_unreadable_throttle_differ() {
        let none = recording(
            vec![TelemetrySample {
                throttle: Some(ThrottleReasons::GPU_IDLE),
                ..TelemetrySample::empty(ms(0))
            }],
            None,
        );
        assert_eq!(none.summarize().throttled(), Some(false));
        let unknown = recording(vec![TelemetrySample::empty(ms(0))], None);
        assert_eq!(unknown.summarize().throttled(), None);
    }

    #[test]
    fn clock_temperature_and_memory_ranges_skip_missing_values() {
        let values = [
            (Some(1410), Some(61), Some(3u64 << 30)),
            (None, None, None),
            (Some(1095), Some(74), Some(5 << 30)),
            (Some(1980), Some(66), Some(4 << 30)),
        ];
        let samples = values
            .iter()
            .enumerate()
            .map(|(i, (sm, temp, mem))| TelemetrySample {
                sm_clock_mhz: *sm,
                mem_clock_mhz: sm.map(|_| 2619),
                temperature_c: *temp,
                device_memory_used_bytes: *mem,
                ..TelemetrySample::empty(ms(50 * i as u64))
            })
            .collect();
        let window = recording(samples, None).summarize();
        assert_eq!(
            (window.sm_clock_min_mhz, window.sm_clock_max_mhz),
            (Some(1095), Some(1980))
        );
        assert_eq!(
            (window.mem_clock_min_mhz, window.mem_clock_max_mhz),
            (Some(2619), Some(2619))
        );
        assert_eq!(
            (window.temperature_min_c, window.temperature_max_c),
            (Some(61), Some(74))
        );
        assert_eq!(window.device_memory_used_max_bytes, Some(5 << 30));
        assert_eq!(window.samples, 4);
    }

    #[test]
    fn missing_power_samples_are_skipped_and_none_at_all_gives_none() {
        let mut samples = power_samples(ms(500), &[100, 0, 100]);
        samples[1].power_mw = None;
        let window = recording(samples, None).summarize();
        assert!(close(window.avg_power_w, 100.0));
        assert!(close(window.energy_j, 100.0));

        let single = recording(power_samples(ms(500), &[120]), None).summarize();
        assert_eq!(single.avg_power_w, Some(120.0));
        assert_eq!(single.energy_j, None);

        let empty = recording(Vec::new(), None).summarize();
        assert_eq!(
            (
                empty.avg_power_w,
                empty.max_power_w,
                empty.energy_j,
                empty.energy_source
            ),
            (None, None, None, None)
        );
        assert_eq!(empty.samples, 0);
        assert!(!empty.window_long_enough);
    }

    #[test]
    fn per_sample_per_token_and_dynamic_energy() {
        // 2 s, counter 600 J; idle 100 W makes 400 J dynamic.
        let window = recording(
            power_samples(ms(1000), &[300, 300, 300]),
            Some((0, 600_000)),
        )
        .summarize()
        .with_idle_power(100.0);
        assert!(close(window.energy_per_sample_j(200), 3.0));
        assert!(close(
            window.energy_per_1k_tokens_j(200 * 128),
            600.0 * 1000.0 / 25_600.0
        ));
        assert!(close(window.dynamic_energy_j, 400.0));
        assert!(close(window.dynamic_energy_per_sample_j(200), 2.0));
        assert!(close(window.dynamic_energy_per_1k_tokens_j(4000), 100.0));
        assert_eq!(window.energy_per_sample_j(0), None);
        assert_eq!(window.energy_per_1k_tokens_j(0), None);
    }

    #[test]
    fn window_round_trips_through_json() {
        let mut rec = recording(
            power_samples(ms(500), &[250, 260, 270]),
            Some((10, 260_010)),
        );
        rec.samples[1].throttle = Some(ThrottleReasons::SW_POWER_CAP);
        rec.missing
            .push(Missing::new("temperature", "no permission"));
        let window = rec.summarize().with_idle_power(60.0);
        let json = serde_json::to_string(&window).unwrap();
        assert!(json.contains("\"energy_source\":\"counter\""), "{json}");
        let back: TelemetryWindow = serde_json::from_str(&json).unwrap();
        assert_eq!(back, window);
        let rec_back: Recording =
            serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
        assert_eq!(rec_back, rec);
    }
}
