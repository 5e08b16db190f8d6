"""Coverage and access by the students' travel mode (issue 12): the measures against brute force,
the thresholds in order, the old measure under ``straight_line``, and the experiment report's
minimal-coverage tables (students kept per euro, municipalities losing access).

Runs use Zuid-Limburg (small scale, a few years)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EVERY_WEAK_CLOSES, small_overrides

from sim.analysis.coverage import EFFECT_COLUMNS, LOST_COLUMNS
from sim.analysis.load import load_runs
from sim.codes import N_SECTORS, SECTOR_INDEX
from sim.geography import travel_matrix, travel_minutes
from sim.hydra_config import compose
from sim.processes.education import provision
from sim.runner import run, simulate

REGION = "zuid_limburg"
# closures within a short run (as tests/test_policies.py): < 25 new students in one year closes
STRESS = {"region": REGION, "scale": 0.05, "years": 4, "model__education__viability_min_intake": 25,
          "model__education__viability_years": 1, **EVERY_WEAK_CLOSES}


@pytest.fixture(scope="module")
def model(small_cfg):
    return simulate(small_cfg(**STRESS))


def brute_nearest(edu, open_: np.ndarray) -> np.ndarray:
    """Minutes to the nearest open programme per municipality, sector and level (0 = any), by loops."""
    p = edu.programmes
    n_m = edu.travel_hp.shape[0]
    out = np.full((n_m, N_SECTORS, 5), np.inf)
    for m in range(n_m):
        for j in range(p.n):
            if open_[j]:
                s, lv, t = p.sector[j], p.level[j], edu.travel_hp[m, j]
                out[m, s, lv] = min(out[m, s, lv], t)
                out[m, s, 0] = min(out[m, s, 0], t)
    return out


def brute_shares(nearest: np.ndarray, youth: np.ndarray, minutes) -> np.ndarray:
    out = np.zeros((len(minutes), N_SECTORS, 5))
    for k, limit in enumerate(minutes):
        for s in range(N_SECTORS):
            for lv in range(5):
                out[k, s, lv] = sum(youth[m] for m in range(len(youth)) if nearest[m, s, lv] <= limit) / youth.sum()
    return out


def test_coverage_equals_brute_force(model):
    edu = model.education
    assert not edu.programmes.open.all(), "the stress run should close programmes"
    youth = edu.youth_by_municipality()
    minutes = provision.coverage_minutes(model.cfg.model.travel)
    np.testing.assert_array_equal(minutes, [30, 45, 60])
    rng = np.random.default_rng(12)
    masks = [edu.programmes.open, np.ones(edu.programmes.n, bool), np.zeros(edu.programmes.n, bool),
             *(rng.random(edu.programmes.n) < q for q in (0.05, 0.3, 0.7))]
    for open_ in masks:
        nearest = provision.nearest_minutes(edu, open_)
        np.testing.assert_array_equal(nearest, brute_nearest(edu, open_))
        np.testing.assert_allclose(provision.coverage_shares(nearest, youth, minutes),
                                   brute_shares(nearest, youth, minutes), atol=1e-12)
        share, near = edu.measure_coverage(open_, youth)  # what the minimal-coverage veto reads
        np.testing.assert_allclose(share, brute_shares(nearest, youth, [45])[0], atol=1e-12)
        np.testing.assert_array_equal(near, nearest)


def test_students_mode_is_what_coverage_and_the_veto_read(model):
    """travel_hp, which coverage (and so the minimal-coverage veto) reads, is the students' mode
    (public: the faster of public transport and bike), not the adults' car."""
    edu, travel = model.education, model.cfg.model.travel
    assert travel.mode == "public"
    homes, sites = model.data.municipality_names, list(edu.programmes.site)
    public = travel_matrix(model.data.travel, model.data.site_coordinates, homes, sites, "public", travel)
    np.testing.assert_array_equal(edu.travel_hp, public)
    assert not np.array_equal(edu.travel_hp, edu.travel_adult_hp)


def test_recorded_tables_match_the_open_programmes(model):
    """access.parquet holds, for every school year, the brute-force minutes for the programmes open
    at that intake; reach.parquet's shares rise with the minutes and equal share_within_reach at 45."""
    edu = model.education
    f = model.results.frames()
    acc = f["access"]
    for y, year in enumerate(sorted(acc["school_year"].unique())):
        expected = brute_nearest(edu, edu.open_at_intake[y].astype(bool))
        got = acc[acc["school_year"] == year].sort_values(["municipality", "sector", "level"])
        order = [model.data.municipality_names.index(m) for m in got["municipality"]]
        want = expected[order, [SECTOR_INDEX[s] for s in got["sector"]], got["level"].to_numpy()]
        np.testing.assert_array_equal(got["minutes_to_nearest"].to_numpy(), np.where(np.isfinite(want), want, np.nan))
    reach = f["reach"].pivot_table(index=["school_year", "sector", "level"], columns="minutes", values="share_within")
    assert list(reach.columns) == [30, 45, 60]
    assert (reach[30] <= reach[45] + 1e-12).all() and (reach[45] <= reach[60] + 1e-12).all()
    assert (reach[30] < reach[60]).any(), "thresholds should differ somewhere"
    cov = f["coverage"].set_index(["school_year", "sector", "level"])["share_within_reach"]
    np.testing.assert_allclose(reach[45].reindex(cov.index).to_numpy(), cov.to_numpy(), atol=1e-12)


def test_straight_line_share_at_45_is_the_old_measure(small_cfg):
    """With model.travel.mode=straight_line the share within 45 minutes is the version-0.1 measure,
    recomputed from sim.geography.travel_minutes directly."""
    m = simulate(small_cfg(**{**STRESS, "years": 2}, model__travel__mode="straight_line"))
    edu, travel = m.education, m.cfg.model.travel
    coords = m.data.site_coordinates
    tt = travel_minutes([coords[h] for h in m.data.municipality_names],
                        [coords[s] for s in edu.programmes.site], travel)
    youth = edu.youth_by_municipality()
    open_ = edu.programmes.open
    old = np.zeros((N_SECTORS, 5))
    p = edu.programmes
    for s in range(N_SECTORS):
        for lv in range(5):
            sel = open_ & (p.sector == s) & ((p.level == lv) if lv else True)
            near = tt[:, sel].min(axis=1) if sel.any() else np.full(len(youth), np.inf)
            old[s, lv] = youth[near <= 45].sum() / youth.sum()
    minutes = provision.coverage_minutes(travel)
    shares = provision.coverage_shares(provision.nearest_minutes(edu, open_), youth, minutes)
    np.testing.assert_allclose(shares[list(minutes).index(45)], old, atol=1e-12)
    # and the model's own mode differs from it: the test compares something
    public = simulate(small_cfg(**{**STRESS, "years": 2}))
    assert not np.array_equal(public.education.travel_hp, edu.travel_hp)


# --- the experiment report: students kept per euro, municipalities losing access --------------------
@pytest.fixture(scope="module")
def rule_experiment(tmp_path_factory) -> Path:
    """none and minimal_coverage, replicates 0-2, the stress setup: the rule vetoes and costs."""
    exp = tmp_path_factory.mktemp("coverage") / "exp"
    for policy in ("none", "minimal_coverage"):
        for rep in range(3):
            run(compose(small_overrides(**STRESS, policy=policy, replicate=rep)), exp / "runs" / f"{policy}-{rep}")
    return exp


@pytest.fixture(scope="module")
def rule_report(rule_experiment, tmp_path_factory) -> Path:
    import shutil

    from sim.analysis.report import build

    exp = tmp_path_factory.mktemp("coverage_report") / "exp"
    shutil.copytree(rule_experiment, exp)
    return build(exp)


# documented in README (experiment report) and ODD §7.16.1
DOCUMENTED_EFFECT_COLUMNS = ["region", "arm", "reference", "scope", "school_year", "metric", "diff_mean", "ci_low",
                             "ci_high", "n", "cost_eur", "per_eur", "per_eur_low", "per_eur_high", "eur_per_student",
                             "eur_per_student_low", "eur_per_student_high"]
DOCUMENTED_LOST_COLUMNS = ["region", "arm", "reference", "municipality", "sector", "level", "max_travel_minutes",
                           "minutes_start", "minutes_end_none", "minutes_end_rule", "lost_none", "lost_rule",
                           "beyond_reach_none", "beyond_reach_rule", "replications"]


def test_report_writes_the_coverage_tables(rule_report):
    assert EFFECT_COLUMNS == DOCUMENTED_EFFECT_COLUMNS and LOST_COLUMNS == DOCUMENTED_LOST_COLUMNS
    eff = pd.read_csv(rule_report / "coverage_effects.csv")
    lost = pd.read_csv(rule_report / "access_lost.csv")
    assert list(eff.columns) == DOCUMENTED_EFFECT_COLUMNS
    assert list(lost.columns) == DOCUMENTED_LOST_COLUMNS
    assert set(eff["metric"]) == {"kept_in_mbo", "kept_in_region", "kept_within_reach", "cost_eur"}
    assert set(eff["scope"]) == {"year", "cumulative"}
    assert (eff["n"] == 3).all()
    horizon = eff[(eff["scope"] == "cumulative") & (eff["school_year"] == eff["school_year"].max())]
    assert (horizon["cost_eur"] > 0).all(), "the stress setup should make the rule cost"
    kept = horizon[horizon["metric"] != "cost_eur"]
    assert np.isfinite(kept["per_eur"]).all()
    np.testing.assert_allclose(kept["per_eur"], kept["diff_mean"] / kept["cost_eur"])
    # the bootstrap interval of kept per euro holds its point estimate
    ok = kept["per_eur_low"].notna()
    assert ok.any()
    assert (kept.loc[ok, "per_eur_low"] <= kept.loc[ok, "per_eur"] + 1e-12).all()
    assert (kept.loc[ok, "per_eur"] <= kept.loc[ok, "per_eur_high"] + 1e-12).all()
    md = (rule_report / "report.md").read_text()
    assert "## Minimal coverage: students kept, per euro" in md
    assert "## Municipalities losing access without the rule" in md


def test_kept_students_are_paired_differences(rule_experiment, rule_report):
    """Kept in mbo / in the region / within reach, recomputed from the runs' tables by hand."""
    eff = pd.read_csv(rule_report / "coverage_effects.csv")
    runs = load_runs(rule_experiment)
    limit = 45.0

    def per_run(name: str) -> pd.Series:
        d = rule_experiment / "runs" / name
        part = pd.read_parquet(d / "participation.parquet").set_index("school_year")
        co = pd.read_parquet(d / "choice_outcomes.parquet")
        acc = pd.read_parquet(d / "access.parquet")
        acc = acc[acc["level"] == 0]
        co = co.merge(acc, on=["school_year", "municipality", "sector"])
        leavers = co["enrolled_in_region"] + co["enrolled_out_of_region"] + co["not_enrolled"]
        reach = (leavers * (co["minutes_to_nearest"] <= limit)).groupby(co["school_year"]).sum()
        pol = pd.read_parquet(d / "policy.parquet")
        cost = pol[(pol["lever"] == "minimal_coverage") & (pol["quantity"] == "cost_eur")].set_index("year")["value"]
        return pd.Series({"kept_in_mbo": part["mbo_entrants"].sum(),
                          "kept_in_region": co.groupby("school_year")["enrolled_in_region"].sum().sum(),
                          "kept_within_reach": reach.sum(), "cost_eur": cost.sum()})

    assert set(runs["run"]) == {f"{p}-{r}" for p in ("none", "minimal_coverage") for r in range(3)}
    diffs = pd.DataFrame([per_run(f"minimal_coverage-{r}") - per_run(f"none-{r}") for r in range(3)])
    horizon = eff[(eff["scope"] == "cumulative") & (eff["school_year"] == eff["school_year"].max())]
    got = horizon.set_index("metric")["diff_mean"]
    np.testing.assert_allclose(got[diffs.columns].to_numpy(), diffs.mean().to_numpy(), rtol=1e-9)
    # the year rows sum to the cumulative ones
    years = eff[eff["scope"] == "year"].groupby("metric")["diff_mean"].sum()
    np.testing.assert_allclose(years[got.index].to_numpy(), got.to_numpy(), rtol=1e-9, atol=1e-6)


def test_municipalities_losing_access_are_beyond_reach_without_the_rule(rule_experiment, rule_report):
    lost = pd.read_csv(rule_report / "access_lost.csv")
    assert not lost.empty, "the stress setup should take some sector out of reach somewhere"
    acc = {r: pd.read_parquet(rule_experiment / "runs" / f"none-{r}" / "access.parquet") for r in range(3)}
    for row in lost.itertuples():
        limit = row.max_travel_minutes
        n_lost = 0
        for a in acc.values():
            sel = a[(a["municipality"] == row.municipality) & (a["sector"] == row.sector) & (a["level"] == row.level)]
            start = sel.loc[sel["school_year"] == sel["school_year"].min(), "minutes_to_nearest"].iloc[0]
            end = sel.loc[sel["school_year"] == sel["school_year"].max(), "minutes_to_nearest"].iloc[0]
            n_lost += bool(start <= limit and not end <= limit)  # NaN: none open
        assert n_lost > 0 and n_lost / 3 == pytest.approx(row.lost_none), row
