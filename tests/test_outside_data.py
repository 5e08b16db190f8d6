"""Checks of the out-of-region data: outside sites, the inflow ring, study flows, and the issue-11 corrections."""

from pathlib import Path

import pandas as pd
import pytest

from sim.io.loaders import AGE_BANDS

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"

OUTSIDE_SITES = {
    "achterhoek": {"Zutphen", "Apeldoorn", "Arnhem", "Nijmegen", "Enschede", "Hengelo"},
    "zeeland": {"Bergen op Zoom", "Roosendaal", "Rotterdam"},
    "zuid_limburg": {"Roermond", "Venlo"},
}
RING = {
    "Achterhoek": {"Lochem", "Zutphen", "Doesburg", "Zevenaar", "Haaksbergen"},
    "Zeeland": {"Bergen op Zoom", "Woensdrecht", "Steenbergen", "Goeree-Overflakkee"},
    "Zuid-Limburg": {"Echt-Susteren", "Roerdalen", "Maasgouw", "Roermond"},
}
# test-only coordinates (approximate municipal centres, WGS84) for the sites external_sites.csv may not list yet
FIXTURE_COORDS = {
    "Zutphen": (52.14, 6.20), "Apeldoorn": (52.21, 5.97), "Arnhem": (51.98, 5.91), "Nijmegen": (51.84, 5.85),
    "Enschede": (52.22, 6.90), "Hengelo": (52.27, 6.79), "Bergen op Zoom": (51.49, 4.29),
    "Roosendaal": (51.53, 4.46), "Rotterdam": (51.92, 4.48), "Roermond": (51.19, 5.99), "Venlo": (51.37, 6.17),
}


@pytest.fixture(scope="module")
def inst():
    return pd.read_csv(DATA / "institutions.csv", dtype={"brin": str})


@pytest.fixture(scope="module")
def ring():
    return pd.read_csv(DATA / "ring_municipalities.csv", dtype={"gm_code": str})


@pytest.fixture(scope="module")
def bands():
    return pd.read_csv(DATA / "ring_population_by_age_band_2021.csv", dtype={"gm_code": str})


def test_outside_sites_present_per_region(inst):
    out = inst[~inst["in_region"]]
    for region, sites in OUTSIDE_SITES.items():
        got = set(out.loc[out["region"] == region, "site"])
        assert got == sites, (region, got)
    # every outside row is a full institution x site x sector row
    assert (out["students_base"] > 0).all()
    assert out["bbl_share"].between(0, 1).all()
    assert out["source"].str.contains("in_region=false").all()
    for (region, site), g in out.groupby(["region", "site"]):
        assert g["sector"].is_unique and len(g) >= 5, (region, site)


def test_outside_sites_not_in_region_municipalities(inst):
    muni = pd.read_csv(DATA / "municipalities.csv")
    assert not set(inst.loc[~inst["in_region"], "site"]) & set(muni["municipality"])
    assert set(inst.loc[inst["in_region"], "site"]) <= set(muni["municipality"])


def test_institution_totals_file(inst):
    tot = pd.read_csv(DATA / "outside_institution_totals.csv")
    assert set(tot["institution"]) == set(inst.loc[~inst["in_region"], "institution"])
    assert tot["source"].str.strip().ne("").all()
    sourced = tot[tot["status"].str.startswith("sourced")]
    assert len(sourced) >= 4 and (pd.to_numeric(sourced["students_total"]) > 1000).all()
    # a site never holds more students than its sourced institution total
    for row in sourced.itertuples():
        site_total = inst.loc[inst["institution"] == row.institution, "students_base"].sum()
        assert site_total <= float(row.students_total), row.institution


def test_edudelta_absent_and_green_at_scalda_goes(inst):
    assert "Edudelta College" not in set(inst["institution"])
    lists = pd.read_csv(DATA / "programme_lists.csv")
    assert "Edudelta College" not in set(lists["institution"])
    green = inst[(inst["institution"] == "Scalda") & (inst["site"] == "Goes") & (inst["sector"] == "green")]
    assert len(green) == 1 and green["source"].str.contains("Edudelta").all()
    port = pd.read_csv(DATA / "portfolio.csv")
    assert "Edudelta College" not in set(port["institution"])


def test_hoornbeeck_total(inst):
    total = inst.loc[inst["institution"] == "Hoornbeeck College", "students_base"].sum()
    assert 650 <= total <= 800, total


def test_ring_municipalities(ring):
    assert ring["gm_code"].is_unique and ring["gm_code"].str.fullmatch(r"GM\d{4}").all()
    assert {r: set(g["municipality"]) for r, g in ring.groupby("region")} == RING
    muni = pd.read_csv(DATA / "municipalities.csv")
    assert not set(ring["gm_code"]) & set(muni["gm_code"])
    assert not set(ring["municipality"]) & set(muni["municipality"])
    assert (ring["population"] > 5000).all() and ring["year"].between(2015, 2025).all()
    assert ring["source"].str.strip().ne("").all()


def test_ring_bands_match_sourced_totals(ring, bands):
    assert set(bands["gm_code"]) == set(ring["gm_code"])
    assert not bands.duplicated(["gm_code", "age_band"]).any()
    for code, g in bands.groupby("gm_code"):
        assert list(g["age_band"]) == AGE_BANDS, code
        total = int(ring.loc[ring["gm_code"] == code, "population"].iloc[0])
        assert abs(g["persons"].sum() - total) <= 0.01 * total, code
    assert (bands["persons"] >= 0).all() and (bands["men"] + bands["women"] == bands["persons"]).all()
    assert bands["source"].str.startswith("assumption").all()
    # same region label as the ring file
    merged = bands.merge(ring[["gm_code", "region"]], on="gm_code", suffixes=("", "_ring"))
    assert (merged["region"] == merged["region_ring"]).all()


def test_study_flows():
    flows = pd.read_csv(DATA / "study_flows.csv")
    assert flows["value"].between(0, 1).all()
    assert flows["source"].notna().all() and flows["source"].str.strip().ne("").all()
    assert set(flows["region"]) == {"achterhoek", "zeeland", "zuid_limburg"}
    assert not flows.duplicated(["region", "quantity"]).any()
    for region in ("achterhoek", "zeeland", "zuid_limburg"):
        assert "outflow_share" in set(flows.loc[flows["region"] == region, "quantity"])
    assert flows["quantity"].str.startswith("cross_border").any()


@pytest.mark.parametrize("region", ["achterhoek", "zeeland", "zuid_limburg"])
def test_loader_accepts_outside_sites(tmp_path, region):
    """The loader needs coordinates for every site; the ones external_sites.csv lacks are added here only."""
    import shutil

    from sim.io.loaders import load_region

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    ext = pd.read_csv(data / "external_sites.csv", comment="#")
    extra = [(m, *c) for m, c in FIXTURE_COORDS.items() if m not in set(ext["municipality"])]
    ext = pd.concat([ext, pd.DataFrame(extra, columns=ext.columns)], ignore_index=True)
    ext.to_csv(data / "external_sites.csv", index=False)
    rd = load_region(region, data)
    assert OUTSIDE_SITES[region] <= set(rd.institutions.loc[~rd.institutions["in_region"], "site"])
    assert OUTSIDE_SITES[region] <= set(rd.site_coordinates)
    assert OUTSIDE_SITES[region] <= set(rd.portfolio["site"])
