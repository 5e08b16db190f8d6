"""Distribution check for a change that alters the random draws: the same runs with the code of
two trees, compared metric by metric.

    python benchmarks/check_draws.py --before /tmp/wt_base --seeds 20 [--n-jobs 2] [--out F.csv] \
        region=zuid_limburg scale=1.0 years=20

``--before`` is a checkout of the code before the change (``git worktree add /tmp/wt_base <commit>``);
the code after is this tree. Each seed (1..N, or from ``--first-seed``) runs once with each code in its own process
(``PYTHONPATH`` = the tree), with the given Hydra overrides. A change that alters the draws makes
the runs of one seed independent samples, not pairs, so each metric's difference of means gets a
Welch 95 % confidence interval. A change that keeps the distributions gives intervals that
contain 0 for all but about 1 metric in 20 (chance); the script prints the table and how many
do not, and exits 1 when more than ``--max-outside`` (default: 2 plus 5 % of the metrics) do not.

Metrics: the run summary's headline figures (``sim.results.summary``), the demography's entries
and exits over the run (``flows``), and labour-market totals and end values (``labour``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent

SUMMARY_METRICS = (
    "persons_end", "programmes_open_end", "closures", "intake_first_year", "intake_last_year", "hard_to_fill_start",
    "hard_to_fill_end", "llo_trajectories", "coverage_min_end", "mean_intake_travel_minutes",
    "participation_first_year", "participation_last_year", "mbo_municipal_revenue_eur", "vetoed_closures",
    "bundled_programmes", "policy_cost_eur",
)


def metrics_of_run(overrides: list[str]) -> dict[str, float]:
    """One run's metrics (in the worker: ``sim`` is whichever tree PYTHONPATH names)."""
    from sim.hydra_config import compose
    from sim.runner import simulate, tables_and_summary

    frames, summary = tables_and_summary(simulate(compose([*overrides, "progress=false", "write_plots=false"])))
    out = {k: float(summary[k]) for k in SUMMARY_METRICS}
    flows = frames["flows"]
    for col in ("entries_in_migration", "exits_death", "exits_out_migration", "exits_retirement"):
        out[f"{col}_total"] = float(flows[col].sum())
    lab = frames["labour"]
    last = lab[lab["date"] == lab["date"].max()]
    for col in ("employed", "job_seekers", "vacancies"):
        out[f"{col}_end"] = float(last[col].sum())
        out[f"{col}_mean"] = float(lab.groupby("date")[col].sum().mean())
    for col in ("hires", "separations", "exits", "adapted", "unmet_demand", "migrant_arrivals", "migrant_departures"):
        if col in lab:
            out[f"{col}_total"] = float(lab[col].sum())
    for col in ("commuters_out", "commuters_in"):
        if col in lab:
            out[f"{col}_end"] = float(last[col].sum())
    return out


def run_one(tree: Path, seed: int, overrides: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(HERE / "check_draws.py"), "--worker", *overrides, f"seed={seed}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"run with {tree} seed {seed} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(before: list[dict], after: list[dict]):
    import numpy as np
    import pandas as pd
    from scipy import stats

    rows = []
    for m in before[0]:
        a, b = np.array([r[m] for r in before]), np.array([r[m] for r in after])
        if np.all(a == a[0]) and np.all(b == a[0]):  # constant in both (e.g. no lever cost): nothing to test
            lo = hi = 0.0
        else:
            ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
            lo, hi = float(ci.low), float(ci.high)
        sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) if a.size > 1 else float("nan")
        rows.append({"metric": m, "before_mean": a.mean(), "after_mean": b.mean(), "difference": b.mean() - a.mean(),
                     "ci_low": lo, "ci_high": hi, "difference_in_sd": (b.mean() - a.mean()) / sd if sd else 0.0,
                     "zero_in_ci": bool(lo <= 0 <= hi)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of the runs (no seed)")
    ap.add_argument("--before", type=Path, help="a checkout of the code before the change")
    ap.add_argument("--seeds", type=int, default=20, help="how many seeds, for each code")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="CSV file for the table")
    ap.add_argument("--max-outside", type=int, default=None,
                    help="metrics whose interval may exclude 0 (default 2 + 5 %% of the metrics)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(metrics_of_run(args.overrides)))
        return 0
    if args.before is None or not (args.before / "sim").is_dir():
        ap.error("--before must name a checkout of the code before the change (a folder with sim/)")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(tree, seed) for seed in seeds for tree in (args.before, AFTER)]
    with ThreadPoolExecutor(args.n_jobs) as pool:
        results = list(pool.map(lambda job: run_one(job[0], job[1], args.overrides), jobs))
    before, after = results[0::2], results[1::2]
    table = compare(before, after)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.5g}"))
    outside = int((~table["zero_in_ci"]).sum())
    limit = args.max_outside if args.max_outside is not None else 2 + len(table) // 20
    print(f"{args.overrides}, seeds {seeds[0]}-{seeds[-1]}: {outside} of {len(table)} metrics with 0 outside the 95 % "
          f"interval of the difference (chance alone: about {0.05 * len(table):.1f}; allowed {limit})")
    if args.out:
        table.to_csv(args.out, index=False)
    return 1 if outside > limit else 0


if __name__ == "__main__":
    sys.exit(main())
