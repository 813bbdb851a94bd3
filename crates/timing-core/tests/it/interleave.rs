use std::cell::Cell;
use std::convert::Infallible;
use std::time::Duration;

use timing_core::stats::{CompareConfig, Samples, Verdict, compare, compare_paired};
use timing_core::{Clock, Harness, HarnessConfig, InterleaveConfig, Interleaver, StopRule, Warmup};

/// A clock that only moves when a routine moves it.
#[derive(Default)]
struct FakeClock {
    now: Cell<Duration>,
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
}

/// A routine whose batch takes `factor` × 10 ms, slowed down linearly by the machine: +30% per
/// 10 s of (fake) time, with a ±0.5% deterministic wobble.
fn drifting<'a>(
    clock: &'a FakeClock,
    factor: f64,
    calls: &'a Cell<usize>,
) -> impl FnMut() -> Result<(), Infallible> + 'a {
    move || {
        let t = clock.now.get().as_secs_f64();
        let n = calls.get();
        calls.set(n + 1);
        let wobble = 1.0 + 0.005 * (((n * 37) % 11) as f64 - 5.0) / 5.0;
        let ms = 10.0 * factor * (1.0 + 0.03 * t) * wobble;
        clock
            .now
            .set(clock.now.get() + Duration::from_secs_f64(ms / 1e3));
        Ok(())
    }
}

fn sequential(clock: &FakeClock, factors: [f64; 2], batches: usize) -> Verdict {
    let calls = Cell::new(0);
    let measure = |factor: f64| {
        let config = HarnessConfig {
            warmup: Warmup {
                min_iters: 5,
                min_time: Duration::ZERO,
                max_time: Duration::from_secs(3600),
                steady_state: None,
            },
            stop: StopRule::Count(batches),
            ..HarnessConfig::default()
        };
        let m = Harness::new(config)
            .unwrap()
            .with_clock(clock)
            .try_run(drifting(clock, factor, &calls))
            .unwrap();
        Samples::new(m.samples_ms()).unwrap()
    };
    let (a, b) = (measure(factors[0]), measure(factors[1]));
    compare(&a, &b, &CompareConfig::default()).unwrap().verdict
}

fn interleaved(clock: &FakeClock, factors: [f64; 2], rounds: usize) -> Verdict {
    let calls = Cell::new(0);
    let config = InterleaveConfig {
        warmup_batches: 5,
        rounds,
        block: 1,
        seed: 7,
    };
    let mut a = drifting(clock, factors[0], &calls);
    let mut b = drifting(clock, factors[1], &calls);
    let results = Interleaver::new(config)
        .unwrap()
        .with_clock(clock)
        .try_run(&mut [&mut a, &mut b])
        .unwrap();
    assert_eq!(results[0].samples.len(), rounds);
    let (ra, rb) = (results[0].round_means_ms(), results[1].round_means_ms());
    compare_paired(&ra, &rb, &CompareConfig::default())
        .unwrap()
        .verdict
}

#[test]
fn identical_routines_under_drift_are_faster_in_sequence_and_equivalent_interleaved() {
    // Sequentially, the second routine runs later on a slower machine: a false "faster".
    assert_eq!(
        sequential(&FakeClock::default(), [1.0, 1.0], 200),
        Verdict::Faster
    );
    assert_eq!(
        interleaved(&FakeClock::default(), [1.0, 1.0], 200),
        Verdict::Equivalent
    );
}

#[test]
fn a_real_5_percent_slowdown_is_found_interleaved_with_fewer_batches() {
    // The slower routine runs first: in sequence, drift hides it at any count tried.
    for batches in [100, 200, 400] {
        let verdict = sequential(&FakeClock::default(), [1.05, 1.0], batches);
        assert_ne!(verdict, Verdict::Slower, "{batches} batches each");
    }
    // Interleaved, 30 rounds (60 batches in all) find it.
    assert_eq!(
        interleaved(&FakeClock::default(), [1.05, 1.0], 30),
        Verdict::Slower
    );
}

#[test]
fn rounds_shuffle_the_order_reproducibly() {
    let order = |seed: u64| {
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let config = InterleaveConfig {
            warmup_batches: 0,
            rounds: 20,
            block: 2,
            seed,
        };
        let mut routines: Vec<Box<dyn FnMut() -> Result<(), Infallible>>> = (0..3)
            .map(|i| {
                let log = std::rc::Rc::clone(&log);
                Box::new(move || {
                    log.borrow_mut().push(i);
                    Ok(())
                }) as Box<dyn FnMut() -> Result<(), Infallible>>
            })
            .collect();
        let mut refs: Vec<&mut dyn FnMut() -> Result<(), Infallible>> =
            routines.iter_mut().map(|r| &mut **r as _).collect();
        let results = Interleaver::new(config)
            .unwrap()
            .try_run(&mut refs)
            .unwrap();
        assert!(
            results
                .iter()
                .all(|r| r.samples.len() == 40 && r.round_means.len() == 20)
        );
        log.borrow().clone()
    };
    let first = order(1);
    assert_eq!(first, order(1), "same seed, same order");
    // Blocks stay together: each routine runs twice in a row.
    assert!(first.chunks(2).all(|pair| pair[0] == pair[1]));
    // The order changes between rounds: not always the same.
    let rounds: Vec<Vec<usize>> = first.chunks(6).map(|r| vec![r[0], r[2], r[4]]).collect();
    assert!(rounds.iter().any(|r| r != &rounds[0]), "{rounds:?}");
    let none = InterleaveConfig {
        rounds: 0,
        ..InterleaveConfig::default()
    };
    assert!(Interleaver::new(none).is_err());
}
