//! The Mann-Whitney U test: is one sample set stochastically larger than the other?
//!
//! Two-sided, with the normal approximation, the tie correction of the variance and the continuity
//! correction; this is `scipy.stats.mannwhitneyu(a, b, method="asymptotic")`. Reference: Mann &
//! Whitney (1947); Conover, *Practical Nonparametric Statistics*, 5.1.

use super::samples::Samples;
use super::special::normal_sf;

/// The result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample set (scipy's `statistic`).
    pub u: f64,
    /// The two-sided p-value; 1 when every value of both sets is equal.
    pub p_value: f64,
}

/// Runs the two-sided Mann-Whitney U test of `a` against `b`.
///
/// Cost: O((n_a + n_b) log(n_a + n_b)).
pub fn mann_whitney_u(a: &Samples, b: &Samples) -> MannWhitney {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let n = n1 + n2;
    // Merge the two sorted sets, remembering which came from `a`, then give ties average ranks.
    let mut merged: Vec<(f64, bool)> = a.sorted().iter().map(|&x| (x, true)).collect();
    merged.extend(b.sorted().iter().map(|&x| (x, false)));
    merged.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum_a, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < merged.len() {
        let mut j = i;
        while j < merged.len() && merged[j].0 == merged[i].0 {
            j += 1;
        }
        let ties = (j - i) as f64;
        let average_rank = (i + j + 1) as f64 / 2.0; // ranks i+1..=j
        let from_a = merged[i..j].iter().filter(|(_, is_a)| *is_a).count() as f64;
        rank_sum_a += from_a * average_rank;
        tie_term += ties * ties * ties - ties;
        i = j;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance.is_nan() || variance <= 0.0 {
        return MannWhitney { u, p_value: 1.0 };
    }
    let z = ((u.max(n1 * n2 - u)) - mean - 0.5) / variance.sqrt();
    MannWhitney {
        u,
        p_value: (2.0 * normal_sf(z)).min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(v: &[f64]) -> Samples {
        Samples::new(v.to_vec()).unwrap()
    }

    #[test]
    fn matches_scipy_asymptotic() {
        // python -c "from scipy.stats import mannwhitneyu as m; \
        //   r=m([1.1,2.2,3.3,4.4,5.5,6.6], [3.0,4.0,5.0,6.0,7.0,8.0,9.0], method='asymptotic'); \
        //   print(r.statistic, repr(r.pvalue))"
        let r = mann_whitney_u(
            &samples(&[1.1, 2.2, 3.3, 4.4, 5.5, 6.6]),
            &samples(&[3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
        );
        assert_eq!(r.u, 10.0);
        assert!(
            (r.p_value - 0.13361440253771614).abs() < 1e-12,
            "{}",
            r.p_value
        );
    }

    #[test]
    fn ties_match_scipy() {
        // python -c "from scipy.stats import mannwhitneyu as m; \
        //   r=m([1,2,2,3,3,3,4], [2,3,3,4,4,5,5,6], method='asymptotic'); print(r.statistic, repr(r.pvalue))"
        let r = mann_whitney_u(
            &samples(&[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0]),
            &samples(&[2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0]),
        );
        assert_eq!(r.u, 11.0);
        assert!(
            (r.p_value - 0.04988443697992588).abs() < 1e-12,
            "{}",
            r.p_value
        );
    }

    #[test]
    fn all_equal_has_p_one() {
        let r = mann_whitney_u(&samples(&[2.0, 2.0]), &samples(&[2.0, 2.0, 2.0]));
        assert_eq!(r.p_value, 1.0);
    }
}
