"""Door-to-door travel minutes by public transport and by car: writes ``travel_minutes.csv``.

Usage (from the repository root)::

    python -m sim.datatools.travel              # rewrite sim/data/travel_minutes.csv
    python -m sim.datatools.travel --check      # write nothing; exit 1 if the file on disk differs
    python -m sim.datatools.travel --data-dir DIR

Inputs (all in the data folder):

- ``pt_network.csv``: a small hand-coded public-transport network, one row per link between two
  consecutive stops of a line (both directions): line, stops, mode (train, bus, ferry,
  tunnel-bus), in-vehicle minutes, daytime services per hour and a source or estimate note.
- ``pt_access.csv``: the stops of every place (origin municipality or destination site) with the
  access minutes from the place's population centre (empty = the area rule below) and, for
  destination sites, the egress minutes from the stop to the mbo site.
- ``municipalities.csv`` (region, land area, centre) and ``external_sites.csv`` (centres of the
  outside sites and ring municipalities), ``institutions.csv`` (the in-region sites).

Pairs written (one row per origin x destination x mode, modes ``pt``, ``bike`` and ``car``): an
origin of region R or of R's ring (``RING``) to every in-region site of R in ``institutions.csv``
and to every outside site (``OUTSIDE_SITES``, shared by the three regions). So Achterhoek origins do
not go to Vlissingen, but every origin goes to Brugge, Rotterdam, Aachen, ... An origin that is
itself a destination gets an intra-municipal row. By car also every municipality of R to every
other (commuting and adults' trips; ``car_pairs``). A ``bike`` row is written where the whole trip
can be cycled: not across the Westerschelde (the ferry is in the public-transport network, with the
bike ride to the quay as its access) and at most ``BIKE_MAX_KM`` road km.

Public transport (``method`` = ``network``): shortest door-to-door path on a directed graph with
networkx: access (bike/walk) to a stop of the origin, waiting for the first vehicle, in-vehicle
minutes, at every change of line the ``TRANSFER_PENALTY`` plus the wait for the next line, then the
egress from the stop to the site. Waiting = min(60 / per_hour / 2, ``WAIT_CAP``) where per_hour is the
highest frequency of the boarded line on a link at that stop. Access by the area rule: a
municipality of A km2 is treated as a disc of radius R = sqrt(A / pi); the average trip to its stops is
``ACCESS_RADIUS_SHARE`` x R km by bike at ``BIKE_KMH``, plus ``ACCESS_FIXED`` minutes. The ``source``
column lists the legs of the chosen path.

Car (``method`` = ``estimate``): road km = great-circle km x ``CAR_DETOUR``; minutes =
``CAR_FIXED`` + the first ``CAR_LOCAL_KM`` road km at ``CAR_LOCAL_KMH`` + the rest at ``CAR_MAIN_KMH``.
Water: a trip between the south bank of the Westerschelde (``SOUTH_BANK``: Zeeuws-Vlaanderen,
Brugge, Gent) and any place not on it (except Antwerpen) must cross at the Westerscheldetunnel
(portals ``TUNNEL_SOUTH`` / ``TUNNEL_NORTH``, ``TUNNEL_MINUTES``) or at Antwerpen
(``ANTWERP_MINUTES``); the road km are then summed over the two legs and the faster crossing is taken.

Bike (``method`` = ``estimate``): road km = great-circle km x ``BIKE_DETOUR``; minutes =
``ACCESS_FIXED`` + road km at ``BIKE_KMH``. Students take the faster of ``pt`` and ``bike`` (the model's
``travel.mode`` = ``public``): many 16-year-olds cycle 10-15 km to school rather than wait for a bus.

Intra-municipal rows (``method`` = ``estimate``): the average trip is ``ACCESS_RADIUS_SHARE`` x R km;
pt = by bike (``INTRA_FIXED`` + km / ``BIKE_KMH``), car = ``CAR_FIXED`` + km x ``CAR_DETOUR`` /
``CAR_TOWN_KMH``. Places without a land area (ring municipalities that are also sites) get
``INTRA_DEFAULT_PT`` / ``INTRA_DEFAULT_CAR``.

Deterministic: the same inputs give a byte-identical file.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import networkx as nx
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

WAIT_CAP = 15.0
"""Cap on the wait for a vehicle, minutes (assumption): wait = min(headway / 2, 15); a student who
knows the timetable waits less than half an hourly headway at the stop but arrives early at school."""
TRANSFER_PENALTY = 5.0
"""Minutes added at each change of line on top of the wait (assumption: walking between platforms
or stops and the risk of a missed connection; the Roosendaal change is 3-5 min, PZC Sep 2021)."""
BIKE_KMH = 15.0
"""Cycling speed of a 16-year-old to the stop or school, km/h (assumption)."""
ACCESS_FIXED = 3.0
"""Minutes for parking the bike and walking to the platform or stop (assumption)."""
ACCESS_RADIUS_SHARE = 0.5
"""Average access trip as a share of the radius of a disc with the municipality's land area
(assumption: the population lives mostly in the main town near the stop; the mean distance to the
centre of a uniformly populated disc would be 2/3)."""
INTRA_FIXED = 5.0
"""Minutes added to a bike trip within the municipality (assumption)."""
INTRA_DEFAULT_PT = 15.0
"""Intra-municipal minutes (bike) for places without a land area in municipalities.csv (assumption)."""
INTRA_DEFAULT_CAR = 10.0
"""Intra-municipal car minutes for places without a land area in municipalities.csv (assumption)."""
BIKE_DETOUR = 1.25
"""Cycle-path km per great-circle km (assumption: the Dutch cycle network is dense, a little more
direct than the road network)."""
BIKE_MAX_KM = 25.0
"""Longest trip written as a bike row, road km (assumption: beyond ~100 minutes nobody cycles to school
daily, and public transport is faster anyway)."""
CAR_DETOUR = 1.3
"""Road km per great-circle km (assumption; the model's old straight-line factor)."""
CAR_FIXED = 5.0
"""Minutes to reach the car and park at the destination (assumption)."""
CAR_LOCAL_KM = 10.0
"""The first road km of a car trip are driven at the local speed (assumption)."""
CAR_LOCAL_KMH = 40.0
"""Car speed on the first CAR_LOCAL_KM road km: towns and villages (assumption)."""
CAR_MAIN_KMH = 75.0
"""Car speed beyond the first CAR_LOCAL_KM road km: 80 km/h provincial roads and motorways (assumption)."""
CAR_TOWN_KMH = 30.0
"""Car speed within a municipality (assumption)."""
TUNNEL_SOUTH = (51.33, 3.85)
"""South portal and toll plaza of the Westerscheldetunnel near Terneuzen (approximate, 0.01 degree)."""
TUNNEL_NORTH = (51.40, 3.83)
"""North portal of the Westerscheldetunnel near Ellewoutsdijk, Borsele (approximate, 0.01 degree)."""
TUNNEL_MINUTES = 5.0
"""Crossing of the Westerscheldetunnel, 6.6 km at ~100 km/h plus the toll plaza (assumption;
tolled until 2024, columnx.nl 2003, ND 2022)."""
ANTWERP_MINUTES = 10.0
"""Crossing of the Scheldt at Antwerpen (Kennedy or Liefkenshoek tunnel, ring road), minutes (assumption)."""
SOUTH_BANK = ("Sluis", "Terneuzen", "Hulst", "Brugge", "Gent")
"""Places south and west of the Westerschelde: by car they reach the north bank only through the
tunnel or via Antwerpen (the foot ferry Vlissingen-Breskens carries no cars, Omroep Zeeland 2019)."""

REGIONS = {"achterhoek": "Achterhoek", "zeeland": "Zeeland", "zuid_limburg": "Zuid-Limburg"}
RING = {
    "achterhoek": ("Lochem", "Zutphen", "Doesburg", "Zevenaar", "Haaksbergen"),
    "zeeland": ("Bergen op Zoom", "Woensdrecht", "Steenbergen", "Goeree-Overflakkee"),
    "zuid_limburg": ("Echt-Susteren", "Roerdalen", "Maasgouw", "Roermond"),
}
"""Municipalities just outside each region: future inflow origins (not destinations as such)."""
OUTSIDE_SITES = ("Zutphen", "Apeldoorn", "Arnhem", "Nijmegen", "Enschede", "Hengelo", "Bergen op Zoom",
                 "Roosendaal", "Rotterdam", "Roermond", "Venlo", "Brugge", "Gent", "Antwerpen", "Hasselt",
                 "Aachen")
"""Sites outside the regions reachable from every region (Hengelo = Hengelo, Overijssel)."""
MODES = ("train", "bus", "ferry", "tunnel-bus")
COLUMNS = ["origin", "destination", "mode", "minutes", "method", "source"]
EARTH_RADIUS_KM = 6371.0


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(x) for x in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def load(data_dir: Path) -> dict[str, pd.DataFrame]:
    def csv(name: str, **kw) -> pd.DataFrame:
        return pd.read_csv(data_dir / name, comment="#", skipinitialspace=True, **kw)

    return {
        "network": csv("pt_network.csv"),
        "access": csv("pt_access.csv"),
        "muni": csv("municipalities.csv", dtype={"gm_code": str}),
        "ext": csv("external_sites.csv"),
        "inst": csv("institutions.csv", dtype={"brin": str}),
    }


def check_inputs(d: dict[str, pd.DataFrame]) -> None:
    net, acc = d["network"], d["access"]
    if not set(net["mode"]) <= set(MODES):
        raise ValueError(f"pt_network.csv: unknown mode(s) {sorted(set(net['mode']) - set(MODES))}")
    if (net["minutes"] <= 0).any() or (net["per_hour"] <= 0).any():
        raise ValueError("pt_network.csv: minutes and per_hour must be > 0")
    if net["source"].isna().any() or acc["source"].isna().any():
        raise ValueError("pt_network.csv / pt_access.csv: every row needs a source")
    stops = set(net["from_stop"]) | set(net["to_stop"])
    unknown = set(acc["stop"]) - stops
    if unknown:
        raise ValueError(f"pt_access.csv: stops not in pt_network.csv: {sorted(unknown)}")
    no_area = (acc["access_minutes"].isna() & acc["egress_minutes"].isna()
               & ~acc["place"].isin(d["muni"]["municipality"]))
    if no_area.any():
        raise ValueError(f"pt_access.csv: {sorted(acc.loc[no_area, 'place'])} need access_minutes "
                         "(no land area for the area rule) or egress_minutes")


def pairs(d: dict[str, pd.DataFrame]) -> list[tuple[str, str, str]]:
    """(region, origin, destination) for every needed pair, sorted."""
    muni, inst = d["muni"], d["inst"]
    in_region = inst[inst["in_region"].astype(str).str.lower() == "true"]
    out = []
    for region, label in REGIONS.items():
        origins = sorted(muni.loc[muni["region"] == label, "municipality"]) + sorted(RING[region])
        dests = sorted(set(in_region.loc[in_region["region"] == region, "site"]) | set(OUTSIDE_SITES))
        out += [(region, o, t) for o in origins for t in dests]
    return out


def car_pairs(d: dict[str, pd.DataFrame]) -> list[tuple[str, str, str]]:
    """(region, origin, destination) between every two municipalities of a region (car only)."""
    muni = d["muni"]
    out = []
    for region, label in REGIONS.items():
        names = sorted(muni.loc[muni["region"] == label, "municipality"])
        out += [(region, o, t) for o in names for t in names]
    return out


def crosses_westerschelde(a_name: str, b_name: str) -> bool:
    """A trip between the south bank (``SOUTH_BANK``) and a place not on it, other than Antwerpen."""
    return len({a_name in SOUTH_BANK, b_name in SOUTH_BANK}) == 2 and "Antwerpen" not in (a_name, b_name)


def bike_minutes(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Minutes and road km of a bike trip between two centres."""
    km = great_circle_km(a, b) * BIKE_DETOUR
    return ACCESS_FIXED + km / BIKE_KMH * 60.0, km


def area_km2(d: dict[str, pd.DataFrame]) -> dict[str, float]:
    return {m: a / 100.0 for m, a in zip(d["muni"]["municipality"], d["muni"]["land_area_ha"], strict=True)}


def local_km(area: float) -> float:
    """Average trip within a municipality of ``area`` km2 (the area rule)."""
    return ACCESS_RADIUS_SHARE * math.sqrt(area / math.pi)


def access_minutes(area: float) -> float:
    return ACCESS_FIXED + local_km(area) / BIKE_KMH * 60.0


def pt_graph(d: dict[str, pd.DataFrame]) -> nx.DiGraph:
    """Directed graph of places, stops and line rides.

    ("O", place) -> ("access", stop) -> [board and ride one link] -> ("ride", stop, line) -> ... ->
    ("alight", stop) -> [board another line: + TRANSFER_PENALTY] ... -> ("D", place). Boarding is
    merged with the first link ridden, so that the wait uses the combined frequency of all lines
    between that stop and the next one (e.g. the stopping train and the RE18 Maastricht-Meerssen).
    """
    net, areas = d["network"], area_km2(d)
    g = nx.DiGraph()
    freq: dict[frozenset, float] = {}
    for r in net.itertuples(index=False):
        key = frozenset((r.from_stop, r.to_stop))
        freq[key] = freq.get(key, 0.0) + float(r.per_hour)
    for r in net.itertuples(index=False):
        wait = min(60.0 / freq[frozenset((r.from_stop, r.to_stop))] / 2.0, WAIT_CAP)
        for a, b in ((r.from_stop, r.to_stop), (r.to_stop, r.from_stop)):
            leg = (r.line, r.mode, a, b, float(r.minutes))
            g.add_edge(("ride", a, r.line), ("ride", b, r.line), weight=float(r.minutes), leg=leg)
            g.add_edge(("access", a), ("ride", b, r.line), weight=wait + float(r.minutes), leg=leg, wait=wait,
                       transfer=False)
            g.add_edge(("alight", a), ("ride", b, r.line), weight=wait + TRANSFER_PENALTY + float(r.minutes),
                       leg=leg, wait=wait, transfer=True)
            g.add_edge(("ride", b, r.line), ("alight", b), weight=0.0)
    for r in d["access"].itertuples(index=False):
        if pd.notna(r.access_minutes):
            acc = float(r.access_minutes)
        elif r.place in areas:
            acc = access_minutes(areas[r.place])
        else:
            acc = None
        if acc is not None:
            g.add_edge(("O", r.place), ("access", r.stop), weight=acc, access=acc)
        if pd.notna(r.egress_minutes):
            for node in (("alight", r.stop), ("access", r.stop)):
                g.add_edge(node, ("D", r.place), weight=float(r.egress_minutes), egress=float(r.egress_minutes))
    return g


def legs(g: nx.DiGraph, path: list) -> list[dict]:
    """The rides of a path: line, mode, first and last stop, in-vehicle minutes, wait, transfer."""
    out = []
    for u, v in zip(path, path[1:], strict=False):
        e = g.edges[u, v]
        if "wait" in e:
            line, mode, a, b, m = e["leg"]
            out.append({"line": line, "mode": mode, "from": a, "to": b, "minutes": m, "wait": e["wait"],
                        "transfer": e["transfer"], "modes": {mode}})
        elif "leg" in e:
            out[-1]["minutes"] += e["leg"][4]
            out[-1]["to"] = e["leg"][3]
            out[-1]["modes"].add(e["leg"][1])
    return out


def describe(g: nx.DiGraph, path: list) -> str:
    """Legs of a path: access, each line ridden (with its wait), egress."""
    first, last = g.edges[path[0], path[1]], g.edges[path[-2], path[-1]]
    parts = [f"access {first['access']:.0f} to {path[1][1]}"]
    for leg in legs(g, path):
        xfer = f" +transfer {TRANSFER_PENALTY:.0f}" if leg["transfer"] else ""
        modes = "/".join(m for m in MODES if m in leg["modes"])
        parts.append(f"{modes} {leg['line']} {leg['from']}-{leg['to']} {leg['minutes']:.0f} "
                     f"(+wait {leg['wait']:.1f}{xfer})")
    parts.append(f"egress {last['egress']:.0f}")
    return "network: " + "; ".join(parts)


def station_minutes(network: pd.DataFrame, a: str, b: str, line: str | None = None) -> float:
    """In-vehicle minutes between two stops on the network (one line if given), no waits or transfers."""
    links = network if line is None else network[network["line"] == line]
    g = nx.Graph()
    for r in links.itertuples(index=False):
        if not g.has_edge(r.from_stop, r.to_stop) or g.edges[r.from_stop, r.to_stop]["weight"] > r.minutes:
            g.add_edge(r.from_stop, r.to_stop, weight=float(r.minutes))
    return float(nx.shortest_path_length(g, a, b, weight="weight"))


def pt_path(data_dir: Path, origin: str, destination: str) -> list[dict]:
    """The rides of the shortest public-transport path (for checks and tests)."""
    d = load(data_dir)
    g = pt_graph(d)
    return legs(g, nx.dijkstra_path(g, ("O", origin), ("D", destination), weight="weight"))


def car_minutes(a: tuple[float, float], b: tuple[float, float], a_name: str, b_name: str) -> tuple[float, str]:
    def drive(km: float) -> float:
        local = min(km, CAR_LOCAL_KM)
        return CAR_FIXED + local / CAR_LOCAL_KMH * 60.0 + (km - local) / CAR_MAIN_KMH * 60.0

    if not crosses_westerschelde(a_name, b_name):
        km = great_circle_km(a, b) * CAR_DETOUR
        return drive(km), f"estimate: {km:.0f} road km ({CAR_DETOUR} x great circle)"
    s, n = (a, b) if a_name in SOUTH_BANK else (b, a)
    antwerp = (51.22, 4.40)
    options = []
    km = (great_circle_km(s, TUNNEL_SOUTH) + great_circle_km(TUNNEL_NORTH, n)) * CAR_DETOUR
    options.append((drive(km) + TUNNEL_MINUTES, f"estimate: {km:.0f} road km via the Westerscheldetunnel "
                                                f"(+{TUNNEL_MINUTES:.0f} min crossing)"))
    km = (great_circle_km(s, antwerp) + great_circle_km(antwerp, n)) * CAR_DETOUR
    options.append((drive(km) + ANTWERP_MINUTES, f"estimate: {km:.0f} road km via Antwerpen "
                                                 f"(+{ANTWERP_MINUTES:.0f} min Scheldt crossing)"))
    return min(options)


def coordinates(d: dict[str, pd.DataFrame]) -> dict[str, tuple[float, float]]:
    coords = {r.municipality: (float(r.centre_lat), float(r.centre_lon)) for r in d["muni"].itertuples()}
    for r in d["ext"].itertuples():
        coords.setdefault(r.municipality, (float(r.centre_lat), float(r.centre_lon)))
    return coords


def build(data_dir: Path = DATA_DIR) -> pd.DataFrame:
    d = load(data_dir)
    check_inputs(d)
    coords, areas, g = coordinates(d), area_km2(d), pt_graph(d)
    todo = pairs(d)
    missing = sorted({p for _, o, t in todo + car_pairs(d) for p in (o, t) if p not in coords})
    if missing:
        raise ValueError(f"no coordinates in municipalities.csv or external_sites.csv for {missing}")
    rows, cache = [], {}
    for _region, o, t in todo:
        if o == t:
            if o in areas:
                km = local_km(areas[o])
                pt = INTRA_FIXED + km / BIKE_KMH * 60.0
                car = CAR_FIXED + km * CAR_DETOUR / CAR_TOWN_KMH * 60.0
                why = (f"estimate: intra-municipal, average trip {km:.1f} km ({ACCESS_RADIUS_SHARE} x radius of "
                       f"a disc of {areas[o]:.0f} km2)")
            else:
                pt, car = INTRA_DEFAULT_PT, INTRA_DEFAULT_CAR
                why = "estimate: intra-municipal default (no land area in municipalities.csv)"
            rows.append([o, t, "pt", pt, "estimate", why + f", by bike at {BIKE_KMH:g} km/h"])
            rows.append([o, t, "bike", pt, "estimate", why + f", by bike at {BIKE_KMH:g} km/h"])
            rows.append([o, t, "car", car, "estimate", why + f", by car at {CAR_TOWN_KMH:g} km/h"])
            continue
        if o not in cache:
            if ("O", o) not in g:
                raise ValueError(f"pt_access.csv: no access stop for origin {o}")
            cache[o] = nx.single_source_dijkstra(g, ("O", o), weight="weight")
        dist, paths = cache[o]
        if ("D", t) not in dist:
            raise ValueError(f"no public-transport path from {o} to {t} (check pt_access.csv / pt_network.csv)")
        rows.append([o, t, "pt", dist[("D", t)], "network", describe(g, paths[("D", t)])])
        bike, km = bike_minutes(coords[o], coords[t])
        if km <= BIKE_MAX_KM and not crosses_westerschelde(o, t):
            rows.append([o, t, "bike", bike, "estimate", f"estimate: {km:.1f} km by bike ({BIKE_DETOUR} x great "
                                                         f"circle) at {BIKE_KMH:g} km/h"])
        car, why = car_minutes(coords[o], coords[t], o, t)
        rows.append([o, t, "car", car, "estimate", why])
    done = {(o, t) for _, o, t in todo}
    for _region, o, t in car_pairs(d):
        if (o, t) in done:
            continue
        done.add((o, t))
        if o == t:
            km = local_km(areas[o])
            rows.append([o, t, "car", CAR_FIXED + km * CAR_DETOUR / CAR_TOWN_KMH * 60.0, "estimate",
                         f"estimate: intra-municipal, average trip {km:.1f} km, by car at {CAR_TOWN_KMH:g} km/h"])
            continue
        car, why = car_minutes(coords[o], coords[t], o, t)
        rows.append([o, t, "car", car, "estimate", why])
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["minutes"] = out["minutes"].round(1)
    return out


def to_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.datatools.travel", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the generated file differs from the one on disk")
    args = parser.parse_args(argv)
    frame = build(args.data_dir)
    path = args.data_dir / "travel_minutes.csv"
    text = to_text(frame)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    stale = old != text
    if stale and not args.check:
        path.write_text(text, encoding="utf-8")
    print(f"travel_minutes.csv: {len(frame)} rows ({frame['origin'].nunique()} origins, "
          f"{frame['destination'].nunique()} destinations)")
    if args.check and stale:
        print("out of date: travel_minutes.csv", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
