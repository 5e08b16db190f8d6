"""Aggregate an experiment: one summary table, survival curves, shortage maps, policy effects.

The command ``mbo-sim-report``:

    mbo-sim-report results/<experiment> [--sector care]

Reads every complete run under ``results/<experiment>/runs/`` and writes
``results/<experiment>/summary.parquet`` (one row per run: its factors and headline metrics) and
``results/<experiment>/report/`` (figures, tables as CSV and ``report.md``). Runs after every sweep
of a named experiment through :class:`sim.analysis.callback.ReportCallback`.

Arms are the factors that vary across runs other than region and replicate (policy,
demography, economy, ...). Policy effects are paired differences: each arm against the reference
arm of the same region and replicate (the same seed, common random numbers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.aggregate import MILESTONES, closures_by_year, paired_effects, survival
from sim.analysis.figures import (
    plot_coverage_maps,
    plot_forest,
    plot_intake,
    plot_shortage_heatmaps,
    plot_survival,
    plot_tightness_bands,
)
from sim.analysis.load import load_runs, read_table, reference_arm
from sim.codes import SECTORS
from sim.hydra_config import CONFIG_DIR
from sim.io.loaders import resolve_data_dir
from sim.io.writer import markdown_table


def experiment_question(name: str) -> str:
    """The comment lines heading the experiment's config file (its question), joined; "" if none."""
    path = CONFIG_DIR / "experiment" / f"{name}.yaml"
    if not path.is_file():
        return ""
    lines = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#") and "@package" not in ln]
    return " ".join(lines)


def build(exp_dir: str | Path, sector: str | None = None, data_dir: str | Path | None = None) -> Path:
    """Write summary.parquet and report/ for the experiment folder; returns the report folder."""
    exp_dir = Path(exp_dir)
    runs = load_runs(exp_dir)
    runs.to_parquet(exp_dir / "summary.parquet", index=False)
    out = exp_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    lab = read_table(exp_dir, runs, "labour")
    access = read_table(exp_dir, runs, "access")
    edu = read_table(exp_dir, runs, "education")
    surv = survival(exp_dir, runs)
    surv.to_csv(out / "survival.csv", index=False)
    closed = closures_by_year(exp_dir, runs)
    closed.to_csv(out / "closures_by_year.csv", index=False)
    effects = paired_effects(runs)
    effects.to_csv(out / "policy_effects.csv", index=False)
    ref = reference_arm(runs)
    if sector is None:  # the sector whose access worsened most in the reference arm
        change = access[access["arm"] == ref].groupby(["sector", "school_year"])["minutes_to_nearest"].mean().unstack()
        sector = str((change.iloc[:, -1] - change.iloc[:, 0]).fillna(-np.inf).idxmax())
    figures = [*plot_survival(surv, out), *plot_intake(edu, out), *plot_shortage_heatmaps(lab, out),
               *plot_tightness_bands(lab, out)]
    forest = plot_forest(effects, out)
    figures += [forest] if forest else []
    figures += plot_coverage_maps(access, ref, sector, resolve_data_dir(data_dir), out)
    write_markdown(exp_dir, runs, closed, effects, figures, out)
    return out


def write_markdown(exp_dir: Path, runs: pd.DataFrame, closed: pd.DataFrame, effects: pd.DataFrame,
                   figures: list[Path], out: Path) -> Path:
    """Write ``report.md``: the question, headline metrics per arm, likely closures, policy effects, figures."""
    name = exp_dir.name
    lines = [f"# Experiment `{name}`", ""]
    q = experiment_question(name)
    if q:
        lines += [q, ""]
    lines += [f"{len(runs)} runs: regions {sorted(runs['region'].unique())}, arms {list(dict.fromkeys(runs['arm']))}, "
              f"{runs['replicate'].nunique()} replications each (seeds shared across arms).", ""]
    lines += ["## Headline metrics (mean over replications)", ""]
    cols = ["closures", "programmes_open_end", "coverage_min_end", "hard_to_fill_end", "llo_trajectories",
            "policy_cost_eur"]
    table = runs.groupby(["region", "arm"])[cols].mean().round(2).reset_index()
    lines += [markdown_table(table), ""]
    lines += ["## Programmes closing by 2030, 2035, 2045", "",
              "Share of replications in which the programme has closed (or been bundled) by the end of each year; "
              "programmes closing in at least half of the replications by the horizon.", ""]
    last = f"closed_by_{MILESTONES[-1]}"
    likely = closed[closed[last] >= 0.5].sort_values(["region", "arm", last], ascending=[True, True, False])
    lines += [markdown_table(likely) if not likely.empty else "_none_", ""]
    if not effects.empty:
        lines += ["## Policy effects (paired differences, 95 % CI)", "", markdown_table(effects.round(3)), ""]
    lines += ["## Figures", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-report", description=__doc__.splitlines()[0])
    ap.add_argument("experiment_dir", help="results/<experiment>")
    ap.add_argument("--sector", choices=SECTORS, default=None, help="sector of the coverage map")
    ap.add_argument("--data-dir", default=None, help="default: the data shipped with the package")
    args = ap.parse_args(argv)
    try:
        out = build(args.experiment_dir, args.sector, args.data_dir)
    except FileNotFoundError as exc:
        print(f"mbo-sim-report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
