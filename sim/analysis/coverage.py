"""What the minimal-coverage rule keeps, per euro, and where access is lost without it.

For an experiment with a ``none`` arm and a ``minimal_coverage`` arm (policy exactly
``minimal_coverage``), each run of the rule's arm is paired with the ``none`` run of the same
region, other factors and replicate (the same seed: common random numbers). Per run and school
year y (the September intake, real persons):

- ``mbo_entrants`` (``participation.parquet``: participation × school leavers): school leavers who
  enrolled in mbo, in or outside the region;
- ``entrants_in_region`` (``choice_outcomes.parquet``, Σ ``enrolled_in_region``): of them, at a
  site in the region;
- ``within_reach``: school leavers whose home municipality has an open opleiding of their sector,
  any level, within the run's ``max_travel_minutes`` by the students' travel mode
  (``access.parquet``, level 0; sites outside the region count). Their sector is the sector they
  enrolled in, and for those who did not enrol the expected split P(sector | mbo)
  (``choice_outcomes.parquet``: enrolled_in_region + enrolled_out_of_region + not_enrolled);
- ``cost_eur``: the rule's ``cost_eur`` row of ``policy.parquet`` for that year (0 in ``none``).

Kept in mbo / in the region / within reach are the paired differences (rule − none) of these,
per school year and cumulated from the first school year to y, with 95 % CIs
(:func:`~sim.analysis.stats.paired_differences`); per euro is the mean difference ÷ the mean cost
of the same years (a ratio of means, without an interval).

Access lost: per municipality, sector and level (0 = any level, 1–4), the replications in which an
open opleiding was within ``max_travel_minutes`` in the first school year and is not in the last
(beyond reach or none open), in the ``none`` arm and in the rule's arm.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.load import arm_factors, read_table
from sim.analysis.stats import DIFFERENCE_COLUMNS, paired_differences

RULE = "minimal_coverage"
OUTCOMES = {"mbo_entrants": "kept_in_mbo", "entrants_in_region": "kept_in_region", "within_reach": "kept_within_reach"}
EFFECT_COLUMNS = ["region", "arm", "reference", "scope", "school_year", "metric", *DIFFERENCE_COLUMNS[1:],
                  "cost_eur", "per_eur", "per_eur_low", "per_eur_high", "eur_per_student", "eur_per_student_low",
                  "eur_per_student_high"]
BOOTSTRAP = 2000  # resamples of the replicates for the CI of a ratio (kept per euro)
LOST_COLUMNS = ["region", "arm", "reference", "municipality", "sector", "level", "max_travel_minutes",
                "minutes_start", "minutes_end_none", "minutes_end_rule", "lost_none", "lost_rule",
                "beyond_reach_none", "beyond_reach_rule", "replications"]


def any_level(access: pd.DataFrame) -> pd.DataFrame:
    """The rows of an ``access`` table for any level (level 0); a table written before levels
    were added (no ``level`` column) is already that."""
    return access[access["level"] == 0] if "level" in access else access


def has_rule_and_none(runs: pd.DataFrame) -> bool:
    return bool((runs["policy"] == "none").any() and (runs["policy"] == RULE).any())


def rule_pairs(runs: pd.DataFrame) -> Iterator[tuple[str, str, str, pd.DataFrame, pd.DataFrame]]:
    """(region, arm, reference arm, none runs, rule runs) with the runs paired row by row (same
    region, other factors and replicate); arms without a partner are left out."""
    if not has_rule_and_none(runs):
        return
    keys = ["region", *(f for f in arm_factors(runs) if f != "policy"), "replicate"]
    base = runs[runs["policy"] == "none"].set_index(keys)
    for (region, arm), grp in runs[runs["policy"] == RULE].groupby(["region", "arm"]):
        g = grp.set_index(keys)
        common = g.index.intersection(base.index)
        if len(common):
            b = base.loc[common]
            ref = " / ".join(dict.fromkeys(b["arm"]))
            yield str(region), str(arm), ref, b.reset_index(), g.loc[common].reset_index()


def max_travel_minutes(exp_dir: Path, run: str) -> float:
    """The run's ``model.travel.max_travel_minutes`` (its manifest)."""
    cfg = json.loads((Path(exp_dir) / "runs" / run / "manifest.json").read_text())["config"]
    return float(cfg["model"]["travel"]["max_travel_minutes"])


def yearly_outcomes(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run and school year: school_leavers, mbo_entrants, entrants_in_region, within_reach and
    the rule's cost_eur (module docstring)."""
    part = read_table(exp_dir, runs, "participation")
    co = read_table(exp_dir, runs, "choice_outcomes")
    acc = any_level(read_table(exp_dir, runs, "access"))
    pol = read_table(exp_dir, runs, "policy")
    limit = {r: max_travel_minutes(exp_dir, r) for r in runs["run"]}
    keys = ["run", "school_year", "municipality", "sector"]
    co = co.assign(leavers=co["enrolled_in_region"] + co["enrolled_out_of_region"] + co["not_enrolled"])
    co = co.merge(acc[keys + ["minutes_to_nearest"]], on=keys, how="left")
    reach = co["minutes_to_nearest"].to_numpy(dtype=float) <= co["run"].map(limit).to_numpy(dtype=float)
    co["within_reach"] = np.where(reach, co["leavers"], 0.0)
    per_year = co.groupby(["run", "school_year"])[["enrolled_in_region", "within_reach"]].sum()
    per_year = per_year.rename(columns={"enrolled_in_region": "entrants_in_region"}).reset_index()
    out = part[["run", "school_year", "school_leavers", "mbo_entrants"]].merge(per_year, on=["run", "school_year"],
                                                                               how="left")
    cost = pol[(pol["lever"] == RULE) & (pol["quantity"] == "cost_eur")]
    cost = cost.groupby(["run", "year"])["value"].sum().rename("cost_eur").reset_index()
    out = out.merge(cost.rename(columns={"year": "school_year"}), on=["run", "school_year"], how="left")
    return out.fillna({"cost_eur": 0.0, "entrants_in_region": 0.0, "within_reach": 0.0})


def kept_per_euro(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Students kept in mbo, in the region and within reach by the rule (paired differences rule −
    none with 95 % CIs), per school year (``scope`` = ``year``) and cumulated to it
    (``cumulative``), with the rule's mean cost over the same years and the kept students per euro
    (and euro per kept student where more than none are kept). Empty without both arms."""
    pairs = list(rule_pairs(runs))
    if not pairs:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    used = pd.concat([pd.concat([b, a]) for *_, b, a in pairs])
    yearly = yearly_outcomes(exp_dir, runs[runs["run"].isin(used["run"])])
    metrics = [*OUTCOMES, "cost_eur"]
    wide = yearly.pivot_table(index="run", columns="school_year", values=metrics, aggfunc="sum")
    rows = []
    for region, arm, ref, base, rule in pairs:
        for scope in ("year", "cumulative"):
            for year in sorted(yearly["school_year"].unique()):
                b_vals = _run_values(wide, base, metrics, year, scope)
                r_vals = _run_values(wide, rule, metrics, year, scope)
                d = paired_differences(b_vals, r_vals, metrics).set_index("metric")
                cost = float(d.loc["cost_eur", "diff_mean"])
                delta = r_vals - b_vals  # per replicate, paired
                for m in metrics:
                    diff = float(d.loc[m, "diff_mean"])
                    kept = m != "cost_eur"
                    low, high = (ratio_ci(delta[m].to_numpy(), delta["cost_eur"].to_numpy()) if kept and cost > 0
                                 else (np.nan, np.nan))
                    rows.append({"region": region, "arm": arm, "reference": ref, "scope": scope,
                                 "school_year": int(year), "metric": OUTCOMES.get(m, m), **d.loc[m].to_dict(),
                                 "cost_eur": cost,
                                 "per_eur": diff / cost if kept and cost > 0 else np.nan,
                                 "per_eur_low": low, "per_eur_high": high,
                                 "eur_per_student": cost / diff if kept and diff > 0 else np.nan,
                                 # euro per student kept: the inverse bounds where the kept are surely > 0
                                 "eur_per_student_low": 1 / high if low > 0 else np.nan,
                                 "eur_per_student_high": 1 / low if low > 0 else np.nan})
    out = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    out["n"] = out["n"].astype(int)
    return out


def ratio_ci(kept: np.ndarray, cost: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(kept) / mean(cost) over paired replicates (resampled
    together, ``BOOTSTRAP`` times, a fixed seed: the same experiment gives the same interval)."""
    kept, cost = np.asarray(kept, dtype=float), np.asarray(cost, dtype=float)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, kept.size, size=(BOOTSTRAP, kept.size))
    c = cost[idx].mean(1)
    ratios = np.divide(kept[idx].mean(1), c, out=np.full(BOOTSTRAP, np.nan), where=c > 0)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return np.nan, np.nan
    a = (1 - level) / 2
    return float(np.quantile(ratios, a)), float(np.quantile(ratios, 1 - a))


def _run_values(wide: pd.DataFrame, runs: pd.DataFrame, metrics: list[str], year: int, scope: str) -> pd.DataFrame:
    """Per run of ``runs`` (in order, indexed 0…n−1 so that two arms pair row by row), each metric
    in school year ``year`` (``scope`` = ``year``) or summed over the school years up to it."""
    out = {}
    for m in metrics:
        w = wide[m].reindex(runs["run"])
        cols = [c for c in w.columns if (c <= year if scope == "cumulative" else c == year)]
        out[m] = w[cols].sum(axis=1).to_numpy()
    return pd.DataFrame(out, index=pd.RangeIndex(len(runs)))


def access_lost(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Municipalities that lose access without the rule: per region, municipality, sector and level
    (0 = any), in how many replications (share) an open opleiding was within ``max_travel_minutes``
    in the first school year and is not in the last, in the ``none`` arm (``lost_none``) and in the
    rule's arm (``lost_rule``); the share beyond reach in the last year (``beyond_reach_*``) and
    the median minutes at the start and the horizon (NaN: none open in at least half of the
    replications). Rows with ``lost_none`` > 0, most often lost first."""
    pairs = list(rule_pairs(runs))
    if not pairs:
        return pd.DataFrame(columns=LOST_COLUMNS)
    parts = []
    for region, arm, ref, base, rule in pairs:
        acc = read_table(exp_dir, pd.concat([base, rule]), "access")
        if "level" not in acc:
            acc = acc.assign(level=0)
        acc = acc.assign(minutes=acc["minutes_to_nearest"].fillna(np.inf))
        pair_of = {**dict(zip(base["run"], range(len(base)), strict=True)),
                   **dict(zip(rule["run"], range(len(rule)), strict=True))}
        acc["pair"] = acc["run"].map(pair_of)
        limit = max_travel_minutes(exp_dir, base["run"].iloc[0])
        first, last = acc["school_year"].min(), acc["school_year"].max()
        t = pd.concat([_minutes_at(acc, base, first, "start"), _minutes_at(acc, base, last, "end_none"),
                       _minutes_at(acc, rule, last, "end_rule")], axis=1)
        within = t["start"] <= limit
        t = t.assign(lost_none=within & (t["end_none"] > limit), lost_rule=within & (t["end_rule"] > limit),
                     beyond_none=t["end_none"] > limit, beyond_rule=t["end_rule"] > limit)
        g = t.groupby(level=["municipality", "sector", "level"])
        s = pd.DataFrame({
            "minutes_start": g["start"].median(), "minutes_end_none": g["end_none"].median(),
            "minutes_end_rule": g["end_rule"].median(), "lost_none": g["lost_none"].mean(),
            "lost_rule": g["lost_rule"].mean(), "beyond_reach_none": g["beyond_none"].mean(),
            "beyond_reach_rule": g["beyond_rule"].mean(), "replications": g.size(),
        }).reset_index()
        s = s[s["lost_none"] > 0].assign(region=region, arm=arm, reference=ref, max_travel_minutes=limit)
        parts.append(s)
    out = pd.concat(parts, ignore_index=True).replace([np.inf, -np.inf], np.nan)
    out = out.sort_values(["region", "arm", "lost_none", "level", "sector", "municipality"],
                          ascending=[True, True, False, True, True, True])
    return out[LOST_COLUMNS].reset_index(drop=True)


def _minutes_at(acc: pd.DataFrame, runs: pd.DataFrame, year: int, name: str) -> pd.Series:
    sel = acc[acc["run"].isin(runs["run"]) & (acc["school_year"] == year)]
    return sel.set_index(["pair", "municipality", "sector", "level"])["minutes"].rename(name)


def markdown_lines(effects: pd.DataFrame, lost: pd.DataFrame, table) -> list[str]:
    """The report's section on the rule: the cumulative effects at the horizon and the
    municipalities losing access at any level (``table`` renders a frame as markdown)."""
    if effects.empty:
        return []
    horizon = effects[(effects["scope"] == "cumulative")
                      & (effects["school_year"] == effects.groupby(["region", "arm"])["school_year"].transform("max"))]
    show = horizon.assign(per_million_eur=horizon["per_eur"] * 1e6)[
        ["region", "arm", "school_year", "metric", "diff_mean", "ci_low", "ci_high", "n", "cost_eur",
         "per_million_eur", "eur_per_student"]]
    lines = ["## Minimal coverage: students kept, per euro", "",
             "Paired against `none` (same seed), summed over the school years up to the horizon: kept in mbo = "
             "Δ mbo entrants, kept in the region = Δ entrants at sites in the region, kept within reach = Δ school "
             "leavers with an open opleiding of their (expected) sector within `max_travel_minutes` by the "
             "students' travel mode; `cost_eur` = the rule's mean cost over those years, `per_million_eur` = "
             "kept ÷ cost × 10⁶ (ratio of means). Per year and cumulatively: `coverage_effects.csv`.", "",
             table(show.round(3)), ""]
    lines += ["## Municipalities losing access without the rule", "",
              "Any level of the sector (level 0): share of replications in which an open opleiding was within "
              "`max_travel_minutes` in the first school year and no longer is at the horizon, without the rule "
              "(`lost_none`) and with it (`lost_rule`); median minutes. Each level 1–4: `access_lost.csv`.", ""]
    any_lvl = lost[lost["level"] == 0].drop(columns=["reference", "level", "max_travel_minutes"])
    lines += [table(any_lvl.round(3)) if not any_lvl.empty else "_none_", ""]
    return lines
