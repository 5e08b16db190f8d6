"""The outputs a sensitivity design is judged on, per run and per sample (the issue's questions).

Per run of the ``none`` arm: opleidingen closed (closure or bundling; the region's own sites) by
2035 and 2045, care opleidingen closed by 2045, the lowest coverage at the horizon, unmet demand
and hard-to-fill vacancies in care and technical in 2035, and the care shortage ratio (unmet
demand in care in the last year ÷ in 2026, the first year after the start-up). Per run of the
``minimal_coverage`` arm: its cost per protected student-year (cumulative deficit of the protected
opleidingen ÷ their cumulative students) and, paired with the ``none`` run of the same sample and
replicate, the closures it prevents by 2045.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

CLOSURE_EVENTS = ("closed", "bundled")
RULE = "minimal_coverage"
OUTPUTS = {  # name: (what it is, unit)
    "closures_2035": ("opleidingen closed by 2035 (none arm)", "opleidingen"),
    "closures_2045": ("opleidingen closed by 2045 (none arm)", "opleidingen"),
    "care_closures_2045": ("care opleidingen closed by 2045 (none arm)", "opleidingen"),
    "coverage_min_end": ("lowest share of school leavers with their sector within reach, at the horizon", "share"),
    "unmet_demand_care_2035": ("unmet demand in care in 2035", "person-years"),
    "unmet_demand_technical_2035": ("unmet demand in technical in 2035", "person-years"),
    "hard_to_fill_care_2035": ("hard-to-fill care vacancies, monthly mean of 2035", "vacancies"),
    "hard_to_fill_technical_2035": ("hard-to-fill technical vacancies, monthly mean of 2035", "vacancies"),
    "care_shortage_ratio": ("unmet demand in care in the last year ÷ in 2026", "ratio"),
    # a check, not a finding: how far a sample moves the base year away from the calibration
    "intake_first_year": ("mbo intake in the first school year (the calibration's base year)", "persons"),
    "cost_per_protected_student_eur": ("minimal coverage: cumulative deficit ÷ protected student-years", "EUR"),
    "closures_prevented_2045": ("minimal coverage: closures by 2045 prevented (none − rule, paired)", "opleidingen"),
}


def run_outputs(folder: Path) -> dict[str, float]:
    """The outputs of one complete run folder (its arm's own ones)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    cfg = manifest["config"]
    ev = pd.read_parquet(folder / "events.parquet", columns=["date", "sector", "in_region", "event"])
    ev = ev[ev["event"].isin(CLOSURE_EVENTS) & ev["in_region"]]
    year = ev["date"].dt.year
    unmet = summary.get("unmet_demand_person_years_by_year", {})
    htf = summary.get("hard_to_fill_mean_by_year", {})
    last = str(int(cfg["start_year"]) + int(cfg["years"]) - 1)

    def at(table: dict, y: int | str, sector: str) -> float:
        return float(table.get(str(y), {}).get(sector, np.nan))

    out = {
        "closures_2035": float((year <= 2035).sum()),
        "closures_2045": float((year <= 2045).sum()),
        "care_closures_2045": float(((year <= 2045) & (ev["sector"] == "care")).sum()),
        "coverage_min_end": float(summary["coverage_min_end"]),
        "intake_first_year": float(summary["intake_first_year"]),
        "unmet_demand_care_2035": at(unmet, 2035, "care"),
        "unmet_demand_technical_2035": at(unmet, 2035, "technical"),
        "hard_to_fill_care_2035": at(htf, 2035, "care"),
        "hard_to_fill_technical_2035": at(htf, 2035, "technical"),
    }
    first = at(unmet, 2026, "care")
    out["care_shortage_ratio"] = at(unmet, last, "care") / first if first > 0 else np.nan
    pol = pd.read_parquet(folder / "policy.parquet")
    pol = pol[pol["lever"] == RULE]
    if len(pol):
        cost = pol.loc[pol["quantity"] == "cost_eur", "value"].sum()
        students = pol.loc[pol["quantity"] == "protected_students", "value"].sum()
        out["cost_per_protected_student_eur"] = float(cost / students) if students > 0 else 0.0
    return out


def collect(exp_dir: Path) -> pd.DataFrame:
    """One row per (sample, replicate): the ``none`` run's outputs, the rule's cost and the closures
    it prevents where the sweep has the rule. Damaged or incomplete runs are skipped (warned)."""
    from sim.analysis.load import complete_runs

    rows = []
    for folder, manifest in complete_runs(exp_dir, "mbo-sim-sensitivity"):
        cfg = manifest["config"]
        if cfg.get("sample") is None:
            continue
        policy = "+".join(sorted(cfg.get("policy") or {})) or "none"
        if policy not in ("none", RULE):
            continue
        rows.append({"sample": int(cfg["sample"]), "replicate": int(cfg["replicate"]), "arm": policy,
                     **run_outputs(folder)})
    if not rows:
        raise FileNotFoundError(f"no complete runs of a sensitivity design under {Path(exp_dir) / 'runs'}")
    df = pd.DataFrame(rows)
    keys = ["sample", "replicate"]
    base = df[df["arm"] == "none"].drop(columns=["arm", "cost_per_protected_student_eur"], errors="ignore")
    rule = df[df["arm"] == RULE]
    if rule.empty:
        return base.sort_values(keys).reset_index(drop=True)
    paired = base.merge(rule[[*keys, "closures_2045", "cost_per_protected_student_eur"]].rename(
        columns={"closures_2045": "closures_2045_rule"}), on=keys, how="outer")
    paired["closures_prevented_2045"] = paired["closures_2045"] - paired.pop("closures_2045_rule")
    return paired.sort_values(keys).reset_index(drop=True)
