"""Reference values of Student's t distribution and the between-run interval for timing-core.

Run by hand (numpy, scipy; versions printed in the output): `python t_reference.py > t_expected.json`.
- "quantiles": scipy.stats.t.ppf(p, df) and t.sf(t, df) over a grid of p and df.
- "runs": per-run medians and scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=sem) with
  sem = std(ddof=1) / sqrt(n), plus that std.
"""
import json

import numpy as np
import scipy
from scipy import stats

quantiles = []
for df in [1, 2, 3, 4, 5, 7, 9, 10, 19, 29, 30, 60, 120, 1000]:
    for p in [0.5, 0.6, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.025, 0.001]:
        t = float(stats.t.ppf(p, df))
        quantiles.append({"p": p, "df": df, "t": t, "sf": float(stats.t.sf(t, df)),
                          "sf_at_1_5": float(stats.t.sf(1.5, df))})
rng = np.random.default_rng(20261201)
runs = []
for values in [[10.2, 10.5, 9.9], [12.0, 12.0], list(rng.normal(8.0, 0.3, 5)),
               list(rng.normal(100.0, 4.0, 12))]:
    v = np.array(values, dtype=float)
    sem = v.std(ddof=1) / np.sqrt(len(v))
    low, high = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=sem) if sem > 0 else (v.mean(), v.mean())
    runs.append({"values": [float(x) for x in v], "mean": float(v.mean()),
                 "std": float(v.std(ddof=1)), "low": float(low), "high": float(high)})
print(json.dumps({"numpy": np.__version__, "scipy": scipy.__version__,
                  "quantiles": quantiles, "runs": runs}, indent=1))
