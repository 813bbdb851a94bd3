//! The few special functions the tests of significance need: erfc, the normal distribution, and
//! the binomial distribution function.

/// The complementary error function, accurate to about 1e-15 relative.
///
/// Method: the Maclaurin series of erf for |x| < 2.5, where it converges quickly, and the continued
/// fraction of erfc (evaluated with the modified Lentz algorithm) beyond, where the series would
/// cancel. Reference: Abramowitz & Stegun 7.1.5 and 7.1.14.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        return 1.0 - erf_series(x);
    }
    erfc_continued_fraction(x)
}

/// erf(x) = 2/√π · Σ (−1)^k x^(2k+1) / (k! (2k+1)).
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x; // (−1)^k x^(2k+1) / k!
    let mut sum = x;
    for k in 1..200 {
        term *= -x2 / k as f64;
        let add = term / (2 * k + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

/// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), for x > 0.
fn erfc_continued_fraction(x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = x + a / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

/// The standard normal survival function, P(Z > z).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The distribution function of Binomial(n, p) at every k: `cdf[k] = P(B ≤ k)` for k in 0..=n.
///
/// The probabilities come from the log-space recurrence
/// `ln P(k+1) = ln P(k) + ln((n−k)/(k+1)) + ln(p/(1−p))`, so large n cannot underflow the start.
/// Cost: O(n) time and memory.
///
/// # Panics
/// If `p` is outside (0, 1).
pub fn binomial_cdf(n: usize, p: f64) -> Vec<f64> {
    assert!(
        p > 0.0 && p < 1.0,
        "binomial probability {p} is outside (0, 1)"
    );
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut ln_pmf = n as f64 * ln_q;
    let mut total = 0.0;
    let mut cdf = Vec::with_capacity(n + 1);
    for k in 0..=n {
        total += ln_pmf.exp();
        cdf.push(total.min(1.0));
        ln_pmf += ((n - k) as f64 / (k + 1) as f64).ln() + ln_p - ln_q;
    }
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_scipy() {
        // python -c "from scipy.special import erfc; print([repr(erfc(x)) for x in
        //   (-1.5, 0.0, 0.3, 1.0, 2.4, 2.6, 4.0, 7.5)])"
        let cases = [
            (-1.5, 1.9661051464753108),
            (0.0, 1.0),
            (0.3, 0.6713732405408726),
            (1.0, 0.15729920705028516),
            (2.4, 0.0006885138966450789),
            (2.6, 0.000236034416529349),
            (4.0, 1.541725790028002e-08),
            (7.5, 2.7766493860305694e-26),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "erfc({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn binomial_cdf_matches_scipy() {
        // python -c "from scipy.stats import binom; print([repr(binom.cdf(k, 100, 0.5))
        //   for k in (39, 40, 59, 60)])"
        let cdf = binomial_cdf(100, 0.5);
        let cases = [
            (39, 0.017600100108852428),
            (40, 0.028443966820490444),
            (59, 0.9715560331795096),
            (60, 0.9823998998911476),
        ];
        for (k, want) in cases {
            assert!(
                (cdf[k] - want).abs() < 1e-13,
                "cdf[{k}] = {}, want {want}",
                cdf[k]
            );
        }
        assert!((cdf[100] - 1.0).abs() < 1e-12);
    }
}
