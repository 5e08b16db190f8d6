"""Population accounting: persons are conserved, counts are non-negative, the entering cohorts
are the data's younger age bands aged forward, and ages and statuses stay valid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR

from sim.agents.population import FIELDS
from sim.codes import Status
from sim.processes.demography import DATA_YEAR, ENTRY_AGE
from sim.regions import REGION_LABELS


# --- conservation -------------------------------------------------------------------------------
def test_persons_conserved_every_month(zeeland_model):
    m = zeeland_model
    persons = m.demography.persons
    entries = sum(m.demography.entries.values())
    exits = sum(m.demography.exits.values())
    expected = persons[:-1] + entries - exits
    bad = np.flatnonzero(expected != persons[1:])
    assert bad.size == 0, (
        f"months {bad.tolist()}: start + entries - exits = {expected[bad].tolist()} "
        f"but end = {persons[1:][bad].tolist()}"
    )
    # the accounting is not vacuous: people did enter and leave
    assert entries.sum() > 0 and exits.sum() > 0


def test_flows_frame_matches_counts(zeeland_model, zeeland_frames):
    flows = zeeland_frames["flows"]
    ent = flows.filter(like="entries_").sum(axis=1)
    ext = flows.filter(like="exits_").sum(axis=1)
    np.testing.assert_allclose(flows["persons_start"] + ent - ext, flows["persons_end"], rtol=1e-9)
    # each January's persons are those the population table counts person by person
    jan = flows[flows["date"].dt.month == 1]
    jan = jan.set_index(jan["date"].dt.year)["persons_end"]
    by_year = zeeland_frames["population"].groupby("year")["persons"].sum()
    assert len(jan) == zeeland_model.cfg.years
    np.testing.assert_allclose(jan.to_numpy(), by_year.reindex(jan.index).to_numpy(), rtol=1e-9)


# --- non-negative ---------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ["labour", "education", "population", "flows", "llo", "municipalities"])
def test_no_negative_counts(zeeland_frames, table):
    df = zeeland_frames[table]
    assert len(df) > 0
    num = df.select_dtypes(include="number")
    assert num.shape[1] > 0
    for col in num.columns:
        values = num[col]
        if table == "labour" and "tightness" in col:  # a ratio: NaN where nobody seeks work
            values = values.dropna()
        else:
            assert not values.isna().any(), f"{table}.{col} has NaN"
        assert (values >= 0).all(), f"{table}.{col} has negative values: {values[values < 0].head().tolist()}"


def test_tightness_nan_only_without_job_seekers(zeeland_frames):
    """tightness = vacancies / job seekers; NaN exactly where there are no job seekers."""
    lab = zeeland_frames["labour"]
    nan = lab["tightness"].isna()
    assert (lab.loc[nan, "job_seekers"] == 0).all()
    ok = ~nan
    np.testing.assert_allclose(lab.loc[ok, "tightness"], lab.loc[ok, "vacancies"] / lab.loc[ok, "job_seekers"])


# --- entering cohorts ------------------------------------------------------------------------------
def data_bands(region: str) -> pd.DataFrame:
    """Persons per municipality (name) × age band, 1 Jan 2021, read straight from the CSV."""
    pop = pd.read_csv(DATA_DIR / "population_by_age_band_2021.csv", comment="#", skipinitialspace=True)
    pop = pop[pop["region"] == REGION_LABELS[region]]
    return pop.pivot_table(index="municipality", columns="age_band", values="persons", aggfunc="sum")


def band_of(age_2021: int) -> str:
    lo = 5 * (age_2021 // 5)
    return f"{lo}-{lo + 4}"


COHORT_SCALE = 0.05
COHORT_START = 2022  # the earliest start that puts every 0-14 band of 2021 inside the run
COHORT_YEARS = 15  # 15-year-olds of 2022 … 2036: the 0-14-year-olds of 2021


@pytest.fixture(scope="module")
def cohorts_by_year(small_cfg):
    """Run year by year without migration and record the 15-year-olds per municipality after
    each January (without migration, the only 15-year-olds are the entering cohort)."""
    from sim.io.loaders import load_region
    from sim.model import RegionModel

    cfg = small_cfg(region="zeeland", scale=COHORT_SCALE, years=COHORT_YEARS, start_year=COHORT_START,
                    **{"demography.out_migration_factor": 0, "demography.in_migration_factor": 0})
    model = RegionModel(cfg, load_region("zeeland", cfg.data_dir))
    names = model.data.municipality_names
    out = {}
    for y in range(COHORT_YEARS):
        model.run_for(12)
        year = COHORT_START + y
        young = model.pop.age == ENTRY_AGE
        counts = np.bincount(model.pop.municipality[young], minlength=len(names))
        out[year] = pd.Series(counts, index=names)
    return model, out


def test_entering_cohorts_follow_data_bands(cohorts_by_year):
    model, got = cohorts_by_year
    bands = data_bands("zeeland")
    last = min(COHORT_START + COHORT_YEARS - 1, DATA_YEAR + ENTRY_AGE)  # 2036: the last data cohort
    years = list(range(COHORT_START + 1, last + 1))
    assert years[-1] == 2036 and 2026 in years
    for year in years:
        age_2021 = ENTRY_AGE - (year - DATA_YEAR)
        band = band_of(age_2021)
        expected = np.round(COHORT_SCALE * bands[band] / 5).reindex(got[year].index)
        assert not expected.isna().any(), "municipality names of model and data differ"
        diff = (got[year] - expected).abs()
        assert (diff <= 1).all(), f"{year} (band {band}): cohort off by more than 1 person: {diff[diff > 1].to_dict()}"
        # the regional cohort is close to a fifth of the band, and not empty
        assert abs(got[year].sum() - COHORT_SCALE * bands[band].sum() / 5) <= len(expected)
        assert got[year].sum() > 0


@pytest.mark.parametrize("band", ["10-14", "5-9", "0-4"])
def test_five_cohorts_add_up_to_their_band(cohorts_by_year, band):
    """The five single-year cohorts of one band add up to the band (±1 per municipality).
    The 15-year-olds of the start year are the base population, built from the same table."""
    _, got = cohorts_by_year
    bands = data_bands("zeeland")
    lo = int(band.split("-")[0])
    years = [2036 - a for a in range(lo, lo + 5)]  # age a in 2021 is 15 in 2036 - a
    assert all(y in got for y in years), f"band {band} is only partly inside the run"
    total = sum(got[y] for y in years)
    expected = (COHORT_SCALE * bands[band]).reindex(total.index)
    diff = (total - expected).abs()
    assert (diff <= 1).all(), f"band {band}: five cohorts differ from the band by {diff[diff > 1].to_dict()}"


def test_flows_cohort_entries_match_demography(zeeland_model, zeeland_frames):
    m = zeeland_model
    flows = zeeland_frames["flows"]
    jan = flows[flows["date"].dt.month == 1]
    start = m.cfg.start_year
    assert len(jan) == m.cfg.years
    for _, row in jan.iterrows():
        year = row["date"].year
        expected = 0.0 if year == start else m.demography.cohort(year).sum() / m.cfg.scale
        assert row["entries_cohort"] == pytest.approx(expected), year
        if year > start:
            assert row["entries_cohort"] > 0
    # cohorts enter only in January
    assert (flows.loc[flows["date"].dt.month != 1, "entries_cohort"] == 0).all()


# --- ages and statuses -----------------------------------------------------------------------------
def test_ages_and_statuses_valid(zeeland_model):
    pop = zeeland_model.pop
    pension_age = zeeland_model.cfg.model.population.pension_age
    assert pop.n > 0
    assert pop.age.min() >= ENTRY_AGE
    assert pop.age.max() <= pension_age - 1
    valid = {int(s) for s in Status}
    assert set(np.unique(pop.status).tolist()) <= valid
    # every field is one entry per person, of its declared type (no process replaced a column)
    for name, (dtype, _) in FIELDS.items():
        assert getattr(pop, name).shape == (pop.n,) and getattr(pop, name).dtype == dtype, name
    assert pop.municipality.min() >= 0 and pop.municipality.max() < zeeland_model.n_municipalities
    # students have a programme, non-students (outside LLO at an mbo) carry no mbo status
    students = (pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL)
    assert students.any()
    assert (pop.programme[students] >= 0).all()


def test_ages_valid_after_long_run(cohorts_by_year):
    model, _ = cohorts_by_year
    pension_age = model.cfg.model.population.pension_age
    assert model.pop.age.min() >= ENTRY_AGE
    assert model.pop.age.max() <= pension_age - 1
    assert set(np.unique(model.pop.status).tolist()) <= {int(s) for s in Status}
