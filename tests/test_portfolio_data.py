"""Checks of the qualification-level data: qualifications.csv, portfolio.csv and their generator."""

from pathlib import Path

import pandas as pd
import pytest

from sim.datatools import portfolio as gen

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"
SECTORS = set(gen.SECTORS)


@pytest.fixture(scope="module")
def quals():
    return pd.read_csv(DATA / "qualifications.csv")


@pytest.fixture(scope="module")
def port():
    return pd.read_csv(DATA / "portfolio.csv")


@pytest.fixture(scope="module")
def inst():
    return pd.read_csv(DATA / "institutions.csv", dtype={"brin": str})


def test_qualifications_valid(quals):
    assert quals["crebo"].is_unique
    assert quals["level"].between(1, 4).all()
    assert set(quals["sector"]) <= SECTORS
    assert quals["duration_years"].between(1, 4).all()
    assert (quals["price_factor"] >= 1).all()
    assert quals["bol"].dtype == bool and quals["bbl"].dtype == bool
    assert (quals["bol"] | quals["bbl"]).all()
    assert (quals.loc[quals["level"] == 1, "sector"] == "other").all()


def test_sector_matches_domain_mapping(quals):
    maps = pd.read_csv(DATA / "domain_sectors.csv", dtype=str).fillna("")
    assert set(maps["sector"]) <= SECTORS
    assert (gen.assign_sectors(quals, maps) == quals["sector"]).all()


def test_portfolio_refers_to_known_qualifications_and_routes(quals, port):
    assert set(port["route"]) <= {"BOL", "BBL"}
    q = quals.set_index("crebo")
    assert port["crebo"].isin(q.index).all()
    offers = port.apply(lambda r: bool(q.at[r["crebo"], r["route"].lower()]), axis=1)
    assert offers.all(), port[~offers]
    assert (port["students_base"] >= 0).all()
    assert not port.duplicated(["institution", "site", "crebo", "route"]).any()


def test_every_row_has_a_source(quals, port):
    for frame in (quals, port, pd.read_csv(DATA / "programme_lists.csv"),
                  pd.read_csv(DATA / "domain_sectors.csv")):
        col = "source" if "source" in frame else "reason"
        assert frame[col].notna().all() and (frame[col].astype(str).str.strip() != "").all()
    assert set(port["split"]) <= {"sourced", "assumption"}


def test_portfolio_keeps_institution_totals_and_bbl_share(quals, port, inst):
    p = port.merge(quals[["crebo", "sector", "level"]], on="crebo")
    for row in inst.itertuples(index=False):
        sub = p[(p["institution"] == row.institution) & (p["site"] == row.site)
                & (p["sector"] == row.sector)]
        assert sub["level"].between(row.min_level, row.max_level).all()
        total = sub["students_base"].sum()
        assert total == pytest.approx(row.students_base, abs=1e-6), row
        bbl = sub.loc[sub["route"] == "BBL", "students_base"].sum()
        if row.bol and row.bbl:
            assert bbl / total == pytest.approx(row.bbl_share, abs=1e-9), row
    # and nothing outside the institutions.csv rows
    keys = set(zip(inst["institution"], inst["site"], inst["sector"], strict=True))
    assert set(zip(p["institution"], p["site"], p["sector"], strict=True)) <= keys


def test_programme_lists_are_offered(port):
    lists = pd.read_csv(DATA / "programme_lists.csv")
    offered = set(zip(port["institution"], port["site"], port["crebo"], strict=True))
    missing = [r for r in zip(lists["institution"], lists["site"], lists["crebo"], strict=True) if r not in offered]
    assert not missing


def test_size_is_sensible(port, inst):
    inside = set(zip(inst.loc[inst["in_region"], "institution"], inst.loc[inst["in_region"], "site"], strict=True))
    mask = [k in inside for k in zip(port["institution"], port["site"], strict=True)]
    units = port[mask].drop_duplicates(["region", "institution", "site", "crebo"]).groupby("region").size()
    assert units.between(50, 600).all(), units


def test_national_sizes_use_in_region_rows_only(quals, inst):
    """Outside sites (in_region=false) hold whole-site sizes: they must not move the national sector split."""
    sizes = gen.national_sizes(quals, inst)
    inside = gen.national_sizes(quals, inst[inst["in_region"]])
    pd.testing.assert_frame_equal(sizes, inside)
    assert set(inst["in_region"]) == {True, False}


def test_generator_is_deterministic_and_up_to_date(tmp_path):
    assert gen.main(["--check"]) == 0
    _, _, first = gen.build()
    _, _, second = gen.build()
    pd.testing.assert_frame_equal(first, second)
