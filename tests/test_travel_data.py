"""Checks of the travel-time data: travel_minutes.csv, the pt network and its generator."""

import math
from pathlib import Path

import pandas as pd
import pytest

from sim.datatools import travel as gen

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"
TOLERANCE_SHARE = 0.25
"""Known journeys must be matched within max(TOLERANCE_MIN, 25 %)."""
TOLERANCE_MIN = 5.0
ZEEUWS_VLAANDEREN = ("Sluis", "Terneuzen", "Hulst")


@pytest.fixture(scope="module")
def travel():
    return pd.read_csv(DATA / "travel_minutes.csv")


@pytest.fixture(scope="module")
def data():
    return gen.load(DATA)


@pytest.fixture(scope="module")
def known():
    return pd.read_csv(DATA / "known_journeys.csv", comment="#")


def minutes(travel, origin, destination, mode):
    row = travel[(travel["origin"] == origin) & (travel["destination"] == destination) & (travel["mode"] == mode)]
    assert len(row) == 1, (origin, destination, mode)
    return float(row["minutes"].iloc[0])


def test_columns_and_values(travel):
    assert list(travel.columns) == ["origin", "destination", "mode", "minutes", "method", "source"]
    assert set(travel["mode"]) == {"pt", "bike", "car"}
    assert set(travel["method"]) <= {"sourced", "network", "estimate"}
    assert travel["minutes"].map(math.isfinite).all()
    assert (travel["minutes"] > 0).all()
    assert travel["source"].notna().all() and (travel["source"].str.strip() != "").all()
    assert not travel.duplicated(["origin", "destination", "mode"]).any()


def test_every_needed_pair_in_both_modes(travel, data):
    need = {(o, t) for _, o, t in gen.pairs(data)}
    have = travel.groupby(["origin", "destination"])["mode"].apply(set)
    assert set(have.index) == need | {(o, t) for _, o, t in gen.car_pairs(data)}
    assert all({"pt", "car"} <= have[pair] for pair in need)
    assert all("car" in modes for modes in have)
    # every municipality of a region reaches every other by car (commuting)
    for label in gen.REGIONS.values():
        names = data["muni"].loc[data["muni"]["region"] == label, "municipality"]
        assert all("car" in have[(o, t)] for o in names for t in names)
    muni = data["muni"]
    assert len(muni) == 37
    origins = set(travel["origin"])
    assert set(muni["municipality"]) <= origins
    assert {m for ring in gen.RING.values() for m in ring} <= origins
    # spheres: Achterhoek origins do not go to Zeeland sites; everyone goes to the outside sites
    assert travel[(travel["origin"] == "Winterswijk") & (travel["destination"] == "Vlissingen")].empty
    assert set(gen.OUTSIDE_SITES) <= set(travel.loc[travel["origin"] == "Vaals", "destination"])
    # intra-municipal rows exist for origins that are also destinations
    for place in ("Goes", "Doetinchem", "Heerlen", "Zutphen", "Roermond"):
        assert minutes(travel, place, place, "pt") > 0


def test_generator_check_is_clean():
    assert gen.main(["--check"]) == 0


def test_generator_check_fails_on_a_stale_file(tmp_path):
    for name in ("pt_network.csv", "pt_access.csv", "municipalities.csv", "external_sites.csv",
                 "institutions.csv"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    text = (DATA / "travel_minutes.csv").read_text(encoding="utf-8")
    (tmp_path / "travel_minutes.csv").write_text(text.replace(",pt,", ",pt,1", 1), encoding="utf-8")
    assert gen.main(["--check", "--data-dir", str(tmp_path)]) == 1


def test_external_sites_cover_all_places(data):
    coords = gen.coordinates(data)
    places = {p for _, o, t in gen.pairs(data) for p in (o, t)}
    assert places <= set(coords)


def test_known_journeys(known, travel, data):
    assert {"sourced", "estimate"} >= set(known["evidence"])
    assert (known["evidence"] == "sourced").sum() >= 5
    for r in known.itertuples():
        if r.scope == "station":
            model = gen.station_minutes(data["network"], r.origin, r.destination,
                                        r.line if isinstance(r.line, str) else None)
        else:
            model = minutes(travel, r.origin, r.destination, "car" if r.scope == "car" else "pt")
        tol = max(TOLERANCE_MIN, TOLERANCE_SHARE * r.minutes)
        assert abs(model - r.minutes) <= tol, (r.origin, r.destination, r.scope, model, r.minutes)


@pytest.mark.parametrize("origin,destination", [("Sluis", "Middelburg"), ("Winterswijk", "Doetinchem"),
                                                ("Vaals", "Heerlen")])
def test_named_known_journeys_are_listed(known, origin, destination):
    assert ((known["origin"] == origin) & (known["destination"] == destination)).any()


def test_westerschelde_is_water(travel, data):
    old = gen.great_circle_km(gen.coordinates(data)["Sluis"], gen.coordinates(data)["Vlissingen"]) * 1.3 / 45 * 60
    assert old < 30  # the straight line of the old model
    pt = minutes(travel, "Sluis", "Vlissingen", "pt")
    assert pt > 45  # ferry + bike to Breskens + waiting
    rides = gen.pt_path(DATA, "Sluis", "Vlissingen")
    assert any(leg["mode"] == "ferry" for leg in rides)
    car = minutes(travel, "Sluis", "Vlissingen", "car")
    assert 50 <= car <= 75  # through the tunnel
    assert "Westerscheldetunnel" in travel[(travel["origin"] == "Sluis") & (travel["destination"] == "Vlissingen")
                                           & (travel["mode"] == "car")]["source"].iloc[0]


@pytest.mark.parametrize("origin", ZEEUWS_VLAANDEREN)
def test_zeeuws_vlaanderen_to_goes_passes_the_tunnel_or_ferry(origin):
    modes = {m for leg in gen.pt_path(DATA, origin, "Goes") for m in leg["modes"]}
    assert modes & {"tunnel-bus", "ferry"}
    if origin in ("Terneuzen", "Hulst"):
        assert "tunnel-bus" in modes


def test_pt_slower_than_car_for_most_pairs(travel):
    wide = travel.pivot_table(index=["origin", "destination"], columns="mode", values="minutes")
    wide = wide[wide["pt"].notna()]
    share = (wide["pt"] >= wide["car"]).mean()
    assert share >= 0.9, share


def test_bike_rows_only_where_the_whole_trip_can_be_cycled(travel, data):
    bike = travel[travel["mode"] == "bike"]
    assert len(bike) > 50
    coords = gen.coordinates(data)
    for r in bike.itertuples():
        assert not gen.crosses_westerschelde(r.origin, r.destination)
        if r.origin != r.destination:
            km = gen.great_circle_km(coords[r.origin], coords[r.destination]) * gen.BIKE_DETOUR
            assert km <= gen.BIKE_MAX_KM + 1e-9
    # short trips are faster by bike than by bus: Veere -> Middelburg
    assert minutes(travel, "Veere", "Middelburg", "bike") < minutes(travel, "Veere", "Middelburg", "pt")
    assert travel[(travel["origin"] == "Sluis") & (travel["destination"] == "Vlissingen")
                  & (travel["mode"] == "bike")].empty


def test_car_never_crosses_the_westerschelde_directly(travel, data):
    coords = gen.coordinates(data)
    for origin in ZEEUWS_VLAANDEREN:
        for dest in ("Goes", "Middelburg", "Vlissingen", "Rotterdam"):
            row = travel[(travel["origin"] == origin) & (travel["destination"] == dest) & (travel["mode"] == "car")]
            assert "Westerscheldetunnel" in row["source"].iloc[0] or "via Antwerpen" in row["source"].iloc[0]
    # from West Zeeuws-Vlaanderen the tunnel is a long detour: slower than a straight crossing would be
    for dest in ("Vlissingen", "Middelburg"):
        direct, _ = gen.car_minutes(coords["Sluis"], coords[dest], "a", "b")
        assert minutes(travel, "Sluis", dest, "car") > direct + 15
    # and trips on one bank are not rerouted
    row = travel[(travel["origin"] == "Sluis") & (travel["destination"] == "Terneuzen") & (travel["mode"] == "car")]
    assert "via" not in row["source"].iloc[0]


def test_network_rows_are_sourced_or_estimated(data):
    net, acc = data["network"], data["access"]
    assert net["source"].str.match(r"^(sourced|estimate):").all()
    assert set(net["mode"]) <= set(gen.MODES)
    assert (net["minutes"] > 0).all() and (net["per_hour"] > 0).all()
    assert set(acc["stop"]) <= set(net["from_stop"]) | set(net["to_stop"])
