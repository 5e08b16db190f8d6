"""Loading and checking the input data files of one region.

Every loader names the file, the column and what is allowed when a file is missing or
malformed, through :class:`DataError`. The data shipped with the package live in ``sim/data/``
(``data/`` in a checkout; see ``SOURCES.md`` there); ``data_dir`` points the model at another folder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from sim.codes import SECTOR_INDEX, SECTORS
from sim.io.labour_data import LABOUR_FILES, LabourData, load_labour
from sim.regions import REGION_LABELS

PACKAGE_DATA_DIR = Path(str(files("sim") / "data"))  # the data shipped with the package
FILES_DOC = PACKAGE_DATA_DIR / "SOURCES.md"
AGE_BANDS_0_TO_94 = [f"{a}-{a + 4}" for a in range(0, 95, 5)]
AGE_BANDS = [*AGE_BANDS_0_TO_94, "95+"]

FILES = {
    "municipalities": "municipalities.csv",
    "population": "population_by_age_band_2021.csv",
    "institutions": "institutions.csv",
    "employment": "employment_by_sector.csv",
    "sectors": "sectors.csv",
    "external_sites": "external_sites.csv",
    "qualifications": "qualifications.csv",
    "portfolio": "portfolio.csv",
    "travel": "travel_minutes.csv",
    "ring": "ring_municipalities.csv",
    "ring_population": "ring_population_by_age_band_2021.csv",
    "flows": "study_flows.csv",
    **LABOUR_FILES,
}
TRAVEL_MODES = ("pt", "bike", "car")  # the modes of travel_minutes.csv


class DataError(ValueError):
    """An input data file is missing or malformed; the message names the file and the problem."""


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """The folder the data are read from: the package's shipped data when ``data_dir`` is None,
    else ``data_dir`` (a relative path is relative to the working directory)."""
    return PACKAGE_DATA_DIR if data_dir is None else Path(data_dir)


def _read_csv(path: Path, required: dict[str, str]) -> pd.DataFrame:
    """Read a CSV (``#`` lines are comments) and check its columns and their types.

    ``required`` maps column name to kind: "str", "int", "float" or "bool".
    """
    if not path.is_file():
        raise DataError(
            f"data file {path.name} not found in {path.parent.resolve()}: set data_dir=/path/to/folder, or leave "
            f"data_dir unset (null) for the data shipped in {PACKAGE_DATA_DIR} ({FILES_DOC} describes each file)"
        )
    try:
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} is empty: expected columns {list(required)} and rows") from None
    except Exception as exc:  # pandas raises several parser error types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(f"data file {path} cannot be read as CSV: {first}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"data file {path}: missing column(s) {missing}; expected columns {list(required)}"
        )
    if df.empty:
        raise DataError(f"data file {path}: no data rows (only a header); expected columns {list(required)}")
    for col, kind in required.items():
        if df[col].isna().any():
            row = int(df.index[df[col].isna()][0]) + 2
            raise DataError(f"data file {path}: empty value in column '{col}' (line ~{row})")
        if kind in ("int", "float"):
            conv = pd.to_numeric(df[col], errors="coerce")
            if conv.isna().any():
                bad = df[col][conv.isna()].iloc[0]
                raise DataError(f"data file {path}: column '{col}' must be numeric, found {bad!r}")
            wrong = ~np.isfinite(conv) | (conv < 0)
            if kind == "int":
                wrong |= np.isfinite(conv) & (conv != np.round(conv))
            if wrong.any():
                what = "a whole number >= 0" if kind == "int" else "a finite number >= 0"
                bad = conv[wrong].iloc[0].item()
                raise DataError(f"data file {path}: column '{col}' must be {what}, found {bad!r}")
            df[col] = conv.astype(int if kind == "int" else float)
        elif kind == "bool":
            lowered = df[col].astype(str).str.strip().str.lower()
            if not lowered.isin(["true", "false"]).all():
                bad = df[col][~lowered.isin(["true", "false"])].iloc[0]
                raise DataError(f"data file {path}: column '{col}' must be true/false, found {bad!r}")
            df[col] = lowered == "true"
        else:
            df[col] = df[col].astype(str).str.strip()
    return df


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class RegionData:
    """Everything the model reads from files for one region, checked."""

    region: str
    municipalities: pd.DataFrame  # name, gm_code, centre_lat, centre_lon, population_2024
    population_bands: np.ndarray  # (n_municipalities, 20) persons by 5-year band, 1 Jan 2021
    institutions: pd.DataFrame  # one row per institution × site × sector
    employment_shares: np.ndarray  # (n_sectors,) share of jobs by sector
    site_coordinates: dict[str, tuple[float, float]]  # site municipality -> (lat, lon)
    portfolio: pd.DataFrame  # one row per institution × site × qualification × route, with the qualification
    travel: pd.DataFrame  # origin, destination, mode, minutes: door-to-door minutes (travel_minutes.csv)
    ring: list[str]  # municipalities just outside the region whose school leavers may study in it
    ring_bands: np.ndarray  # (ring municipalities, 20) persons by 5-year band
    flows: dict[str, float]  # study_flows.csv: quantity -> share (outflow_share, inflow_share, ...)
    labour: LabourData  # search by field, vacancy profile, cross-border workers, labour migrants
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def municipality_names(self) -> list[str]:
        return list(self.municipalities["municipality"])


def check_data_dir(data_dir: str | Path | None) -> Path:
    """The folder the data are read from, refused (DataError naming it) if it is not a readable folder."""
    path = resolve_data_dir(data_dir)
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        where = str(path) if path.is_absolute() else f"{path} ({path.resolve()})"
        raise DataError(
            f"data files not found: data_dir {where} {what}; set data_dir=/path/to/folder, or leave data_dir "
            f"unset (null) for the data shipped in {PACKAGE_DATA_DIR} ({FILES_DOC} describes each file)"
        )
    return path


def _check_known(path: Path, col: pd.Series, allowed: list[str], what: str) -> None:
    unknown = sorted(set(col) - set(allowed))
    if unknown:
        raise DataError(f"data file {path}: unknown {what}(s) {unknown}; allowed: {allowed}")


def _check_unique(path: Path, df: pd.DataFrame, cols: list[str]) -> None:
    dup = df.duplicated(subset=cols)
    if dup.any():
        row = df[dup].iloc[0]
        key = ", ".join(f"{c}={row[c]!r}" for c in cols)
        raise DataError(f"data file {path}: duplicate row for {key}; each must appear once")


def load_region(region: str, data_dir: str | Path | None = None) -> RegionData:
    data_dir = check_data_dir(data_dir)
    if region not in REGION_LABELS:
        raise DataError(f"unknown region {region!r}; allowed: {sorted(REGION_LABELS)}")
    label = REGION_LABELS[region]
    paths = {k: data_dir / v for k, v in FILES.items()}

    muni = _read_csv(
        paths["municipalities"],
        {"region": "str", "gm_code": "str", "municipality": "str", "population_2024": "int",
         "centre_lat": "float", "centre_lon": "float"},
    )
    _check_known(paths["municipalities"], muni["region"], sorted(REGION_LABELS.values()), "region")
    _check_unique(paths["municipalities"], muni, ["gm_code"])
    _check_unique(paths["municipalities"], muni, ["municipality"])
    codes = dict(zip(muni["gm_code"], muni["region"], strict=True))  # every region's municipalities
    muni = muni[muni["region"] == label].reset_index(drop=True)
    if muni.empty:
        raise DataError(f"data file {paths['municipalities']}: no municipalities for region {label}")

    pop = _read_csv(
        paths["population"],
        {"region": "str", "gm_code": "str", "municipality": "str", "age_band": "str", "persons": "int"},
    )
    _check_known(paths["population"], pop["region"], sorted(REGION_LABELS.values()), "region")
    stray = pop[[codes.get(c) != r for c, r in zip(pop["gm_code"], pop["region"], strict=True)]]
    if not stray.empty:
        r = stray.iloc[0]
        raise DataError(
            f"data file {paths['population']}: municipality code {r['gm_code']!r} ({r['municipality']}, "
            f"region {r['region']}) is not a municipality of {r['region']} in {paths['municipalities']}"
        )
    _check_unique(paths["population"], pop, ["gm_code", "age_band"])
    pop = pop[pop["region"] == label]
    unknown_bands = sorted(set(pop["age_band"]) - set(AGE_BANDS))
    if unknown_bands:
        raise DataError(f"data file {paths['population']}: unknown age_band(s) {unknown_bands}; allowed {AGE_BANDS}")
    table = pop.pivot_table(index="gm_code", columns="age_band", values="persons", aggfunc="sum")
    missing_munis = sorted(set(muni["gm_code"]) - set(table.index))
    if missing_munis:
        raise DataError(f"data file {paths['population']}: no rows for municipality code(s) {missing_munis}")
    table = table.reindex(index=muni["gm_code"], columns=AGE_BANDS)
    if table.isna().any().any():
        raise DataError(f"data file {paths['population']}: some municipality × age_band cells are missing")
    bands = table.to_numpy(dtype=np.int64)

    sectors = _read_csv(paths["sectors"], {"sector": "str", "national_employment_share": "float"})
    _check_sectors(paths["sectors"], sectors["sector"])
    _check_unique(paths["sectors"], sectors, ["sector"])
    missing_sectors = [s for s in SECTORS if s not in set(sectors["sector"])]
    if missing_sectors:
        raise DataError(f"data file {paths['sectors']}: no row for sector(s) {missing_sectors}; every sector needs one")

    emp = _read_csv(paths["employment"], {"region": "str", "sector": "str", "share": "float"})
    _check_known(paths["employment"], emp["region"], sorted(REGION_LABELS), "region")
    emp = emp[emp["region"] == region]
    _check_sectors(paths["employment"], emp["sector"])
    _check_unique(paths["employment"], emp, ["region", "sector"])
    if sorted(emp["sector"]) != sorted(SECTORS):
        raise DataError(f"data file {paths['employment']}: region {region} needs one row per sector {list(SECTORS)}")
    shares = np.zeros(len(SECTORS))
    for s, v in zip(emp["sector"], emp["share"], strict=True):
        shares[SECTOR_INDEX[s]] = v
    if abs(shares.sum() - 1) > 0.01:
        raise DataError(f"data file {paths['employment']}: shares of region {region} sum to {shares.sum():.3f}, not 1")
    shares = shares / shares.sum()

    inst = _read_csv(
        paths["institutions"],
        {"region": "str", "institution": "str", "kind": "str", "site": "str", "in_region": "bool",
         "sector": "str", "min_level": "int", "max_level": "int", "bol": "bool", "bbl": "bool",
         "students_base": "float", "bbl_share": "float"},
    )
    inst_region = inst["region"].str.lower().str.replace("-", "_")
    _check_known(paths["institutions"], inst_region, sorted(REGION_LABELS), "region")
    inst = inst[inst_region == region].reset_index(drop=True)
    if inst.empty:
        raise DataError(f"data file {paths['institutions']}: no institutions for region {region}")
    _check_sectors(paths["institutions"], inst["sector"])
    bad = inst[(inst["min_level"] < 1) | (inst["max_level"] > 4) | (inst["min_level"] > inst["max_level"])]
    if not bad.empty:
        raise DataError(
            f"data file {paths['institutions']}: levels must satisfy 1 <= min_level <= max_level <= 4 "
            f"(row {bad.index[0]})"
        )
    if ((inst["bbl_share"] < 0) | (inst["bbl_share"] > 1)).any():
        raise DataError(f"data file {paths['institutions']}: column 'bbl_share' must be in [0, 1]")

    coords = {r.municipality: (r.centre_lat, r.centre_lon) for r in muni.itertuples()}
    ext = _read_csv(paths["external_sites"], {"municipality": "str", "centre_lat": "float", "centre_lon": "float"})
    for r in ext.itertuples():
        coords.setdefault(r.municipality, (r.centre_lat, r.centre_lon))
    for r in inst.itertuples():
        if r.site not in coords:
            raise DataError(
                f"data file {paths['institutions']}: site {r.site!r} of {r.institution} is neither a "
                f"municipality of {label} nor listed in {paths['external_sites']}"
            )
        if r.in_region and r.site not in set(muni["municipality"]):
            raise DataError(
                f"data file {paths['institutions']}: site {r.site!r} is marked in_region but is not in {label}"
            )

    portfolio = load_portfolio(paths["portfolio"], paths["qualifications"], region, inst)
    ring, ring_bands = load_ring(paths["ring"], paths["ring_population"], label, set(muni["gm_code"]))
    travel = load_travel(paths["travel"], set(muni["municipality"]) | set(ring))
    _check_pairs(paths["travel"], travel, [*muni["municipality"], *ring], sorted(set(inst["site"])))
    flows = load_flows(paths["flows"], region)
    labour = load_labour(paths, region, list(muni["municipality"]), shares, _read_csv, DataError)
    checksums = {str(p): sha256(p) for p in paths.values()}
    return RegionData(region, muni, bands, inst, shares, coords, portfolio, travel, ring, ring_bands, flows,
                      labour, checksums)


def _check_pairs(path: Path, travel: pd.DataFrame, origins: list[str], sites: list[str]) -> None:
    """Every origin (the region's and its ring's municipalities) needs a public-transport and a car
    time to every site of the region's institutions."""
    have = set(zip(travel["origin"], travel["destination"], travel["mode"], strict=True))
    for mode in ("pt", "car"):
        gaps = [(o, t) for o in origins for t in sites if (o, t, mode) not in have]
        if gaps:
            raise DataError(f"data file {path}: no {mode} time from {gaps[0][0]} to {gaps[0][1]} ({len(gaps)} "
                            f"pair(s) missing); rebuild it with `python -m sim.datatools.travel`")


def load_ring(path: Path, bands_path: Path, label: str, region_codes: set[str]) -> tuple[list[str], np.ndarray]:
    """The ring municipalities of region ``label`` and their persons by age band (ring × 20)."""
    ring = _read_csv(path, {"region": "str", "gm_code": "str", "municipality": "str", "population": "int"})
    _check_known(path, ring["region"], sorted(REGION_LABELS.values()), "region")
    _check_unique(path, ring, ["region", "gm_code"])
    ring = ring[ring["region"] == label].reset_index(drop=True)
    inside = sorted(set(ring["gm_code"]) & region_codes)
    if inside:
        raise DataError(f"data file {path}: {inside} are municipalities of {label}, not of its ring")
    pop = _read_csv(bands_path, {"region": "str", "gm_code": "str", "municipality": "str", "age_band": "str",
                                 "persons": "int"})
    _check_unique(bands_path, pop, ["region", "gm_code", "age_band"])
    pop = pop[pop["region"] == label]
    unknown = sorted(set(pop["age_band"]) - set(AGE_BANDS))
    if unknown:
        raise DataError(f"data file {bands_path}: unknown age_band(s) {unknown}; allowed {AGE_BANDS}")
    table = pop.pivot_table(index="gm_code", columns="age_band", values="persons", aggfunc="sum")
    table = table.reindex(index=ring["gm_code"], columns=AGE_BANDS)
    if table.isna().any().any():
        missing = sorted(ring["gm_code"][table.isna().any(axis=1).to_numpy()])
        raise DataError(f"data file {bands_path}: missing age bands for ring municipality code(s) {missing}")
    if (table.to_numpy() < 0).any():
        raise DataError(f"data file {bands_path}: persons must be >= 0")
    return list(ring["municipality"]), table.to_numpy(dtype=np.int64)


def load_flows(path: Path, region: str) -> dict[str, float]:
    """The region's rows of ``study_flows.csv`` as quantity -> value, checked to be shares in [0, 1]."""
    df = _read_csv(path, {"region": "str", "quantity": "str", "value": "float", "source": "str"})
    _check_known(path, df["region"], sorted(REGION_LABELS), "region")
    _check_unique(path, df, ["region", "quantity"])
    bad = df[(df["value"] < 0) | (df["value"] > 1)]
    if not bad.empty:
        raise DataError(f"data file {path}: value of {bad['quantity'].iloc[0]} ({bad['region'].iloc[0]}) must be "
                        f"a share in [0, 1]")
    df = df[df["region"] == region]
    return dict(zip(df["quantity"], df["value"].astype(float), strict=True))


def load_travel(path: Path, origins: set[str]) -> pd.DataFrame:
    """The rows of ``travel_minutes.csv`` that start in one of ``origins``, checked: known modes,
    minutes finite and > 0, no pair twice."""
    df = _read_csv(path, {"origin": "str", "destination": "str", "mode": "str", "minutes": "float"})
    _check_known(path, df["mode"], list(TRAVEL_MODES), "mode")
    bad = df[~np.isfinite(df["minutes"]) | (df["minutes"] <= 0)]
    if not bad.empty:
        raise DataError(f"data file {path}: minutes must be finite and > 0 (row {bad.index[0] + 2}: "
                        f"{bad['origin'].iloc[0]} -> {bad['destination'].iloc[0]})")
    _check_unique(path, df, ["origin", "destination", "mode"])
    return df[df["origin"].isin(origins)][["origin", "destination", "mode", "minutes"]].reset_index(drop=True)


def _check_sectors(path: Path, col: pd.Series) -> None:
    unknown = sorted(set(col) - set(SECTORS))
    if unknown:
        raise DataError(f"data file {path}: unknown sector(s) {unknown}; allowed: {list(SECTORS)}")


def load_portfolio(path: Path, qual_path: Path, region: str, inst: pd.DataFrame) -> pd.DataFrame:
    """The region's programmes: institution × site × qualification (crebo) × route with base-year
    students, joined with the qualification's name, level, nominal duration and sector."""
    qual = _read_csv(qual_path, {"crebo": "int", "name": "str", "level": "int", "duration_years": "int",
                                 "sector": "str", "bol": "bool", "bbl": "bool", "price_factor": "float"})
    _check_sectors(qual_path, qual["sector"])
    if qual["crebo"].duplicated().any():
        raise DataError(f"data file {qual_path}: crebo {int(qual['crebo'][qual['crebo'].duplicated()].iloc[0])} "
                        "appears twice")
    bad = qual[~qual["level"].between(1, 4) | ~qual["duration_years"].between(1, 4)]
    if not bad.empty:
        raise DataError(f"data file {qual_path}: crebo {int(bad['crebo'].iloc[0])}: level and duration_years "
                        "must be in 1..4")
    port = _read_csv(path, {"region": "str", "institution": "str", "site": "str", "crebo": "int", "route": "str",
                            "students_base": "float"})
    port = port[port["region"] == region].reset_index(drop=True)
    if port.empty:
        raise DataError(f"data file {path}: no programmes for region {region}")
    unknown = sorted(set(port["crebo"]) - set(qual["crebo"]))
    if unknown:
        raise DataError(f"data file {path}: crebo(s) {unknown[:5]} not in {qual_path.name}")
    if not port["route"].isin(["BOL", "BBL"]).all():
        bad_route = port.loc[~port["route"].isin(["BOL", "BBL"]), "route"].iloc[0]
        raise DataError(f"data file {path}: route must be BOL or BBL, found {bad_route!r}")
    known = set(zip(inst["institution"], inst["site"], strict=True))
    rows = set(zip(port["institution"], port["site"], strict=True))
    missing = sorted(rows - known)
    if missing:
        raise DataError(f"data file {path}: institution/site {missing[0]} is not in institutions.csv")
    columns = ["crebo", "dossier_crebo", "name", "level", "duration_years", "sector", "bol", "bbl", "price_factor"]
    out = port.merge(qual[columns], on="crebo")
    offered = np.where(out["route"] == "BOL", out["bol"], out["bbl"])
    if not offered.all():
        r = out[~offered].iloc[0]
        raise DataError(f"data file {path}: crebo {r.crebo} has no {r.route} route in {qual_path.name}")
    return out.drop(columns=["bol", "bbl"]).rename(columns={"name": "qualification", "duration_years": "duration"})
