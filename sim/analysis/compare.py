"""Paired comparison of policy arms with common random numbers.

The same seeds run with and without a lever; every process draws from its own named stream
(sim.streams), so only what the lever touches differs. For each headline metric the paired
differences (arm − base) over replications give a mean and a 95 % confidence interval
(Student t, :func:`sim.analysis.stats.paired_differences`).

    mbo-sim-compare --base region=zeeland scale=0.1 --arm policy=[minimal_coverage] --reps 10
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from sim.analysis.stats import paired_differences
from sim.config import Config
from sim.hydra_config import compose
from sim.runner import simulate, tables_and_summary

HEADLINE = (
    "closures", "vetoed_closures", "bundled_programmes", "programmes_open_end", "coverage_min_end",
    "intake_last_year", "hard_to_fill_end", "llo_trajectories", "policy_cost_eur", "mean_intake_travel_minutes",
    "mbo_municipal_revenue_eur",
)


def summary_of(cfg: Config) -> dict:
    """Simulate one run without writing files; its headline summary, as the runtime writes it to summary.json."""
    return tables_and_summary(simulate(cfg))[1]


def compare_arms(base: Sequence[str], arm: Sequence[str], seeds: Sequence[int],
                 metrics: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Run ``base`` and ``base + arm`` overrides for each seed; returns one row per metric with
    the mean of each arm, the mean paired difference and its 95 % confidence interval."""
    summaries: dict[str, list[dict]] = {"base": [], "arm": []}
    for seed in seeds:
        shared = [f"seed={seed}", "progress=false", "write_plots=false"]
        summaries["base"].append(summary_of(compose([*base, *shared])))
        summaries["arm"].append(summary_of(compose([*base, *arm, *shared])))
    runs = {k: pd.DataFrame(v, index=pd.Index(list(seeds), name="seed"))[list(metrics)] for k, v in summaries.items()}
    table = paired_differences(runs["base"], runs["arm"], metrics)
    table.insert(1, "base_mean", [float(runs["base"][m].mean()) for m in metrics])
    table.insert(2, "arm_mean", [float(runs["arm"][m].mean()) for m in metrics])
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-compare", description=__doc__.splitlines()[0])
    ap.add_argument("--base", nargs="*", default=[], help="overrides shared by both arms")
    ap.add_argument("--arm", nargs="+", required=True, help="overrides of the policy arm")
    ap.add_argument("--reps", type=int, default=10, help="replications: seeds 1..reps")
    ap.add_argument("--out", default=None, help="CSV file for the table")
    args = ap.parse_args(argv)
    table = compare_arms(args.base, args.arm, range(1, args.reps + 1))
    with pd.option_context("display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
