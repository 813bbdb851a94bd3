//! The seeded generator of random weights and inputs: splitmix64 from `rand_xoshiro` (the
//! workspace's one generator family), owned by each model build so that other threads using
//! libtorch's global generator cannot change what a seed produces.

use rand_core::{RngCore, SeedableRng};

/// splitmix64: 64 random bits per step from a 64-bit state.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    inner: rand_xoshiro::SplitMix64,
}

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: rand_xoshiro::SplitMix64::seed_from_u64(seed),
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `low..high` (`low < high`), by widening multiplication (bias below
    /// 2^-32 for ranges under 2^32).
    pub(crate) fn below(&mut self, low: i64, high: i64) -> i64 {
        debug_assert!(low < high);
        let span = (high - low) as u64;
        low + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_stream() {
        // First outputs for seed 1234567 of the reference C implementation (Vigna's splitmix64.c).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_range_and_reaches_both_ends() {
        let mut rng = SplitMix64::new(7);
        let draws: Vec<i64> = (0..2000).map(|_| rng.below(3, 9)).collect();
        assert!(draws.iter().all(|d| (3..9).contains(d)));
        assert!(draws.contains(&3) && draws.contains(&8));
    }
}
