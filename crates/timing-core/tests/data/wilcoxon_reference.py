"""Reference values of the Wilcoxon signed-rank test for timing-core's paired comparisons.

Run by hand (numpy 2.4.6, scipy 1.17.1): `python wilcoxon_reference.py > wilcoxon_expected.json`.
Each case is a list of differences and scipy.stats.wilcoxon's two-sided result with
zero_method="wilcox", correction=False and the method timing-core uses for it: "exact" for up to
50 non-zero differences without tied absolute values, "approx" otherwise.
"""
import json

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261130)
cases = {
    "small_exact": [0.8, -0.3, 1.7, 2.2, -0.9, 0.4, 1.1, 0.05, -1.6, 2.9],
    "shifted_exact_40": list(rng.normal(0.3, 1.0, 40)),
    "with_zeros_exact": [0.0, 1.5, -0.25, 0.0, 2.5, 3.25, -0.75, 4.5],
    "ties_approx": [1.0, -1.0, 2.0, 2.0, -2.0, 3.0, 1.0, 4.0, -3.0, 5.0, 2.0, 1.0],
    "large_approx_200": list(rng.normal(0.05, 1.0, 200)),
    "log_ratios_approx_120": list(np.log(rng.lognormal(0.02, 0.03, 120))),
}
out = {}
for name, d in cases.items():
    d = [float(x) for x in d]
    nonzero = [x for x in d if x != 0.0]
    abs_values = [abs(x) for x in nonzero]
    exact = len(nonzero) <= 50 and len(set(abs_values)) == len(abs_values)
    r = stats.wilcoxon(d, zero_method="wilcox", correction=False,
                       method="exact" if exact else "approx")
    out[name] = {"differences": d, "exact": exact, "n": len(nonzero),
                 "statistic": float(r.statistic), "p_value": float(r.pvalue)}
print(json.dumps(out, indent=1))
