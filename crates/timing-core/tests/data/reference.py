"""Reference values for timing-core's tests, computed independently with numpy and scipy.

Run by hand (not by CI):  python reference.py   (numpy 2.4.6, scipy 1.17.1 when last run)
It rewrites latencies_a.txt, latencies_b.txt and expected.json beside this file, and prints the
numbers that unit tests in src/stats/*.rs quote in their comments.
"""
import json
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.special import erfc

HERE = Path(__file__).parent


def ci_ranks(n, q, level):
    """Equal-tailed order-statistic ranks (1-based): largest l with P(B<=l-1)<=a/2, smallest u with
    P(B>=u)<=a/2, B ~ Binomial(n, q)."""
    t = (1 - level) / 2
    lo = [l for l in range(1, n + 1) if stats.binom.cdf(l - 1, n, q) <= t]
    hi = [u for u in range(1, n + 1) if stats.binom.sf(u - 1, n, q) <= t]
    return (max(lo) if lo else None, min(hi) if hi else None)


def summary(x):
    x = np.asarray(x)
    s = np.sort(x)
    n = len(x)
    q1, q3 = np.percentile(x, [25, 75])
    iqr = q3 - q1
    fences = [q1 - 3 * iqr, q1 - 1.5 * iqr, q3 + 1.5 * iqr, q3 + 3 * iqr]
    med_lo, med_hi = ci_ranks(n, 0.5, 0.95)
    p99_lo, p99_hi = ci_ranks(n, 0.99, 0.95)
    return {
        "n": n,
        "mean": float(np.mean(x)),
        "median": float(np.median(x)),
        "std": float(np.std(x, ddof=1)),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
        "p50": float(np.percentile(x, 50)),
        "p90": float(np.percentile(x, 90)),
        "p95": float(np.percentile(x, 95)),
        "p99": float(np.percentile(x, 99)),
        "p999": float(np.percentile(x, 99.9)),
        "iqr": float(iqr),
        "mad": float(stats.median_abs_deviation(x)),
        "median_ci_low": None if med_lo is None else float(s[med_lo - 1]),
        "median_ci_high": None if med_hi is None else float(s[med_hi - 1]),
        "p99_ci_low": None if p99_lo is None else float(s[p99_lo - 1]),
        "p99_ci_high": None if p99_hi is None else float(s[p99_hi - 1]),
        "outliers_low_severe": int(np.sum(x < fences[0])),
        "outliers_low_mild": int(np.sum((x >= fences[0]) & (x < fences[1]))),
        "outliers_high_mild": int(np.sum((x > fences[2]) & (x <= fences[3]))),
        "outliers_high_severe": int(np.sum(x > fences[3])),
    }


def main():
    rng = np.random.default_rng(20261128)
    # Latency-like data: log-normal body plus a few slow stragglers, rounded like a timer would.
    a = np.round(rng.lognormal(np.log(12.0), 0.08, 1000), 4)
    a[rng.choice(1000, 12, replace=False)] *= rng.uniform(1.5, 4.0, 12)
    b = np.round(rng.lognormal(np.log(12.5), 0.08, 700), 4)
    a = np.round(a, 4)
    (HERE / "latencies_a.txt").write_text("".join(f"{v}\n" for v in a))
    (HERE / "latencies_b.txt").write_text("".join(f"{v}\n" for v in b))
    mw = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    expected = {
        "a": summary(a),
        "b": summary(b),
        "a_vs_b": {"u": float(mw.statistic), "p_value": float(mw.pvalue),
                   "ratio": float(np.median(a) / np.median(b))},
        "small": summary([3.5, 1.25, 2.0, 8.0, 2.5]),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")

    # Numbers quoted in unit tests.
    print("erfc", [repr(float(erfc(x))) for x in (-1.5, 0.0, 0.3, 1.0, 2.4, 2.6, 4.0, 7.5)])
    print("binom.cdf(k,100,.5)", [repr(float(stats.binom.cdf(k, 100, 0.5))) for k in (39, 40, 59, 60)])
    print("percentile", [float(np.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5], p))
                         for p in (0, 25, 50, 90, 95, 99, 99.9, 100)])
    print("std", float(np.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1)))
    for case in [(5, .5, .95), (6, .5, .95), (20, .5, .95), (100, .5, .95), (100, .99, .95),
                 (367, .99, .95), (368, .99, .95), (1000, .99, .95), (1000, .9, .99), (2000, .95, .9)]:
        print("ci_ranks", case, ci_ranks(*case))
    for q in (0.9, 0.95, 0.99, 0.999):
        n = 2
        while stats.binom.cdf(1, n, 1 - q) > 0.01:
            n += 1
        print("mlperf min samples", q, n)
    for x, y in [([1.1, 2.2, 3.3, 4.4, 5.5, 6.6], [3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
                 ([1, 2, 2, 3, 3, 3, 4], [2, 3, 3, 4, 4, 5, 5, 6])]:
        r = stats.mannwhitneyu(x, y, method="asymptotic")
        print("mannwhitneyu", float(r.statistic), repr(float(r.pvalue)))
    v = list(range(51, 71)) + [10, 40, 90, 95, 150]
    print("tukey quartiles", np.percentile(v, [25, 75]))


if __name__ == "__main__":
    main()
