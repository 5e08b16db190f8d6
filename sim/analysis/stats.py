"""Statistics over replicates: paired differences with a confidence interval, Kaplan–Meier survival.

Used by the experiment report (:mod:`sim.analysis.report`) and the paired comparison
(:mod:`sim.analysis.compare`); neither computes an interval of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

DIFFERENCE_COLUMNS = ["metric", "diff_mean", "ci_low", "ci_high", "n"]


def paired_differences(base: pd.DataFrame, arm: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean paired difference ``arm − base`` of each metric with its 95 % confidence interval.

    Rows of ``base`` and ``arm`` are paired by their index: the seed, or whatever identifies a
    replicate run with common random numbers in both arms (e.g. region, other factors and replicate).
    Rows without a partner in the other arm are left out; ``n`` counts the pairs. The interval is
    Student t on the differences (n − 1 degrees of freedom); with one pair it is NaN, with none
    the mean is NaN too. One row per metric: metric, diff_mean, ci_low, ci_high, n.
    """
    common = arm.index.intersection(base.index)
    n = len(common)
    rows = []
    for m in metrics:
        d = (arm.loc[common, m] - base.loc[common, m]).to_numpy(dtype=float)
        mean = float(d.mean()) if n else np.nan
        half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"metric": m, "diff_mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def kaplan_meier(durations: np.ndarray, ended: np.ndarray, at: np.ndarray) -> dict[str, np.ndarray]:
    """Kaplan–Meier survival at the times ``at`` with its 95 % pointwise band.

    ``durations[i]`` is the time item i ended (``ended[i]`` true) or was censored (false).
    Returns ``survival``, ``low`` and ``high``, each evaluated at ``at``.
    """
    durations = np.asarray(durations, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    res = stats.ecdf(stats.CensoredData(uncensored=durations[ended], right=durations[~ended]))
    ci = res.sf.confidence_interval(0.95)
    return {"survival": res.sf.evaluate(at), "low": ci.low.evaluate(at), "high": ci.high.evaluate(at)}
