//! Energy over a window: total-energy counter deltas (with wrap-around) and trapezoid integration.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a window's energy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// The difference of NVML's total-energy counter between the window's start and end.
    Counter,
    /// The trapezoid integral of the sampled power over the sample timestamps.
    Integrated,
}

/// The largest average power, in watts, a counter difference may imply before it is rejected as
/// impossible for one device (today's largest GPUs draw about 1 kW).
pub const MAX_PLAUSIBLE_POWER_W: f64 = 10_000.0;

/// How NVML's total-energy counter moved between two readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterDelta {
    /// `end >= start`: the counter advanced by `end - start` millijoules (possibly 0).
    Advanced {
        /// Energy in millijoules.
        delta_mj: u64,
    },
    /// `end < start`, and wrapping past `u64::MAX` gives a plausible energy:
    /// `delta = (u64::MAX - start) + end + 1`.
    Wrapped {
        /// Energy in millijoules.
        delta_mj: u64,
    },
    /// `end < start` and the wrapped difference would mean more than [`MAX_PLAUSIBLE_POWER_W`]:
    /// the counter was reset (driver reload) and the difference is meaningless.
    Reset,
}

impl CounterDelta {
    /// The energy in millijoules, unless the counter was reset.
    pub fn delta_mj(self) -> Option<u64> {
        match self {
            Self::Advanced { delta_mj } | Self::Wrapped { delta_mj } => Some(delta_mj),
            Self::Reset => None,
        }
    }
}

/// The counter difference from `start_mj` to `end_mj`, read `elapsed` apart.
///
/// The rule: a counter that did not decrease advanced by `end - start`. One that decreased either
/// wrapped at `u64::MAX` (about 585,000 years at 1 kW: in practice never) or was reset by a
/// driver reload; the wrapped difference is accepted only if it implies at most
/// [`MAX_PLAUSIBLE_POWER_W`] over `elapsed` (at least one second, the counter's update
/// granularity being 20-100 ms), otherwise the counter is taken as reset.
pub fn counter_delta(start_mj: u64, end_mj: u64, elapsed: Duration) -> CounterDelta {
    if end_mj >= start_mj {
        return CounterDelta::Advanced {
            delta_mj: end_mj - start_mj,
        };
    }
    let delta_mj = end_mj.wrapping_sub(start_mj);
    let limit_mj = MAX_PLAUSIBLE_POWER_W * elapsed.as_secs_f64().max(1.0) * 1000.0;
    if (delta_mj as f64) <= limit_mj {
        CounterDelta::Wrapped { delta_mj }
    } else {
        CounterDelta::Reset
    }
}

/// The trapezoid integral in joules of power readings `(t, watts)`, in time order, over their
/// timestamps; `None` with fewer than two points or when they span no time.
pub fn trapezoid_j(points: &[(Duration, f64)]) -> Option<f64> {
    let span = points.last()?.0.checked_sub(points.first()?.0)?;
    if points.len() < 2 || span.is_zero() {
        return None;
    }
    let energy_j = points
        .windows(2)
        .map(|pair| {
            let dt_s = pair[1].0.saturating_sub(pair[0].0).as_secs_f64();
            (pair[0].1 + pair[1].1) / 2.0 * dt_s
        })
        .sum();
    Some(energy_j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn counter_advances() {
        assert_eq!(
            counter_delta(1_000, 501_000, ms(2000)),
            CounterDelta::Advanced { delta_mj: 500_000 }
        );
        assert_eq!(
            counter_delta(7, 7, ms(2000)),
            CounterDelta::Advanced { delta_mj: 0 }
        );
    }

    #[test]
    fn counter_wraps_at_u64_max() {
        // 999 steps up to u64::MAX, one step to 0, 1000 steps to 1000.
        let delta = counter_delta(u64::MAX - 999, 1000, ms(2000));
        assert_eq!(delta, CounterDelta::Wrapped { delta_mj: 2000 });
        assert_eq!(delta.delta_mj(), Some(2000));
    }

    #[test]
    fn counter_that_goes_back_far_was_reset() {
        // From 5,000 J down to 0.1 J in 2 s: wrapping would mean ~1.8e16 J.
        assert_eq!(counter_delta(5_000_000, 100, ms(2000)), CounterDelta::Reset);
        assert_eq!(CounterDelta::Reset.delta_mj(), None);
    }

    #[test]
    fn trapezoid_of_a_ramp() {
        // 100 W rising linearly to 400 W over 0.15 s: mean 250 W, 37.5 J.
        let points = [
            (ms(0), 100.0),
            (ms(50), 200.0),
            (ms(100), 300.0),
            (ms(150), 400.0),
        ];
        let energy = trapezoid_j(&points).unwrap();
        assert!((energy - 37.5).abs() < 1e-9, "{energy}");
    }

    #[test]
    fn trapezoid_needs_two_points_and_a_span() {
        assert_eq!(trapezoid_j(&[]), None);
        assert_eq!(trapezoid_j(&[(ms(10), 100.0)]), None);
        assert_eq!(trapezoid_j(&[(ms(10), 100.0), (ms(10), 200.0)]), None);
    }

    proptest! {
        #[test]
        fn any_plausible_delta_is_recovered(start in any::<u64>(), delta in 0u64..=10_000_000) {
            // 10,000 J in 2 s is 5 kW: plausible, so the rule must give it back, wrapped or not.
            let end = start.wrapping_add(delta);
            let got = counter_delta(start, end, ms(2000));
            prop_assert_eq!(got.delta_mj(), Some(delta));
            prop_assert_eq!(matches!(got, CounterDelta::Wrapped { .. }), end < start);
        }

        #[test]
        fn trapezoid_of_constant_power_is_power_times_span(
            watts in 0.0f64..2000.0,
            mut steps in proptest::collection::vec(1u64..200_000, 1..50),
        ) {
            steps.insert(0, 0);
            let mut t = Duration::ZERO;
            let points: Vec<(Duration, f64)> = steps.iter().map(|&us| { t += Duration::from_micros(us); (t, watts) }).collect();
            let span_s = (points.last().unwrap().0 - points[0].0).as_secs_f64();
            let energy = trapezoid_j(&points).unwrap();
            prop_assert!((energy - watts * span_s).abs() <= 1e-9 * (1.0 + watts * span_s));
        }
    }
}
