"""The experiment report's tables, aggregated over runs: programme survival, closures by milestone
year, policy effects (paired differences).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.load import arm_factors, read_table, reference_arm
from sim.analysis.stats import DIFFERENCE_COLUMNS, kaplan_meier, paired_differences
from sim.codes import SECTORS

EFFECT_METRICS = ("closures", "coverage_min_end", "hard_to_fill_end", "llo_trajectories", "policy_cost_eur")
CLOSURE_EVENTS = ("closed", "bundled")
MILESTONES = (2030, 2035, 2045)


def survival(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Kaplan–Meier survival of the region's programmes per region, arm and sector (closure or
    bundling ends a programme; censored at the horizon), pooled over replications, with 95 % bands."""
    edu = read_table(exp_dir, runs, "education")
    ev = read_table(exp_dir, runs, "events")
    out = []
    for (region, arm), grp in runs.groupby(["region", "arm"]):
        r0 = grp.iloc[0]
        horizon = 12 * int(r0.years)
        start = pd.Timestamp(f"{int(r0.start_year)}-01-01")
        progs = edu[(edu["run"].isin(grp["run"])) & (edu["school_year"] == int(r0.start_year))]
        if "in_region" in progs:  # sites outside the region are not reviewed: their survival says nothing
            progs = progs[progs["in_region"]]
        ends = ev[ev["run"].isin(grp["run"]) & ev["event"].isin(CLOSURE_EVENTS)]
        ends = ends.groupby(["run", "programme_id"])["date"].min()
        for sector in SECTORS:
            p = progs[progs["sector"] == sector]
            if p.empty:
                continue
            key = list(zip(p["run"], p["programme_id"], strict=True))
            end = ends.reindex(key)
            closed = end.notna().to_numpy()
            months = np.where(closed, (end.dt.year - start.year) * 12 + end.dt.month - start.month + 0.5, horizon)
            t = np.arange(0, horizon + 1, 3, dtype=float)
            out.append(pd.DataFrame({"region": region, "arm": arm, "sector": sector, "month": t,
                                     **kaplan_meier(months, closed, t), "programmes": len(p)}))
    return pd.concat(out, ignore_index=True)


def closures_by_year(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Share of replications in which each programme has closed by each milestone year."""
    ev = read_table(exp_dir, runs, "events")
    ev = ev[ev["event"].isin(CLOSURE_EVENTS)]
    n_reps = runs.groupby(["region", "arm"])["replicate"].nunique()
    rows = []
    for (region, arm, pid), g in ev.groupby(["region", "arm", "programme_id"]):
        first = g.groupby("run")["date"].min().dt.year
        row = {"region": region, "arm": arm, "programme_id": pid, "sector": g["sector"].iloc[0],
               "level": int(g["level"].iloc[0]), "location": g["location"].iloc[0],
               "crebo": g["crebo"].iloc[0] if "crebo" in g else None,
               "qualification": g["qualification"].iloc[0] if "qualification" in g else None}
        for year in MILESTONES:
            row[f"closed_by_{year}"] = float((first <= year).sum() / n_reps[(region, arm)])
        rows.append(row)
    cols = ["region", "arm", "programme_id", "crebo", "qualification", "sector", "level", "location",
            *[f"closed_by_{y}" for y in MILESTONES]]
    return pd.DataFrame(rows, columns=cols)


def qualification_survival(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Survival by qualification: per region, arm and qualification (crebo), the opleidingen (sites
    offering it) at the start, the mean share of them still open at each milestone year, and the
    share of replications in which the qualification is no longer offered anywhere in the region
    by then (closure or bundling ends an opleiding; outside sites are not counted)."""
    edu = read_table(exp_dir, runs, "education")
    ev = read_table(exp_dir, runs, "events")
    ev = ev[ev["event"].isin(CLOSURE_EVENTS)]
    cols = ["region", "arm", "crebo", "qualification", "sector", "level", "opleidingen_start",
            *[f"open_share_{y}" for y in MILESTONES], *[f"gone_by_{y}" for y in MILESTONES]]
    if "crebo" not in edu:
        return pd.DataFrame(columns=cols)
    unit = ["institution", "location", "crebo"]
    first = ev.groupby(["run", *unit])["date"].min().dt.year.rename("closed_year").reset_index()
    rows = []
    for (region, arm), grp in runs.groupby(["region", "arm"]):
        r0 = grp.iloc[0]
        start = edu[edu["run"].isin(grp["run"]) & (edu["school_year"] == int(r0.start_year))]
        if "in_region" in start:
            start = start[start["in_region"]]
        units = start.drop_duplicates(["run", *unit]).merge(first, on=["run", *unit], how="left")
        for crebo, g in units.groupby("crebo"):
            per_run = g.groupby("run")
            row = {"region": region, "arm": arm, "crebo": int(crebo), "qualification": g["qualification"].iloc[0],
                   "sector": g["sector"].iloc[0], "level": int(g["level"].iloc[0]),
                   "opleidingen_start": float(per_run.size().mean())}
            for year in MILESTONES:
                still = g.assign(open=~(g["closed_year"] <= year)).groupby("run")["open"]
                row[f"open_share_{year}"] = float(still.mean().mean())
                row[f"gone_by_{year}"] = float((still.sum() == 0).mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)


SHORTAGE_SECTORS = ("care", "technical")
SHORTAGE_FROM_YEAR = 5  # shortage metrics average the years from start_year + 5 (2030 by default) to the end


def shortage_metrics(lab: pd.DataFrame, runs: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``runs`` with, per run, the shortage in care and technical from ``start_year`` + 5 on: the mean
    monthly hard-to-fill vacancies (``hard_to_fill_<sector>``) and the unmet demand in person-years a
    year (``unmet_demand_<sector>``, if the run has it); and the names of those metrics."""
    lab = lab[lab["sector"].isin(SHORTAGE_SECTORS)]
    start = runs.set_index("run")["start_year"].astype(int)
    lab = lab[lab["date"].dt.year >= lab["run"].map(start).astype(int) + SHORTAGE_FROM_YEAR]
    cols = ["hard_to_fill"] + (["unmet_demand"] if "unmet_demand" in lab else [])
    per_run = lab.groupby(["run", "sector"])[cols].mean().unstack("sector")
    # the mean of the monthly unmet demand (person-months per month) is also person-years per year
    per_run.columns = [f"{c}_{s}" for c, s in per_run.columns]
    names = tuple(per_run.columns)
    return runs.merge(per_run, left_on="run", right_index=True, how="left"), names


def paired_effects(runs: pd.DataFrame, metrics: tuple[str, ...] = EFFECT_METRICS) -> pd.DataFrame:
    """Policy effects: paired differences with a 95 % CI (:func:`~sim.analysis.stats.paired_differences`).

    Where the policy varies and ``none`` is one of its values, each policy arm is compared with
    ``none`` under the same other factors (region, demography, economy, …) and replicate; else
    each arm with the reference arm of the same region and replicate."""
    varying = arm_factors(runs)
    if "policy" in varying and (runs["policy"] == "none").any():
        keys = ["region", *(f for f in varying if f != "policy"), "replicate"]
        base_rows = runs[runs["policy"] == "none"]
        others = runs[runs["policy"] != "none"]
    else:
        keys = ["region", "replicate"]
        base_rows = runs[runs["arm"] == reference_arm(runs)]
        others = runs[runs["arm"] != reference_arm(runs)]
    base = base_rows.set_index(keys)
    columns = ["region", "arm", "reference", *DIFFERENCE_COLUMNS]
    parts = []
    for (region, arm), grp in others.groupby(["region", "arm"]):
        g = grp.set_index(keys)
        common = g.index.intersection(base.index)
        ref = " / ".join(dict.fromkeys(base.loc[common, "arm"])) if len(common) else ""
        parts.append(paired_differences(base, g, metrics).assign(region=region, arm=arm, reference=ref)[columns])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
