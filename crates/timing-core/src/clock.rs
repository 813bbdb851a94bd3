//! Where the harness reads the time: the wall clock, or a clock a test scripts.

use std::time::{Duration, Instant};

/// A monotonic clock: the time since some fixed origin.
///
/// The harness reads it right after the fence before a sample and right after the fence that ends
/// it. Tests implement it to script time; other measurements (cycle counters, a GPU timer) could
/// too.
pub trait Clock {
    /// The time since this clock's origin. Must never decrease.
    fn now(&self) -> Duration;
}

/// The operating system's monotonic clock ([`Instant`]).
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    origin: Instant,
}

impl WallClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for WallClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
}
