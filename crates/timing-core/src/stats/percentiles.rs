//! Quantiles with numpy's default ("linear", Hyndman-Fan type 7) interpolation, and how many
//! samples a quantile needs before it means anything.

/// The `q`-quantile of ascending `sorted` values, interpolating linearly between the two nearest
/// order statistics exactly as `numpy.percentile(x, 100 * q)` and pandas/polars do by default:
/// with `h = (n − 1)·q`, the result is `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
///
/// Cost: O(1).
///
/// # Panics
/// If `sorted` is empty or `q` is outside [0, 1]; both are caller bugs.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty slice");
    assert!((0.0..=1.0).contains(&q), "quantile {q} is outside [0, 1]");
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    match sorted.get(lo + 1) {
        Some(&next) if frac > 0.0 => sorted[lo] + frac * (next - sorted[lo]),
        _ => sorted[lo],
    }
}

/// The smallest sample count at which the `q`-quantile is bounded by the data at 99% confidence,
/// following MLPerf LoadGen's early-stopping rule: the least `n` with
/// `P(Binomial(n, 1 − q) ≤ 1) ≤ 0.01`, i.e. even if only one of `n` samples lies above the true
/// quantile, that is unlikely. It gives 64 for p90, 130 for p95, 662 for p99 and 6,636 for p99.9.
///
/// Cost: O(answer).
///
/// # Panics
/// If `q` is outside (0, 1).
pub fn min_samples_for_quantile(q: f64) -> usize {
    assert!(q > 0.0 && q < 1.0, "quantile {q} is outside (0, 1)");
    let above = 1.0 - q;
    let mut n = 2usize;
    loop {
        // P(B <= 1) = q^n + n (1-q) q^(n-1), evaluated in log space so large n cannot underflow.
        let p0 = (n as f64 * q.ln()).exp();
        let p1 = (n as f64).ln() + above.ln() + (n - 1) as f64 * q.ln();
        if p0 + p1.exp() <= 0.01 {
            return n;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_interpolation() {
        // python -c "import numpy as np; x=[1,2,3,4,5,6,7,8,9,10.5]; \
        //   print([float(np.percentile(x, p)) for p in (0, 25, 50, 90, 95, 99, 99.9, 100)])"
        // -> [1.0, 3.25, 5.5, 9.15, 9.825, 10.365, 10.4865, 10.5]
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.5];
        let expected = [1.0, 3.25, 5.5, 9.15, 9.825, 10.365, 10.4865, 10.5];
        for (q, want) in [0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]
            .into_iter()
            .zip(expected)
        {
            let got = quantile(&x, q);
            assert!((got - want).abs() < 1e-12, "q={q}: {got} != {want}");
        }
    }

    #[test]
    fn mlperf_minimum_counts() {
        assert_eq!(min_samples_for_quantile(0.90), 64);
        assert_eq!(min_samples_for_quantile(0.95), 130);
        assert_eq!(min_samples_for_quantile(0.99), 662);
        assert_eq!(min_samples_for_quantile(0.999), 6636);
    }
}
