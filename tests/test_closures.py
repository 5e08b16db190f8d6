"""Programme closure on a set-up where closures are certain: a viability bar far above every
intake, judged on one year, so that every opleiding is weak at the first review (April of the
second year). Checked only through the results tables (events, education, access) and config
keys, so that the tests hold whatever the closure machinery looks like inside.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DATA_DIR, EVERY_WEAK_CLOSES

from sim.runner import simulate, tables_and_summary

START, YEARS = 2025, 5
FIRST_REVIEW = START + 1  # viability_years = 1: the first review with one recorded intake
ALL_WEAK = {"region": "zeeland", "years": YEARS, "model__education__viability_min_intake": 100000,
            "model__education__viability_years": 1, **EVERY_WEAK_CLOSES}
OPLEIDING = ["institution", "location", "sector", "level"]  # both routes together


def frames_of(small_cfg, *extra: str) -> tuple[dict[str, pd.DataFrame], object]:
    model = simulate(small_cfg(*extra, **ALL_WEAK))
    frames, _ = tables_and_summary(model)
    return frames, model.cfg


@pytest.fixture(scope="module")
def weak(small_cfg):
    return frames_of(small_cfg)


@pytest.fixture(scope="module")
def vetoed(small_cfg):
    return frames_of(small_cfg, "policy=[minimal_coverage]", "policy.minimal_coverage.share=1.0")


def open_in(edu: pd.DataFrame, school_year: int) -> pd.DataFrame:
    """Programmes in the region open in ``school_year`` (sites outside it are not reviewed)."""
    return edu[(edu["school_year"] == school_year) & edu["open"] & edu["in_region"]]


def test_every_weak_opleiding_closes_at_the_first_review(weak):
    f, _ = weak
    edu, ev = f["education"], f["events"]
    reviewed = open_in(edu, START)  # open when the first review comes
    assert len(reviewed) > 0
    closed = ev[ev["event"] == "closed"]
    assert len(closed) > 0
    assert closed["programme_id"].is_unique, "a programme was closed twice"
    assert set(closed["programme_id"]) == set(reviewed["programme_id"])
    assert len(closed.drop_duplicates(OPLEIDING)) == len(reviewed.drop_duplicates(OPLEIDING))
    assert (closed["date"] == pd.Timestamp(f"{FIRST_REVIEW}-04-01")).all(), closed["date"].unique()
    assert set(ev["event"]) == {"closed"}


def closure_years(ev: pd.DataFrame) -> pd.Series:
    closed = ev[ev["event"] == "closed"]
    return closed.set_index("programme_id")["date"].dt.year


def assert_no_intake_after_closure(edu: pd.DataFrame, ev: pd.DataFrame) -> int:
    """Closed programmes are shut, with no intake, in every school year from the closure on;
    returns how many programme-years were checked."""
    year = closure_years(ev)
    assert len(year) > 0
    after = edu[edu["programme_id"].isin(year.index)]
    after = after[after["school_year"] >= after["programme_id"].map(year)]
    assert after["programme_id"].nunique() == len(year), "a closed programme has no school year after its closure"
    assert not after["open"].any(), "a closed programme is open again"
    assert (after["intake"] == 0).all(), "a closed programme took new students"
    return len(after)


def test_closed_programmes_take_no_intake(weak):
    f, _ = weak
    assert assert_no_intake_after_closure(f["education"], f["events"]) >= len(closure_years(f["events"]))


def test_closed_programmes_teach_out(weak):
    """The students of a closed programme finish (or drop out): its enrolment never grows after
    the closure and is 0 from the school year its last intake would have graduated."""
    f, cfg = weak
    edu = f["education"]
    quals = pd.read_csv(DATA_DIR / "qualifications.csv", comment="#").set_index("crebo")["duration_years"]
    duration = edu.drop_duplicates("programme_id").set_index("programme_id")["crebo"].map(quals)
    year = closure_years(f["events"])
    enrolled = edu[edu["programme_id"].isin(year.index)].pivot_table(
        index="programme_id", columns="school_year", values="enrolled")
    levels = edu.drop_duplicates("programme_id").set_index("programme_id")["level"]
    teaching_out = 0
    for pid, closed in year.items():
        last = closed + int(duration[pid]) - 1  # the last intake (September closed - 1) is gone by then
        assert last <= START + YEARS - 1, "the run is too short to see the teach-out"
        e = enrolled.loc[pid]
        assert (e.loc[closed:].diff().dropna() <= 0).all(), f"{pid}: enrolment grew after closure {e.to_dict()}"
        assert (e.loc[last:] == 0).all(), f"{pid} (level {levels[pid]}): students left in {e.loc[last:].to_dict()}"
        teaching_out += e.loc[closed] > 0
    assert teaching_out > 0, "no closed programme had students to teach out"


def test_minimal_coverage_at_share_one_vetoes(vetoed):
    f, _ = vetoed
    edu, ev = f["education"], f["events"]
    assert set(ev["event"]) <= {"closed", "vetoed"}
    first = ev[ev["date"].dt.year == FIRST_REVIEW]
    n_vetoed, n_closed = (first["event"] == "vetoed").sum(), (first["event"] == "closed").sum()
    assert n_vetoed > 0, "minimal coverage at share 1.0 vetoed nothing"
    assert n_closed > 0, "the rule vetoed every closure, also those that keep every leaver within reach"
    # every open programme is reviewed once and either closed or kept by a veto
    reviewed = open_in(edu, START)
    assert first["programme_id"].is_unique
    assert set(first["programme_id"]) == set(reviewed["programme_id"])
    assert ev.loc[ev["event"] == "vetoed", "reason"].str.contains("minimal coverage").all()
    # what is vetoed stays open and is vetoed again at each later review (still weak)
    for year in range(FIRST_REVIEW + 1, START + YEARS):
        kept = set(open_in(edu, year - 1)["programme_id"])
        assert kept == set(first.loc[first["event"] == "vetoed", "programme_id"]), year
        again = ev[ev["date"].dt.year == year]
        assert (again["event"] == "vetoed").all() and set(again["programme_id"]) == kept, year
    # the closures allowed take no intake either
    assert_no_intake_after_closure(edu, ev)


def reach_by_year(f: dict[str, pd.DataFrame], limit: float) -> dict[tuple[str, int], set[str]]:
    """Municipalities with an open programme of each sector within ``limit`` minutes, per year."""
    acc = f["access"]
    acc = acc[acc["level"] == 0]  # any level
    near = acc[acc["minutes_to_nearest"] <= limit]
    out = {(s, y): set() for s, y in acc[["sector", "school_year"]].drop_duplicates().itertuples(index=False)}
    for (s, y), g in near.groupby(["sector", "school_year"]):
        out[s, y] = set(g["municipality"])
    return out


def lost_reach(f: dict[str, pd.DataFrame], limit: float) -> list[str]:
    reach = reach_by_year(f, limit)
    return [f"{s} {y}: {sorted(reach[s, START] - m)}" for (s, y), m in reach.items() if not reach[s, START] <= m]


def test_minimal_coverage_at_share_one_keeps_every_municipality_in_reach(weak, vetoed):
    """At share 1.0 a closure may not take a sector out of reach of any school leaver: the set of
    municipalities with an open programme of a sector within max_travel_minutes never shrinks.
    Without the lever, everything closes and every municipality loses reach."""
    limit = vetoed[1].model.travel.max_travel_minutes
    assert lost_reach(vetoed[0], limit) == []
    base_lost = lost_reach(weak[0], limit)
    assert len(base_lost) > 0
    # every programme in the region closed: the nearest open one is at a site outside it, further away
    acc = weak[0]["access"]
    acc = acc[acc["level"] == 0].pivot_table(index=["municipality", "sector"], columns="school_year",
                                             values="minutes_to_nearest")
    before, after = acc[START], acc[FIRST_REVIEW]
    assert ((after >= before) | after.isna()).all()
    assert ((after > before) | after.isna()).mean() > 0.8  # unchanged where the nearest was outside already
