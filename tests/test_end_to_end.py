"""A run of each region writes a complete, self-describing results folder in real persons."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import DATA_DIR, MUNICIPALITY_COUNTS

from sim.io.loaders import FILES
from sim.io.writer import TABLES
from sim.regions import REGION_LABELS, REGIONS
from sim.runner import run

E2E = {"scale": 0.03, "years": 3}
PLOT_REGION = "zeeland"  # plots are slow: written for one region only

COLUMNS = {
    "labour": ["date", "sector", "employed", "vacancies", "hard_to_fill", "job_seekers", "hires",
               "separations", "tightness"],
    "education": ["school_year", "institution", "programme_id", "sector", "level", "route", "location",
                  "open", "intake", "enrolled", "graduates"],
    "events": ["date", "programme_id", "institution", "sector", "level", "location", "event", "reason"],
    "population": ["year", "municipality", "age_band", "status", "persons"],
}
SUMMARY_KEYS = ["persons_start", "persons_end", "programmes_open_start", "programmes_open_end", "closures",
                "intake_first_year", "intake_last_year", "hard_to_fill_start", "hard_to_fill_end",
                "hard_to_fill_end_by_sector", "tightness_end_by_sector"]
PLOTS = 4


@pytest.fixture(scope="module")
def region_runs(small_cfg, tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    return {
        r: run(small_cfg(region=r, write_plots=(r == PLOT_REGION), **E2E), base / r / "run") for r in REGIONS
    }


@pytest.fixture(params=REGIONS)
def region(request):
    return request.param


def load_json(path):
    return json.loads(path.read_text())


def test_folder_complete_no_leftovers(region_runs, region):
    out = region_runs[region]
    for t in TABLES:
        assert (out / f"{t}.parquet").is_file(), t
    assert (out / "summary.json").is_file() and (out / "manifest.json").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["run"], "temporary folder left beside the run"


def test_manifest(region_runs, region, small_cfg):
    m = load_json(region_runs[region] / "manifest.json")
    assert m["status"] == "complete"
    assert m["seed"] == small_cfg(region=region, **E2E).seed
    assert m["config"]["region"]["name"] == region
    assert m["config"]["scale"] == E2E["scale"] and m["config"]["years"] == E2E["years"]
    assert isinstance(m["packages"], dict)
    for pkg in ("mesa", "numpy", "pandas", "hydra-core"):
        assert m["packages"].get(pkg), f"version of {pkg} missing"
    assert "git_commit" in m
    sha = m["data_sha256"]
    assert sorted(p.rsplit("/", 1)[-1] for p in sha) == sorted(FILES.values())
    for path, digest in sha.items():
        assert re.fullmatch(r"[0-9a-f]{64}", digest), (path, digest)
    assert len(set(sha.values())) == len(sha)  # different files, different digests
    assert isinstance(m["wall_seconds"], int | float) and m["wall_seconds"] > 0
    assert 0 < m["simulate_seconds"] <= m["wall_seconds"]


@pytest.mark.parametrize("table", list(COLUMNS))
def test_table_columns(region_runs, region, table):
    df = pd.read_parquet(region_runs[region] / f"{table}.parquet")
    missing = [c for c in COLUMNS[table] if c not in df.columns]
    assert not missing, f"{table}.parquet lacks {missing}"
    if table != "events":
        assert len(df) > 0


def test_table_shapes(region_runs, region):
    out = region_runs[region]
    lab = pd.read_parquet(out / "labour.parquet")
    assert lab["date"].nunique() == 12 * E2E["years"]
    assert lab.groupby("date")["sector"].nunique().eq(11).all()
    edu = pd.read_parquet(out / "education.parquet")
    assert sorted(edu["school_year"].unique()) == list(range(2025, 2025 + E2E["years"]))
    assert set(edu["route"]) <= {"BOL", "BBL"} and set(edu["level"]) <= {1, 2, 3, 4}
    pop = pd.read_parquet(out / "population.parquet")
    assert sorted(pop["year"].unique()) == list(range(2025, 2025 + E2E["years"]))


def test_municipality_count(region_runs, region):
    pop = pd.read_parquet(region_runs[region] / "population.parquet")
    assert pop["municipality"].nunique() == MUNICIPALITY_COUNTS[region]


def test_summary(region_runs, region):
    out = region_runs[region]
    s = load_json(out / "summary.json")
    missing = [k for k in SUMMARY_KEYS if k not in s]
    assert not missing, missing
    assert len(s["hard_to_fill_end_by_sector"]) == 11 and len(s["tightness_end_by_sector"]) == 11
    ev = pd.read_parquet(out / "events.parquet")
    assert s["closures"] == int((ev["event"] == "closed").sum())
    edu = pd.read_parquet(out / "education.parquet")
    first = edu[edu["school_year"] == edu["school_year"].min()]
    assert s["programmes_open_start"] == int(first["open"].sum()) > 0
    assert s["intake_first_year"] == pytest.approx(first["intake"].sum()) and s["intake_first_year"] > 0
    lab = pd.read_parquet(out / "labour.parquet")
    last = lab[lab["date"] == lab["date"].max()]
    assert s["hard_to_fill_end"] == pytest.approx(last["hard_to_fill"].sum())


def test_results_in_real_persons(region_runs, region):
    out = region_runs[region]
    s = load_json(out / "summary.json")
    pop = pd.read_parquet(out / "population.parquet")
    first_year = pop[pop["year"] == pop["year"].min()]["persons"].sum()
    assert first_year == pytest.approx(s["persons_start"], rel=0.01)
    # real persons, not model persons: the data's residents aged 15..pension_age-1 in the start
    # year (the 2021 bands aged forward, spread evenly over the five ages of each band)
    bands = pd.read_csv(DATA_DIR / "population_by_age_band_2021.csv", comment="#", skipinitialspace=True)
    bands = bands[bands["region"] == REGION_LABELS[region]]
    by_band = bands.groupby("age_band")["persons"].sum()
    shift = 2025 - 2021
    expected = sum(by_band[f"{5 * (a // 5)}-{5 * (a // 5) + 4}"] / 5 for a in range(15 - shift, 67 - shift))
    assert s["persons_start"] == pytest.approx(expected, rel=0.02)


def test_persons_start_independent_of_scale(region_runs, small_cfg, tmp_path):
    """persons_start is reported in real persons, so doubling the scale hardly changes it."""
    s1 = load_json(region_runs[PLOT_REGION] / "summary.json")
    out = run(small_cfg(region=PLOT_REGION, scale=2 * E2E["scale"], years=1), tmp_path / "double")
    s2 = load_json(out / "summary.json")
    assert s2["persons_start"] == pytest.approx(s1["persons_start"], rel=0.02)


def test_plots_written_once(region_runs):
    pngs = sorted((region_runs[PLOT_REGION] / "plots").glob("*.png"))
    assert len(pngs) == PLOTS, [p.name for p in pngs]
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5_000
    for r in REGIONS:
        if r != PLOT_REGION:
            assert not (region_runs[r] / "plots").exists()
