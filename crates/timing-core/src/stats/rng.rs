//! The seeded generator for resampling: xoshiro256** seeded through splitmix64 (Blackman & Vigna,
//! "Scrambled linear pseudorandom number generators", 2018), from `rand_xoshiro`, whose streams
//! are the same on every platform and release.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256StarStar;

/// A deterministic pseudo-random generator; the same seed gives the same stream.
#[derive(Debug, Clone)]
pub struct Rng {
    inner: Xoshiro256StarStar,
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed` (splitmix64 expands it into the state).
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Xoshiro256StarStar::seed_from_u64(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform index in `0..n` (Lemire's multiply-shift; the bias is below 2⁻⁶⁴·n).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_the_reference_xoshiro256starstar_seeded_by_splitmix64() {
        // State from splitmix64(7), then xoshiro256** steps, as the reference C code does (the
        // values this crate's own implementation produced before it moved to rand_xoshiro).
        let mut sm = 7u64;
        let mut split = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut s = [split(), split(), split(), split()];
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let expected = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
            let t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = s[3].rotate_left(45);
            assert_eq!(rng.next_u64(), expected);
        }
    }

    #[test]
    fn same_seed_same_stream_and_indices_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            counts[a.below(10)] += 1;
        }
        // Each bucket expects 10,000; 5 sigma is about 475.
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
