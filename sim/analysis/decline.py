"""Does decline decide which programmes close? Paired differences between demography scenarios.

    python -m sim.analysis.decline results/baseline_regions

For an experiment that sweeps ``demography`` (mild_decline, baseline, strong_decline) with common
random numbers (the ``baseline_regions`` experiment), per region and replicate: the change of mbo
intake from the first school year to 2040, the opleidingen closed by 2030, 2035 and 2045, the
share of closures that fall at the first review, and the carried opleidingen; then the paired
differences strong − mild and baseline − mild with 95 % confidence intervals
(:func:`sim.analysis.stats.paired_differences`). Writes ``decline.csv`` and ``decline.md`` into
the experiment's ``decline/`` folder (written whole, never over a folder mbo-sim did not write).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.analysis.load import load_runs, read_table
from sim.analysis.stats import paired_differences
from sim.io.safe import atomic_folder
from sim.io.writer import markdown_table

MILESTONES = (2030, 2035, 2045)
INTAKE_YEAR = 2040
METRICS = ("intake_change", *(f"closed_by_{y}" for y in MILESTONES), "first_review_share", "first_wave_share",
           "first_closure_year", "carried_by_2045")
VIABILITY_YEARS = 3  # model.education.viability_years (default): the first review is in April of start_year + 3
OPLEIDING = ["institution", "location", "crebo"]


def per_run(exp_dir: Path) -> pd.DataFrame:
    """One row per run: region, demography, replicate and the metrics."""
    runs = load_runs(exp_dir)
    edu = read_table(exp_dir, runs, "education")
    ev = read_table(exp_dir, runs, "events")
    intake = edu.groupby(["run", "school_year"])["intake"].sum().unstack()
    rows = []
    for r in runs.itertuples():
        e = ev[ev["run"] == r.run]
        closed = e[e["event"] == "closed"].drop_duplicates(OPLEIDING)
        first = closed["date"].min().year if len(closed) else None
        first_review = int(r.start_year) + VIABILITY_YEARS
        row = {"region": r.region, "demography": r.demography, "replicate": r.replicate,
               "intake_change": intake.loc[r.run, INTAKE_YEAR] / intake.loc[r.run].iloc[0] - 1,
               # share of the closures by the horizon that fall in the first review year
               "first_review_share": float((closed["date"].dt.year == first_review).mean()) if first else 0.0,
               # ... and in the first year with any closure (a wave when reserves run down)
               "first_wave_share": float((closed["date"].dt.year == first).mean()) if first else 0.0,
               "first_closure_year": float(first) if first else float("nan"),
               "carried_by_2045": float(e[e["event"] == "carried"].drop_duplicates(OPLEIDING).shape[0])}
        for y in MILESTONES:
            row[f"closed_by_{y}"] = float((closed["date"].dt.year <= y).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def differences(table: pd.DataFrame, reference: str = "mild_decline") -> pd.DataFrame:
    out = []
    for region, g in table.groupby("region"):
        by = {d: x.set_index("replicate") for d, x in g.groupby("demography")}
        for arm in ("baseline", "strong_decline"):
            if arm in by and reference in by:
                diff = paired_differences(by[reference], by[arm], METRICS)
                out.append(diff.assign(region=region, comparison=f"{arm} − {reference}"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.analysis.decline", description=__doc__.splitlines()[0])
    ap.add_argument("experiment_dir")
    args = ap.parse_args(argv)
    exp_dir = Path(args.experiment_dir)
    table = per_run(exp_dir)
    means = table.groupby(["region", "demography"])[list(METRICS)].mean().reset_index()
    diff = differences(table)
    md = ["# Decline and closures (paired over replicates)", "", "## Means per region and scenario", "",
          markdown_table(means.round(3)), "", "## Paired differences, 95 % CI", "",
          markdown_table(diff[["region", "comparison", "metric", "diff_mean", "ci_low", "ci_high", "n"]].round(3)), ""]

    def fill(tmp: Path) -> None:
        diff.to_csv(tmp / "decline.csv", index=False)
        table.to_csv(tmp / "runs.csv", index=False)
        (tmp / "decline.md").write_text("\n".join(md))

    atomic_folder(exp_dir / "decline", fill)
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
