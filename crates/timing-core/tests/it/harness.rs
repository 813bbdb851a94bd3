use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::time::Duration;

use timing_core::{
    Adaptive, Clock, Harness, HarnessConfig, Phase, Progress, Statistic, SteadyState, StopReason,
    StopRule, Warmup,
};

/// A clock that only moves when a test moves it.
#[derive(Default)]
struct FakeClock {
    now: Cell<Duration>,
}

impl FakeClock {
    fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
}

fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

fn warmup(min_iters: usize, min_time: Duration, max_time: Duration) -> Warmup {
    Warmup {
        min_iters,
        min_time,
        max_time,
        steady_state: None,
    }
}

#[test]
fn fixed_count_records_exactly_what_the_routine_took() {
    let clock = FakeClock::default();
    // Cold call 50 ms, then 10, 11, 12, ... ms.
    let script: Vec<u64> = std::iter::once(50).chain(10..100).collect();
    let next = Cell::new(0);
    let config = HarnessConfig {
        warmup: warmup(3, ms(0), ms(10_000)),
        stop: StopRule::Count(5),
        ..HarnessConfig::default()
    };
    let fences = Cell::new(0);
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .with_fence(|| fences.set(fences.get() + 1))
        .run(|| {
            clock.advance(ms(script[next.get()]));
            next.set(next.get() + 1);
        });
    assert_eq!(m.warmup, vec![ms(50), ms(10), ms(11)]);
    assert_eq!(m.samples, vec![ms(12), ms(13), ms(14), ms(15), ms(16)]);
    assert_eq!(m.samples_ms(), vec![12.0, 13.0, 14.0, 15.0, 16.0]);
    assert_eq!(m.stop_reason, StopReason::Count);
    assert_eq!(m.target_met(), None);
    assert_eq!(m.warmup_elapsed, ms(71));
    // Two fences per sample, warm-up included.
    assert_eq!(fences.get(), 2 * 8);
}

#[test]
fn fence_runs_inside_the_timed_region() {
    // A fence that "waits for the device" for 3 ms must be counted at the end of a sample but not
    // before its start.
    let clock = FakeClock::default();
    let calls = Cell::new(0);
    let config = HarnessConfig {
        warmup: warmup(0, ms(0), ms(0)),
        stop: StopRule::Count(2),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .with_fence(|| {
            calls.set(calls.get() + 1);
            clock.advance(ms(3));
        })
        .run(|| clock.advance(ms(1)));
    assert!(m.warmup.is_empty());
    assert_eq!(m.samples, vec![ms(4), ms(4)]);
}

#[test]
fn warmup_needs_both_count_and_time_and_stops_at_max_time() {
    let clock = FakeClock::default();
    let config = HarnessConfig {
        warmup: warmup(2, ms(30), ms(1_000)),
        stop: StopRule::Count(1),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .run(|| clock.advance(ms(7)));
    assert_eq!(
        m.warmup.len(),
        5,
        "2 iterations are not 30 ms; 5 x 7 ms are"
    );

    let config = HarnessConfig {
        warmup: warmup(1_000, ms(0), ms(20)),
        stop: StopRule::Count(1),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .run(|| clock.advance(ms(7)));
    assert_eq!(m.warmup.len(), 3, "max time (20 ms) wins over the count");
}

#[test]
fn steady_state_waits_for_the_timings_to_settle() {
    let clock = FakeClock::default();
    // 30, 28, 26, ... ms down to a floor of 10 ms.
    let i = Cell::new(0u64);
    let config = HarnessConfig {
        warmup: Warmup {
            min_iters: 1,
            min_time: ms(0),
            max_time: ms(100_000),
            steady_state: Some(SteadyState {
                window: 3,
                tolerance: 0.01,
            }),
        },
        stop: StopRule::Count(1),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config).unwrap().with_clock(&clock).run(|| {
        clock.advance(ms(30u64.saturating_sub(2 * i.get()).max(10)));
        i.set(i.get() + 1);
    });
    assert_eq!(m.warmup_steady, Some(true));
    // Timings reach the 10 ms floor at iteration 10 (0-based). With windows of 3, the medians of
    // [12, 10, 10] and [10, 10, 10] first agree after 15 iterations.
    assert_eq!(m.warmup.len(), 15, "{:?}", m.warmup);
    assert!(m.warmup[10..].iter().all(|&d| d == ms(10)));
}

#[test]
fn time_budget_stops_after_the_budget() {
    let clock = FakeClock::default();
    let config = HarnessConfig {
        warmup: warmup(0, ms(0), ms(0)),
        stop: StopRule::Time {
            budget: ms(100),
            min_samples: 1,
        },
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .run(|| clock.advance(ms(9)));
    assert_eq!(m.samples.len(), 12, "11 x 9 ms = 99 ms < 100 ms");
    assert_eq!(m.stop_reason, StopReason::TimeBudget);
}

#[test]
fn adaptive_stops_when_the_median_is_pinned_down() {
    let clock = FakeClock::default();
    let config = HarnessConfig {
        warmup: warmup(0, ms(0), ms(0)),
        stop: StopRule::Adaptive(Adaptive {
            min_samples: 20,
            ..Adaptive::default()
        }),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .run(|| clock.advance(ms(5)));
    // Constant timings: the interval has width 0 as soon as it exists, so min_samples decides.
    assert_eq!(m.samples.len(), 20);
    assert_eq!(
        (m.stop_reason, m.target_met(), m.final_width),
        (StopReason::TargetMet, Some(true), Some(0.0))
    );
}

#[test]
fn adaptive_reports_a_missed_target_at_max_time() {
    let clock = FakeClock::default();
    let i = Cell::new(0u64);
    let config = HarnessConfig {
        warmup: warmup(0, ms(0), ms(0)),
        stop: StopRule::Adaptive(Adaptive {
            statistic: Statistic::Quantile(0.99),
            target_width: 0.01,
            max_time: ms(2_000),
            ..Adaptive::default()
        }),
        ..HarnessConfig::default()
    };
    // Timings cycle 5..=24 ms: p99's interval never gets within 1%.
    let m = Harness::new(config).unwrap().with_clock(&clock).run(|| {
        clock.advance(ms(5 + i.get() % 20));
        i.set(i.get() + 1);
    });
    assert_eq!(m.stop_reason, StopReason::MaxTime);
    assert_eq!(m.target_met(), Some(false));
    assert!(m.measure_elapsed >= ms(2_000));
}

#[test]
fn batched_mode_reports_the_mean_per_call() {
    let clock = FakeClock::default();
    let calls = Cell::new(0);
    let config = HarnessConfig {
        warmup: warmup(1, ms(0), ms(1_000)),
        stop: StopRule::Count(3),
        calls_per_sample: 4,
        ..HarnessConfig::default()
    };
    let m = Harness::new(config).unwrap().with_clock(&clock).run(|| {
        calls.set(calls.get() + 1);
        clock.advance(ms(if calls.get() % 2 == 0 { 3 } else { 1 }));
    });
    assert_eq!(calls.get(), 4 * 4);
    assert_eq!(m.samples, vec![ms(2); 3]);
    assert_eq!(m.calls_per_sample, 4);
}

#[test]
fn progress_reports_every_sample_and_phase_start() {
    let clock = FakeClock::default();
    let seen = RefCell::new(Vec::new());
    let config = HarnessConfig {
        warmup: warmup(2, ms(0), ms(1_000)),
        stop: StopRule::Count(3),
        ..HarnessConfig::default()
    };
    Harness::new(config)
        .unwrap()
        .with_clock(&clock)
        .with_progress(|p: Progress| seen.borrow_mut().push((p.phase, p.iterations, p.elapsed)))
        .with_phase_start(|phase| seen.borrow_mut().push((phase, 0, clock.now())))
        .with_phase_end(|phase| seen.borrow_mut().push((phase, usize::MAX, clock.now())))
        .run(|| clock.advance(ms(2)));
    let seen = seen.into_inner();
    // Phase starts come as (phase, 0, clock time), before the phase's first sample; phase ends as
    // (phase, MAX, clock time), right after its last sample.
    let expected = vec![
        (Phase::Warmup, 0, ms(0)),
        (Phase::Warmup, 1, ms(2)),
        (Phase::Warmup, 2, ms(4)),
        (Phase::Warmup, usize::MAX, ms(4)),
        (Phase::Measure, 0, ms(4)),
        (Phase::Measure, 1, ms(2)),
        (Phase::Measure, 2, ms(4)),
        (Phase::Measure, 3, ms(6)),
        (Phase::Measure, usize::MAX, ms(10)),
    ];
    assert_eq!(seen, expected);
}

#[test]
fn a_failing_routine_stops_the_run_with_its_error() {
    let count = Cell::new(0);
    let config = HarnessConfig {
        stop: StopRule::Count(100),
        ..HarnessConfig::default()
    };
    let err = Harness::new(config)
        .unwrap()
        .try_run(|| {
            count.set(count.get() + 1);
            if count.get() == 15 {
                Err("out of memory")
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(err, "out of memory");
    assert_eq!(count.get(), 15);
}

#[test]
fn invalid_settings_are_errors() {
    let cases = [
        HarnessConfig {
            stop: StopRule::Count(0),
            ..HarnessConfig::default()
        },
        HarnessConfig {
            calls_per_sample: 0,
            ..HarnessConfig::default()
        },
        HarnessConfig {
            stop: StopRule::Adaptive(Adaptive {
                target_width: 0.0,
                ..Adaptive::default()
            }),
            ..HarnessConfig::default()
        },
        HarnessConfig {
            stop: StopRule::Adaptive(Adaptive {
                statistic: Statistic::Quantile(1.0),
                ..Adaptive::default()
            }),
            ..HarnessConfig::default()
        },
        HarnessConfig {
            warmup: warmup(1, ms(10), ms(5)),
            ..HarnessConfig::default()
        },
    ];
    for config in cases {
        let err = Harness::new(config.clone())
            .err()
            .unwrap_or_else(|| panic!("{config:?} was accepted"));
        assert!(err.to_string().starts_with("invalid setting: "), "{err}");
    }
}

#[test]
fn wall_clock_measures_a_sleeping_routine() {
    let config = HarnessConfig {
        warmup: warmup(1, ms(0), ms(1_000)),
        stop: StopRule::Count(5),
        ..HarnessConfig::default()
    };
    let m = Harness::new(config)
        .unwrap()
        .try_run(|| {
            std::thread::sleep(ms(3));
            Ok::<(), Infallible>(())
        })
        .unwrap();
    assert_eq!(m.samples.len(), 5);
    // sleep() guarantees at least the requested time; allow generous scheduling slack above.
    assert!(
        m.samples.iter().all(|&d| d >= ms(3) && d < ms(500)),
        "{:?}",
        m.samples
    );
}

/// Advances the clock by its duration when dropped, like a large output whose free takes time.
struct CostlyToFree<'a> {
    clock: &'a FakeClock,
    cost: Duration,
}

impl Drop for CostlyToFree<'_> {
    fn drop(&mut self) {
        self.clock.advance(self.cost);
    }
}

#[test]
fn outputs_are_dropped_after_the_clock_stops() {
    let clock = FakeClock::default();
    for calls_per_sample in [1, 3] {
        let config = HarnessConfig {
            warmup: warmup(2, ms(0), ms(10_000)),
            stop: StopRule::Count(4),
            calls_per_sample,
            ..HarnessConfig::default()
        };
        let m = Harness::new(config)
            .unwrap()
            .with_clock(&clock)
            .try_run(|| {
                clock.advance(ms(5));
                // Freeing the output costs 100 ms; it must not show in any sample.
                Ok::<_, Infallible>(CostlyToFree {
                    clock: &clock,
                    cost: ms(100),
                })
            })
            .unwrap();
        assert!(
            m.warmup.iter().chain(&m.samples).all(|&d| d == ms(5)),
            "{m:?}"
        );
    }
}
