"""Person conservation checked against counts made here, not by the demography process.

Every person gets an identity number (an extra column of the person store, added for these
runs only), the model runs month by month, and each month's persons are compared with the
previous month's: who is still there, who left, who is new, and how old everyone is. The
expected entries come straight from the CBS file (data/population_by_age_band_2021.csv) at the
model's scale and rounding. A process that copies, loses or re-creates a person, ages someone
twice, moves someone, or adds anyone outside the January entries fails these tests; so does a
results table (population, flows) that disagrees with the persons themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR
from scipy.interpolate import PchipInterpolator

from sim.agents.population import FIELDS
from sim.codes import Status
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.runner import tables_and_summary

ENTRY_AGE, DATA_YEAR = 15, 2021
REGION, YEARS = "zeeland", 5
CLOSED = {"demography.mortality_factor": 0, "demography.out_migration_factor": 0,
          "demography.in_migration_factor": 0,
          "model.labour.labour_migrant_return_rate": 0}  # nor do labour migrants come or go


@dataclass
class Month:
    month: int  # -1: the base population
    pid: np.ndarray
    age: np.ndarray
    municipality: np.ndarray
    status: np.ndarray
    reported: np.ndarray  # the status the tables report: school leavers not looking yet are inactive


@dataclass
class Tracked:
    model: RegionModel
    months: list[Month]  # [0] the base population, [m + 1] after month m
    changes: list[Change]  # [m]: from months[m] to months[m + 1]
    frames: dict[str, pd.DataFrame]


def run_tracked(cfg) -> Tracked:
    """Run ``cfg`` month by month with an identity number per person (new persons get the next
    numbers after each month) and keep every month's identities, ages, homes and statuses."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(FIELDS, "pid", (np.int64, -1))
        model = RegionModel(cfg, load_region(cfg.region.name, cfg.data_dir))

        def snapshot(month: int, next_id: int) -> tuple[Month, int]:
            pop = model.pop
            new = np.flatnonzero(pop.pid == -1)
            pop.pid[new] = np.arange(next_id, next_id + new.size)
            reported = pop.status.copy()
            reported[(pop.status == Status.UNEMPLOYED) & (pop.months_in_state <= 0)] = Status.INACTIVE
            return Month(month, pop.pid.copy(), pop.age.copy(), pop.municipality.copy(), pop.status.copy(),
                         reported), next_id + new.size

        first, next_id = snapshot(-1, 0)
        months = [first]
        for month in range(model.n_months):
            model.run_for(1)
            snap, next_id = snapshot(month, next_id)
            months.append(snap)
        frames, _ = tables_and_summary(model)
    return Tracked(model, months, [change(p, c) for p, c in zip(months[:-1], months[1:], strict=True)], frames)


def cbs_single_years(model: RegionModel) -> np.ndarray:
    """Persons per municipality (the model's order) × single year of age 0..99 on 1 January 2021
    at the model's scale, read from the CBS file: the running total over age interpolated by
    scipy's PCHIP through the band boundaries, and rounded cumulatively along age, so that each
    municipality's total is kept."""
    df = pd.read_csv(DATA_DIR / "population_by_age_band_2021.csv", comment="#", skipinitialspace=True)
    df = df[df["gm_code"].isin(model.data.municipalities["gm_code"])]
    bands = sorted(df["age_band"].unique(), key=lambda b: int(b.rstrip("+").split("-")[0]))
    assert len(bands) == 20 and bands[0] == "0-4" and bands[-1] == "95+"
    table = df.pivot_table(index="municipality", columns="age_band", values="persons", aggfunc="sum")
    table = table.reindex(index=model.data.municipality_names, columns=bands)
    assert not table.isna().any().any()
    counts = table.to_numpy(dtype=float)
    edges = np.arange(0, 5 * counts.shape[1] + 1)
    running = PchipInterpolator(edges[::5], np.hstack([np.zeros((counts.shape[0], 1)), counts.cumsum(1)]), axis=1)
    per_age = np.round(np.diff(running(edges), axis=1) * model.cfg.scale, 9)
    return np.diff(np.rint(np.cumsum(per_age, axis=1)), axis=1, prepend=0).astype(np.int64)


def cbs_cohort(model: RegionModel, year: int) -> np.ndarray:
    """The 15-year-olds entering on 1 January ``year`` per municipality: those aged
    15 - (year - 2021) in 2021 (the years of this test are all inside the data)."""
    age_2021 = ENTRY_AGE - (year - DATA_YEAR)
    assert age_2021 >= 0
    return cbs_single_years(model)[:, age_2021]


@dataclass
class Change:
    """From one month to the next: positions of the survivors in both months, of the persons
    who left (previous month) and of the new persons (this month)."""

    stay_prev: np.ndarray
    stay_cur: np.ndarray
    left: np.ndarray
    new: np.ndarray


def change(prev: Month, cur: Month) -> Change:
    assert np.unique(cur.pid).size == cur.pid.size, f"month {cur.month}: a person is there twice"
    assert (cur.pid >= 0).all()
    _, stay_prev, stay_cur = np.intersect1d(prev.pid, cur.pid, assume_unique=True, return_indices=True)
    left = np.setdiff1d(np.arange(prev.pid.size), stay_prev)
    new = np.setdiff1d(np.arange(cur.pid.size), stay_cur)
    # identities are never reused: a new person has a number above every earlier one
    assert (cur.pid[new] > prev.pid.max(initial=-1)).all(), f"month {cur.month}: a person came back"
    return Change(stay_prev, stay_cur, left, new)


def transitions(tracked: Tracked, january: bool | None = None):
    """(previous month, month, change) for every month, or only the Januaries after the first
    year (``january=True``, when persons enter and leave), or only the other months (``False``)."""
    for prev, cur, c in zip(tracked.months[:-1], tracked.months[1:], tracked.changes, strict=True):
        if january is None or january == (cur.month % 12 == 0 and cur.month > 0):
            yield prev, cur, c


@pytest.fixture(scope="module")
def closed(small_cfg) -> Tracked:
    """No deaths and no migration: the only entries are the cohorts, the only exits retirement."""
    return run_tracked(small_cfg(region=REGION, years=YEARS, **CLOSED))


@pytest.fixture(scope="module")
def open_run(small_cfg) -> Tracked:
    return run_tracked(small_cfg(region=REGION, years=YEARS))


@pytest.fixture(params=["closed", "open_run"])
def tracked(request) -> Tracked:
    return request.getfixturevalue(request.param)


def test_base_population_is_the_cbs_table_aged_forward(tracked):
    model, base = tracked.model, tracked.months[0]
    pension_age = model.cfg.model.population.pension_age
    shift = model.cfg.start_year - DATA_YEAR
    table = cbs_single_years(model)
    ages = np.arange(ENTRY_AGE, pension_age)
    expected = table[:, ages - shift]  # municipality × age in the start year
    got = np.zeros_like(expected)
    np.add.at(got, (base.municipality, base.age - ENTRY_AGE), 1)
    np.testing.assert_array_equal(got, expected)
    assert model.persons_start == base.pid.size == expected.sum() > 0


def test_nobody_appears_leaves_ages_or_moves_outside_january(tracked):
    checked = 0
    for prev, cur, c in transitions(tracked, january=False):
        assert c.left.size == 0, f"month {cur.month}: {c.left.size} persons vanished"
        assert c.new.size == 0, f"month {cur.month}: {c.new.size} persons appeared"
        np.testing.assert_array_equal(cur.age[c.stay_cur], prev.age[c.stay_prev], err_msg=f"month {cur.month}")
        np.testing.assert_array_equal(cur.municipality[c.stay_cur], prev.municipality[c.stay_prev])
        checked += 1
    assert checked == tracked.model.n_months - (YEARS - 1)


def test_january_everyone_ages_one_year_and_retirees_leave(tracked):
    model = tracked.model
    pension_age = model.cfg.model.population.pension_age
    januaries = list(transitions(tracked, january=True))
    assert len(januaries) == YEARS - 1
    for prev, cur, c in januaries:
        np.testing.assert_array_equal(cur.age[c.stay_cur], prev.age[c.stay_prev] + 1, err_msg=f"month {cur.month}")
        np.testing.assert_array_equal(cur.municipality[c.stay_cur], prev.municipality[c.stay_prev])
        retiring = np.flatnonzero(prev.age + 1 >= pension_age)
        assert retiring.size > 0
        assert np.isin(retiring, c.left).all(), "someone past the pension age stayed"
        assert cur.age.min() >= ENTRY_AGE and cur.age.max() <= pension_age - 1
        # the new cohort is there, per municipality, as the CBS file says
        year = model.cfg.start_year + cur.month // 12
        new_15 = np.bincount(cur.municipality[c.new][cur.age[c.new] == ENTRY_AGE], minlength=model.n_municipalities)
        cohort = cbs_cohort(model, year)
        assert cohort.sum() > 0
        assert (new_15 >= cohort).all(), f"{year}: new 15-year-olds {new_15} below the cohort {cohort}"


def test_closed_population_changes_by_exactly_cohort_minus_retirees(closed):
    """Without deaths and migration, every January: the persons who leave are exactly those who
    reach the pension age, the new persons exactly the CBS cohort (15-year-olds at secondary
    school, in their municipality), and the population changes by exactly the difference."""
    model = closed.model
    pension_age = model.cfg.model.population.pension_age
    for prev, cur, c in transitions(closed, january=True):
        retiring = np.flatnonzero(prev.age + 1 >= pension_age)
        np.testing.assert_array_equal(c.left, retiring)
        year = model.cfg.start_year + cur.month // 12
        cohort = cbs_cohort(model, year)
        assert (cur.age[c.new] == ENTRY_AGE).all()
        np.testing.assert_array_equal(np.bincount(cur.municipality[c.new], minlength=cohort.size), cohort)
        assert (cur.status[c.new] == Status.SCHOOL).all(), "a new 15-year-old is not at secondary school"
        assert cur.pid.size == prev.pid.size + cohort.sum() - retiring.size
    # over the whole run: the base population minus all retirees plus all cohorts, nothing else
    base, end = closed.months[0], closed.months[-1]
    retired = np.count_nonzero(base.age + (YEARS - 1) >= pension_age)
    cohorts = sum(cbs_cohort(model, model.cfg.start_year + k).sum() for k in range(1, YEARS))
    assert end.pid.size == base.pid.size - retired + cohorts


def test_open_population_entries_and_exits_happen(open_run):
    """With deaths and migration the same accounting holds, and people do die or leave below the
    pension age and arrive at other ages than 15 (so the checks above saw them)."""
    pension_age = open_run.model.cfg.model.population.pension_age
    early_exits = other_entries = 0
    for prev, cur, c in transitions(open_run, january=True):
        early_exits += np.count_nonzero(prev.age[c.left] + 1 < pension_age)
        other_entries += np.count_nonzero(cur.age[c.new] > ENTRY_AGE)
        assert cur.pid.size == prev.pid.size + c.new.size - c.left.size
    assert early_exits > 0 and other_entries > 0


def test_population_table_is_the_persons_each_january(tracked):
    """The population table (persons by year × municipality × age band × status, end of January)
    holds exactly the persons of that month, counted here from the arrays."""
    model = tracked.model
    pop = tracked.frames["population"]
    years = sorted(pop["year"].unique())
    assert years == list(range(model.cfg.start_year, model.cfg.start_year + YEARS))
    names = model.data.municipality_names
    statuses = list(pop["status"].drop_duplicates())
    labels = list(pop["age_band"].drop_duplicates())
    lows = np.array([int(b.split("-")[0]) for b in labels])
    for k, year in enumerate(years):
        snap = tracked.months[12 * k + 1]  # after month 12k (January of year k)
        assert snap.month == 12 * k
        band = np.searchsorted(lows, snap.age, side="right") - 1
        counts = np.zeros((len(names), len(labels), len(statuses)), dtype=np.int64)
        np.add.at(counts, (snap.municipality, band, snap.reported), 1)
        got = pop[pop["year"] == year].set_index(["municipality", "age_band", "status"])["persons"]
        expected = pd.Series(counts.reshape(-1) / model.cfg.scale,
                             index=pd.MultiIndex.from_product([names, labels, statuses]))
        assert got.sum() * model.cfg.scale == pytest.approx(snap.pid.size)
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False,
                                       check_index_type=False, obj=f"population {year}")


def test_flows_table_matches_counted_entries_and_exits(tracked):
    """The flows table's entries and exits (recorded by the demography process) are the persons
    who appeared and left, counted here; cohort entries are the CBS cohorts."""
    model = tracked.model
    flows = tracked.frames["flows"]
    k = 1 / model.cfg.scale
    pension_age = model.cfg.model.population.pension_age
    assert len(flows) == model.n_months == len(tracked.months) - 1
    for m, (prev, cur, c) in enumerate(transitions(tracked)):
        row = flows.iloc[m]
        assert row["persons_start"] == pytest.approx(prev.pid.size * k)
        assert row["persons_end"] == pytest.approx(cur.pid.size * k)
        assert row.filter(like="entries_").sum() == pytest.approx(c.new.size * k), m
        assert row.filter(like="exits_").sum() == pytest.approx(c.left.size * k), m
        assert row["exits_retirement"] == pytest.approx(np.count_nonzero(prev.age[c.left] + 1 >= pension_age) * k)
        if m % 12 == 0 and m > 0:
            year = model.cfg.start_year + m // 12
            assert row["entries_cohort"] == pytest.approx(cbs_cohort(model, year).sum() * k), year
