"""Paired comparison of policy arms with common random numbers.

The same seeds run with and without a lever; every process draws from its own named stream
(sim.streams), so only what the lever touches differs. For each headline metric the paired
differences (arm − base) over replications give a mean and a 95 % confidence interval
(Student t).

    mbo-sim-compare --base region=zeeland scale=0.1 --arm policy=[minimal_coverage] --reps 10
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import Config
from sim.hydra_config import compose
from sim.runner import simulate, tables_and_summary

HEADLINE = (
    "closures", "vetoed_closures", "bundled_programmes", "programmes_open_end", "coverage_min_end",
    "intake_last_year", "hard_to_fill_end", "llo_trajectories", "policy_cost_eur", "mean_intake_travel_minutes",
    "mbo_municipal_revenue_eur",
)


def summary_of(cfg: Config) -> dict:
    """Simulate and summarise one run without writing files."""
    model = simulate(cfg)
    return tables_and_summary(model)[1]


def paired_differences(base: Sequence[str], arm: Sequence[str], seeds: Sequence[int],
                       metrics: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Run ``base`` and ``base + arm`` overrides for each seed; returns one row per metric with
    the mean of each arm, the mean paired difference and its 95 % confidence interval."""
    rows = []
    for seed in seeds:
        b = summary_of(compose([*base, f"seed={seed}", "progress=false", "write_plots=false"]))
        a = summary_of(compose([*base, *arm, f"seed={seed}", "progress=false", "write_plots=false"]))
        rows.append({"seed": seed, **{f"base.{m}": b[m] for m in metrics}, **{f"arm.{m}": a[m] for m in metrics}})
    runs = pd.DataFrame(rows)
    return difference_table(runs, metrics)


def difference_table(runs: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    out = []
    n = len(runs)
    for m in metrics:
        d = (runs[f"arm.{m}"] - runs[f"base.{m}"]).to_numpy(dtype=float)
        mean = float(d.mean())
        half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        out.append({"metric": m, "base_mean": float(runs[f"base.{m}"].mean()),
                    "arm_mean": float(runs[f"arm.{m}"].mean()),
                    "diff_mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-compare", description=__doc__.splitlines()[0])
    ap.add_argument("--base", nargs="*", default=[], help="overrides shared by both arms")
    ap.add_argument("--arm", nargs="+", required=True, help="overrides of the policy arm")
    ap.add_argument("--reps", type=int, default=10, help="replications: seeds 1..reps")
    ap.add_argument("--out", default=None, help="CSV file for the table")
    args = ap.parse_args(argv)
    table = paired_differences(args.base, args.arm, range(1, args.reps + 1))
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
