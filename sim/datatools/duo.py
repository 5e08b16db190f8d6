"""``mbo-sim-data duo``: DUO's open data on mbo participants into a complete model data folder.

    mbo-sim-data duo FILE [FILE ...] --region REGION [--out DIR] [--small-count X]
                     [--skip-unknown-crebo] [--ignore-column NAME ...] [--data-dir DIR]

Input: DUO open onderwijsdata, "Deelnemers mbo per instelling, kwalificatie, woongemeente
deelnemer en leeftijdscategorie" (onderwijsdata.duo.nl/dataset/deelnemers_inst_kwal_wgdln_lftcat_mbo):
participants on 1 October (BRON, 1-cijfer definitions) per institution, the institution's location,
qualification (crebo), leerweg, home municipality of the participant and age group. One file per
year, or several years in one file (a year column, or count columns per year such as
``2022 MAN`` / ``2022 VROUW``). DUO publishes counts below 5 as 4 with ``INDICATIEAVG = "J"``.

DUO's documentation page does not list the exact column headers, so the header is matched
against the variants in :data:`ALIASES` (case, spaces, underscores and hyphens ignored); a header
that does not fit gives one error naming the columns found and the ones expected.

Output (``--out``, default ``results/duo/<region>/``), written atomically (a temporary sibling
folder swapped into place; never into the shipped data folder):

- every file of the source data folder (``--data-dir``, default the shipped data), so that the
  folder is a complete ``data_dir`` for ``mbo-sim``;
- ``portfolio.csv``: the region's rows replaced by DUO's latest year (institution x site x crebo
  x route, summed over home municipalities and age groups, ``split = sourced``); the other
  regions' rows as in the source folder;
- ``flows.csv``: home municipality -> site flows (see :data:`FLOW_COLUMNS`);
- ``study_flows.csv``: the source folder's, with the region's ``outflow_share`` (its residents'
  share at sites outside the region) and ``inflow_share_<institution>`` (an in-region
  institution's share of students living outside the region) replaced by DUO's latest year — the
  shares the model calibrates its outflow and inflow to (ODD §7.10a);
- ``history.csv`` (two or more years): enrolment (and intake, where the file has a year-of-stay
  column) per year x institution x site x crebo x route;
- ``duo_import.md``: what was read, the site and institution matches, flagged cells and the
  resulting uncertainty of the totals, and the columns of the files above.

Every problem with the input (missing file, not a CSV, columns, counts, unknown crebo, no rows
for the region) is one line on stderr and exit status 2, with nothing written.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io.loaders import PACKAGE_DATA_DIR
from sim.io.safe import UnsafeOutput, atomic_folder
from sim.regions import REGION_LABELS

PROG = "mbo-sim-data duo"
DATASET = ("DUO open onderwijsdata 'Deelnemers mbo per instelling, kwalificatie, woongemeente deelnemer en "
           "leeftijdscategorie' (onderwijsdata.duo.nl/dataset/deelnemers_inst_kwal_wgdln_lftcat_mbo)")
DESCRIPTION = ("Import DUO open data on mbo participants per institution, qualification and home municipality "
               "(one or more years) into a complete data folder: portfolio.csv for the region from the latest "
               "year, home municipality -> site flows, and an enrolment history.")

PORTFOLIO_COLUMNS = ["region", "institution", "site", "crebo", "route", "students_base", "split", "source"]
FLOW_COLUMNS = {
    "year": "peiljaar: participants on 1 October of this year",
    "home_municipality": "home municipality of the participant, as in municipalities.csv when matched, else as DUO "
                         "spells it",
    "home_gm_code": "CBS code of the home municipality (empty when it is not one of the 37 in municipalities.csv)",
    "home_region": "region label of the home municipality (empty outside the three regions)",
    "institution": "institution, as named in institutions.csv when matched, else as DUO names it",
    "brin": "DUO's institution code (BRIN)",
    "site": "the institution's location, as a site name of the model (see the site map in duo_import.md)",
    "crebo": "qualification code",
    "route": "BOL (BOL-VT and BOL-DT) or BBL",
    "students": "participants, summed over age groups; a cell published as <5 counts as --small-count",
    "students_low": "the same with every flagged cell counted as 1",
    "students_high": "the same with every flagged cell counted as 4",
    "flagged_cells": "cells published as 4 with INDICATIEAVG = J (1-4 participants)",
}
HISTORY_COLUMNS = ["year", "institution", "brin", "site", "crebo", "route", "students", "students_low",
                   "students_high", "flagged_cells", "intake", "known_institution"]

# canonical field -> accepted headers, normalised (upper case, letters and digits only)
ALIASES: dict[str, tuple[str, ...]] = {
    "year": ("PEILJAAR", "JAAR", "TELJAAR", "STUDIEJAAR", "OPLEIDINGSJAAR", "SCHOOLJAAR", "PEILDATUMJAAR"),
    "brin": ("BRINNUMMER", "BRIN", "BRINCODE", "INSTELLINGSCODE", "INSTELLINGSNUMMER", "BRINNR"),
    "institution": ("INSTELLINGSNAAM", "NAAMINSTELLING", "INSTELLING", "INSTELLINGNAAM"),
    "site": ("GEMEENTENAAM", "GEMEENTENAAMINSTELLING", "GEMEENTEINSTELLING", "GEMEENTENAAMVESTIGING",
             "VESTIGINGSGEMEENTE", "PLAATSNAAM", "PLAATSNAAMINSTELLING", "PLAATSINSTELLING", "PLAATSNAAMVESTIGING",
             "GEMEENTE", "PLAATS", "VESTIGINGSPLAATS"),
    "crebo": ("KWALIFICATIECODE", "KWALIFICATIE", "CREBO", "CREBOCODE", "CREBONUMMER", "OPLEIDINGSCODE",
              "OPLEIDINGCODE", "KWALIFICATIENUMMER", "CREBOKWALIFICATIE", "OPLEIDING"),
    "qualification": ("KWALIFICATIENAAM", "OPLEIDINGSNAAM", "OPLEIDINGNAAM", "NAAMKWALIFICATIE", "NAAMOPLEIDING",
                      "KWALIFICATIEOMSCHRIJVING", "OPLEIDINGSOMSCHRIJVING"),
    "level": ("NIVEAU", "KWALIFICATIENIVEAU", "OPLEIDINGSNIVEAU", "MBOOPLEIDINGSNIVEAU", "MBONIVEAU"),
    "route": ("LEERWEG", "MBOLEERWEG", "LEERWEGMBO", "OPLEIDINGSVORM"),
    "home": ("WOONGEMEENTE", "WOONGEMEENTEDEELNEMER", "WOONGEMEENTENAAM", "GEMEENTENAAMDEELNEMER",
             "WOONGEMEENTENAAMDEELNEMER", "GEMEENTEDEELNEMER", "WOONPLAATSDEELNEMER"),
    "home_code": ("WOONGEMEENTECODE", "CODEWOONGEMEENTE", "GEMEENTECODEDEELNEMER", "WOONGEMEENTENUMMER",
                  "GEMEENTENUMMERDEELNEMER", "CBSCODEWOONGEMEENTE"),
    "age": ("LEEFTIJDSCATEGORIE", "LEEFTIJDCATEGORIE", "LEEFTIJDSKLASSE", "LEEFTIJD", "LEEFTIJDSGROEP"),
    "stay_year": ("VERBLIJFSJAAR", "VERBLIJFSJAARINSTELLING", "LEERJAAR"),
    "count": ("AANTAL", "AANTALDEELNEMERS", "DEELNEMERS", "AANTALSTUDENTEN", "STUDENTEN", "TOTAAL",
              "AANTALINSCHRIJVINGEN", "TOTAALDEELNEMERS"),
    "flag": ("INDICATIEAVG", "INDICATIE", "AVGINDICATIE", "INDAVG"),
}
REQUIRED = ("site", "crebo", "route", "home", "flag")
GENDER = {"MAN": "MAN", "MANNEN": "MAN", "M": "MAN", "VROUW": "VROUW", "VROUWEN": "VROUW", "V": "VROUW"}
TOTAL = {"TOTAAL", "AANTAL", "DEELNEMERS", "AANTALDEELNEMERS", "TOTAALDEELNEMERS"}
# known descriptive columns of DUO's mbo files that the importer does not need (normalised prefixes)
IGNORED_PREFIXES = ("PROVINCIE", "KENNISCENTRUM", "SECTOR", "MBOSECTOR", "DOMEIN", "OPLEIDINGSDOMEIN", "HOOFDGROEP",
                    "SECTORKAMER", "SOORTINSTELLING", "INSTELLINGSSOORT", "GESLACHT", "GEMEENTENUMMER",
                    "GEMEENTECODE", "RMC", "COROP", "NODAAL", "ARBEIDSMARKTREGIO", "RPA", "WGR", "ONDERWIJSGEBIED",
                    "DENOMINATIE", "BEVOEGDGEZAG", "BEKOSTIGING", "NIVEAUNAAM", "NIVEAUOMSCHRIJVING",
                    "VESTIGINGSNUMMER", "VESTIGINGSCODE", "ONDERWIJSTYPE", "SOORTONDERWIJS", "ILT", "INSTELLINGSTYPE")
ROUTES = {"BOLVT": "BOL", "BOLDT": "BOL", "BOL": "BOL", "BOLVOLTIJD": "BOL", "BOLDEELTIJD": "BOL", "VT": "BOL",
          "DT": "BOL", "BBL": "BBL"}

# DUO's name of the institution's location (a place or municipality, often in capitals) -> the
# model's site (a municipality of municipalities.csv or external_sites.csv). Exact municipality
# names need no entry: they match case-insensitively. Places inside a municipality:
SITE_ALIASES: dict[str, str] = {
    "GROENLO": "Oost Gelre", "LICHTENVOORDE": "Oost Gelre",
    "ULFT": "Oude IJsselstreek", "GENDRINGEN": "Oude IJsselstreek", "TERBORG": "Oude IJsselstreek",
    "DIDAM": "Montferland", "'S-HEERENBERG": "Montferland", "S HEERENBERG": "Montferland",
    "VORDEN": "Bronckhorst", "HENGELO GLD": "Bronckhorst", "ZELHEM": "Bronckhorst",
    "EIBERGEN": "Berkelland", "NEEDE": "Berkelland", "BORCULO": "Berkelland",
    "GAANDERENDORP": "Doetinchem", "WEHL": "Doetinchem",
    "KRUININGEN": "Reimerswaal", "YERSEKE": "Reimerswaal", "ZIERIKZEE": "Schouwen-Duiveland",
    "OOSTBURG": "Sluis", "AXEL": "Terneuzen", "SAS VAN GENT": "Terneuzen", "HEINKENSZAND": "Borsele",
    "DOMBURG": "Veere", "SINT-MAARTENSDIJK": "Tholen",
    "SITTARD": "Sittard-Geleen", "GELEEN": "Sittard-Geleen", "BORN": "Sittard-Geleen",
    "HOENSBROEK": "Heerlen", "ELSLOO": "Stein", "GULPEN": "Gulpen-Wittem", "MARGRATEN": "Eijsden-Margraten",
    "VALKENBURG": "Valkenburg aan de Geul", "NUTH": "Beekdaelen", "SCHINNEN": "Beekdaelen",
    "ONDERBANKEN": "Beekdaelen",
}


class DuoError(ValueError):
    """A problem with the input; the message names the file, the column and the first bad value."""


def norm(header: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", str(header).upper())


def _place(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().upper().replace("-", " ").replace("\u2019", "'"))


# --------------------------------------------------------------------------- reading


@dataclass
class Layout:
    """Where the canonical fields are in one file's header."""

    columns: dict[str, str] = field(default_factory=dict)  # field -> header
    counts: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # header -> (year or None, gender|TOTAL)
    ignored: list[str] = field(default_factory=list)


def _expected() -> str:
    parts = [f"{f} ({ALIASES[f][0]})" for f in REQUIRED]
    return (", ".join(parts) + ", brin or institution (BRIN NUMMER / INSTELLINGSNAAM), and a count: AANTAL, or "
            "MAN/VROUW, or year columns such as '2022' or '2022 MAN'")


def detect_layout(path: Path, headers: list[str], extra_ignored: set[str]) -> Layout:
    lay = Layout()
    lookup = {alias: f for f, aliases in ALIASES.items() for alias in aliases}
    unknown = []
    wide_year = re.compile(r"^((?:19|20)\d\d)([A-Z]*)$")
    wide_prefix = re.compile(r"^([A-Z]+)((?:19|20)\d\d)$")
    for h in headers:
        n = norm(h)
        if n in lookup and lookup[n] not in lay.columns and lookup[n] != "count":
            lay.columns[lookup[n]] = h
            continue
        if n in lookup and lookup[n] == "count":
            lay.counts[h] = (None, "TOTAL")
            continue
        m = wide_year.match(n) or wide_prefix.match(n)
        if m:
            year_s, rest = (m.group(1), m.group(2)) if m.re is wide_year else (m.group(2), m.group(1))
            if rest in GENDER or rest in TOTAL or rest == "":
                lay.counts[h] = (int(year_s), GENDER.get(rest, "TOTAL"))
                continue
        if n in GENDER:
            lay.counts[h] = (None, GENDER[n])
            continue
        if n in extra_ignored or n.startswith(IGNORED_PREFIXES):
            lay.ignored.append(h)
            continue
        unknown.append(h)
    missing = [f for f in REQUIRED if f not in lay.columns]
    if "brin" not in lay.columns and "institution" not in lay.columns:
        missing.append("brin/institution")
    if not lay.counts:
        missing.append("count")
    if unknown or missing:
        what = []
        if missing:
            what.append(f"missing {', '.join(missing)}")
        if unknown:
            what.append(f"unknown column(s) {unknown} (pass --ignore-column NAME to skip one)")
        raise DuoError(f"{path}: {'; '.join(what)}; columns found {headers}; expected {_expected()}")
    years = {y for y, _ in lay.counts.values()}
    if None in years and len(years) > 1:
        raise DuoError(f"{path}: both a count column and year columns {sorted(h for h in lay.counts)}; "
                       "expected one of the two layouts")
    if len(years) > 1 or years != {None}:
        # per year: prefer a total column over men + women
        for y in years:
            cols = [h for h, (yy, g) in lay.counts.items() if yy == y]
            if any(lay.counts[h][1] == "TOTAL" for h in cols):
                for h in cols:
                    if lay.counts[h][1] != "TOTAL":
                        del lay.counts[h]
    elif any(g == "TOTAL" for _, g in lay.counts.values()):
        for h in [h for h, (_, g) in lay.counts.items() if g != "TOTAL"]:
            del lay.counts[h]
    return lay


def _read_text(path: Path) -> tuple[str, str]:
    if not path.exists():
        raise DuoError(f"{path}: file not found")
    if not path.is_file():
        raise DuoError(f"{path}: not a file")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536] or raw[:4] == b"PK\x03\x04":
        raise DuoError(f"{path}: not a CSV text file (binary content; an Excel file must be saved as CSV first)")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise DuoError(f"{path}: not a CSV text file (neither UTF-8 nor Windows-1252 text)")  # pragma: no cover


def read_file(path: Path, extra_ignored: set[str]) -> tuple[pd.DataFrame, Layout, str]:
    """One DUO file as a long frame with the canonical fields, a year and a count per row."""
    text, enc = _read_text(path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise DuoError(f"{path}: empty file (no header line)")
    head = lines[0]
    sep = max((";", ",", "\t"), key=head.count)
    if head.count(sep) == 0:
        raise DuoError(f"{path}: not a CSV file: the first line has no ';' ',' or tab separator ({head[:60]!r})")
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:  # pandas raises several parser error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DuoError(f"{path}: not a valid CSV file ({first})") from None
    df.columns = [str(c).strip() for c in df.columns]
    lay = detect_layout(path, list(df.columns), extra_ignored)
    if df.empty:
        raise DuoError(f"{path}: no data rows")
    c = lay.columns
    base = pd.DataFrame({
        "file": path.name,
        "line": np.arange(len(df)) + 2,
        "brin": df[c["brin"]].str.strip().str.upper() if "brin" in c else "",
        "institution_duo": df[c["institution"]].str.strip() if "institution" in c else "",
        "site_duo": df[c["site"]].str.strip(),
        "crebo_raw": df[c["crebo"]].str.strip(),
        "route_raw": df[c["route"]].str.strip(),
        "home_duo": df[c["home"]].str.strip(),
        "home_code": df[c["home_code"]].str.strip() if "home_code" in c else "",
        "stay_year": df[c["stay_year"]].str.strip() if "stay_year" in c else "",
        "flag_raw": df[c["flag"]].str.strip().str.upper(),
    })
    bad = ~base["flag_raw"].isin(["J", "N", ""])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DuoError(f"{path}: column {c['flag']!r} must be J or N, found {df[c['flag']].iloc[i]!r} "
                       f"(line {i + 2})")
    years_in_columns = {y for y, _ in lay.counts.values()} != {None}
    if not years_in_columns:
        if "year" in c:
            ys = df[c["year"]].str.strip()
            ok = ys.str.fullmatch(r"(19|20)\d\d")
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise DuoError(f"{path}: column {c['year']!r} must be a year, found {ys.iloc[i]!r} (line {i + 2})")
            base["year"] = ys.astype(int)
        else:
            m = re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", path.stem)
            if len(set(m)) != 1:
                raise DuoError(f"{path}: cannot tell the year: no year column ({ALIASES['year'][0]}), no year "
                               "count columns, and not exactly one year (e.g. 2022) in the file name")
            base["year"] = int(m[0])
    parts = []
    for h, (y, _g) in lay.counts.items():
        raw = df[h].str.strip()
        if years_in_columns:
            raw = raw.replace("", "0")  # an empty year cell: nobody
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() | (num < 0) | (num != np.floor(num))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DuoError(f"{path}: column {h!r} must be a whole number >= 0, found {df[h].iloc[i]!r} "
                           f"(line {i + 2})")
        part = base.copy()
        if y is not None:
            part["year"] = y
        part["count"] = num.to_numpy(dtype=float)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["flagged"] = (out["flag_raw"] == "J") & (out["count"] == 4)
    return out, lay, enc


# --------------------------------------------------------------------------- matching


@dataclass
class Reference:
    """The model's data the import is checked against."""

    region: str
    label: str
    municipalities: pd.DataFrame
    external_sites: set[str]
    institutions: pd.DataFrame
    crebos: set[int]
    routes: set[tuple[int, str]]
    data_dir: Path

    @classmethod
    def load(cls, region: str, data_dir: Path) -> Reference:
        def csv(name: str, **kw) -> pd.DataFrame:
            p = data_dir / name
            if not p.is_file():
                raise DuoError(f"{p}: data file not found (--data-dir must hold the model's data files)")
            return pd.read_csv(p, comment="#", skipinitialspace=True, **kw)

        muni = csv("municipalities.csv", dtype={"gm_code": str})
        ext = csv("external_sites.csv")
        inst = csv("institutions.csv", dtype={"brin": str}, keep_default_na=False)
        quals = csv("qualifications.csv")
        quals = quals[pd.to_numeric(quals["crebo"], errors="coerce").notna()]
        routes = set()
        for c, bol, bbl in zip(quals["crebo"].astype(int), quals["bol"], quals["bbl"], strict=True):
            routes |= {(c, r) for r, ok in (("BOL", bol), ("BBL", bbl)) if str(ok).strip().lower() == "true"}
        return cls(region, REGION_LABELS[region], muni, set(ext["municipality"].astype(str).str.strip()), inst,
                   set(quals["crebo"].astype(int)), routes, data_dir)

    def site_lookup(self) -> dict[str, str]:
        names = {_place(m): m for m in self.municipalities["municipality"]}
        names.update({_place(m): m for m in self.external_sites})
        names.update({_place(k): v for k, v in SITE_ALIASES.items()})
        return names

    def region_sites(self) -> set[str]:
        return set(self.municipalities.loc[self.municipalities["region"] == self.label, "municipality"])


def _inst_key(name: str) -> str:
    s = re.sub(r"[^a-z0-9]", "", str(name).lower())
    for word in ("stichting", "roc", "aoc"):
        s = s.replace(word, "")
    return s


def match_institutions(frame: pd.DataFrame, ref: Reference) -> tuple[pd.Series, pd.Series]:
    """The model's institution name per row (DUO's name where unmatched) and whether it matched."""
    by_brin = {str(b).strip().upper(): n for b, n in zip(ref.institutions["brin"], ref.institutions["institution"],
                                                         strict=True) if str(b).strip()}
    keys = {_inst_key(n): n for n in ref.institutions["institution"].unique()}
    pairs = frame[["brin", "institution_duo"]].drop_duplicates()
    names, known = {}, {}
    for brin, duo_name in pairs.itertuples(index=False):
        found = by_brin.get(brin)
        if found is None:
            k = _inst_key(duo_name)
            found = keys.get(k) or next((v for kk, v in keys.items() if kk and k and (kk in k or k in kk)), None)
        names[(brin, duo_name)] = found or (duo_name or brin)
        known[(brin, duo_name)] = found is not None
    idx = list(zip(frame["brin"], frame["institution_duo"], strict=True))
    return (pd.Series([names[i] for i in idx], index=frame.index),
            pd.Series([known[i] for i in idx], index=frame.index))


def match_homes(frame: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    muni = ref.municipalities
    by_name = {_place(m): (m, g, r) for m, g, r in zip(muni["municipality"], muni["gm_code"], muni["region"],
                                                       strict=True)}
    by_code = {re.sub(r"\D", "", g).lstrip("0"): (m, g, r) for m, g, r in
               zip(muni["municipality"], muni["gm_code"], muni["region"], strict=True)}
    out = []
    for name, code in zip(frame["home_duo"], frame["home_code"], strict=True):
        hit = by_code.get(re.sub(r"\D", "", code).lstrip("0")) if code else None
        hit = hit or by_name.get(_place(name)) or by_name.get(_place(SITE_ALIASES.get(_place(name), "")))
        out.append(hit or (name, "", ""))
    return pd.DataFrame(out, index=frame.index, columns=["home_municipality", "home_gm_code", "home_region"])


# --------------------------------------------------------------------------- the import


@dataclass
class Result:
    portfolio: pd.DataFrame  # the region's new rows
    flows: pd.DataFrame
    history: pd.DataFrame
    years: list[int]
    report: dict


def _route(frame: pd.DataFrame, layouts: dict[str, Layout]) -> pd.Series:
    routes = frame["route_raw"].map(lambda v: ROUTES.get(norm(v)))
    bad = routes.isna()
    if bad.any():
        r = frame[bad].iloc[0]
        col = layouts[r["file"]].columns["route"]
        raise DuoError(f"{r['file']}: column {col!r}: unknown leerweg {r['route_raw']!r} (line {r['line']}); "
                       "expected BOL-VT, BOL-DT or BBL")
    return routes


def import_files(paths: list[Path], ref: Reference, small_count: float = 2.5, skip_unknown_crebo: bool = False,
                 ignore_columns: tuple[str, ...] = ()) -> Result:
    extra = {norm(c) for c in ignore_columns}
    frames, layouts, files = [], {}, []
    years_by_file: dict[int, str] = {}
    for p in paths:
        df, lay, enc = read_file(Path(p), extra)
        if Path(p).name in layouts:
            raise DuoError(f"{p}: two input files share the name {Path(p).name}")
        layouts[Path(p).name] = lay
        for y in sorted(df["year"].unique()):
            if int(y) in years_by_file:
                raise DuoError(f"{p}: year {int(y)} is also in {years_by_file[int(y)]}; give each year once")
            years_by_file[int(y)] = Path(p).name
        files.append({"file": str(p), "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest(), "encoding": enc,
                      "rows": int(len(df) // max(1, len(lay.counts))), "years": sorted(int(y) for y in df["year"]
                                                                                        .unique()),
                      "columns": lay.columns, "count_columns": list(lay.counts), "ignored_columns": lay.ignored})
        frames.append(df)
    data = pd.concat(frames, ignore_index=True)

    sites = ref.site_lookup()
    data["site"] = data["site_duo"].map(lambda s: sites.get(_place(s), ""))
    homes = match_homes(data, ref)
    data = pd.concat([data, homes], axis=1)
    in_region = data["site"].isin(ref.region_sites())
    external = data["site"].isin(ref.external_sites - ref.region_sites()) & (data["home_region"] == ref.label)
    data = data[in_region | external].copy()
    if data.empty or data["count"].sum() == 0:
        raise DuoError(f"{', '.join(str(p) for p in paths)}: no rows for region {ref.region} (no institution "
                       f"location in {ref.label} or an external site of external_sites.csv; check the "
                       "GEMEENTENAAM column)")

    crebo_ok = data["crebo_raw"].str.fullmatch(r"\d+(\.0+)?")
    if not crebo_ok.all():
        r = data[~crebo_ok].iloc[0]
        raise DuoError(f"{r['file']}: column {layouts[r['file']].columns['crebo']!r} must be a crebo number, "
                       f"found {r['crebo_raw']!r} (line {r['line']})")
    data["crebo"] = data["crebo_raw"].astype(float).astype(int)
    unknown = ~data["crebo"].isin(ref.crebos)
    skipped = {"rows": 0, "students": 0.0, "crebos": []}
    if unknown.any():
        if not skip_unknown_crebo:
            r = data[unknown].iloc[0]
            raise DuoError(f"{r['file']}: column {layouts[r['file']].columns['crebo']!r}: crebo {r['crebo']} is not "
                           f"in qualifications.csv (line {r['line']}; {int(unknown.sum())} such rows for "
                           f"{ref.region}); pass --skip-unknown-crebo to leave them out")
        est = np.where(data.loc[unknown, "flagged"], small_count, data.loc[unknown, "count"])
        skipped = {"rows": int(unknown.sum()), "students": float(est.sum()),
                   "crebos": sorted(int(c) for c in data.loc[unknown, "crebo"].unique())}
        data = data[~unknown].copy()
        if data.empty:
            raise DuoError(f"no rows for region {ref.region} left after skipping {skipped['rows']} rows with "
                           "crebos not in qualifications.csv")
    data["route"] = _route(data, layouts)
    inst, known = match_institutions(data, ref)
    data["institution"], data["known_institution"] = inst, known
    data["students"] = np.where(data["flagged"], small_count, data["count"])
    data["students_low"] = np.where(data["flagged"], 1.0, data["count"])
    data["students_high"] = data["count"]
    data["flagged_cells"] = data["flagged"].astype(int)
    data["first_year"] = np.where(data["stay_year"].isin(["1", "01"]), data["students"], 0.0)
    has_stay = bool((data["stay_year"] != "").any())

    sums = {"students": "sum", "students_low": "sum", "students_high": "sum", "flagged_cells": "sum"}
    keys = ["year", "institution", "brin", "site", "crebo", "route"]
    flows = (data.groupby(["year", "home_municipality", "home_gm_code", "home_region", *keys[1:]], as_index=False)
             .agg(sums))
    flows = flows[flows["students_high"] > 0][list(FLOW_COLUMNS)].sort_values(list(FLOW_COLUMNS)[:9])
    hist = data.groupby([*keys, "known_institution"], as_index=False).agg({**sums, "first_year": "sum"})
    hist["intake"] = hist["first_year"] if has_stay else np.nan
    hist = hist[hist["students_high"] > 0][HISTORY_COLUMNS].sort_values(keys)
    years = sorted(int(y) for y in data["year"].unique())
    latest = years[-1]

    cur = hist[(hist["year"] == latest)]
    # the model's loader accepts only institution x site pairs of institutions.csv (this region) and
    # routes that qualifications.csv offers: other rows stay in flows/history and are reported
    pairs = ref.institutions[ref.institutions["region"].str.lower().str.replace("-", "_") == ref.region]
    pairs = set(zip(pairs["institution"], pairs["site"], strict=True))
    in_pairs = pd.Series([(i, s) in pairs for i, s in zip(cur["institution"], cur["site"], strict=True)],
                         index=cur.index)
    offered = pd.Series([(c, r) in ref.routes for c, r in zip(cur["crebo"], cur["route"], strict=True)],
                        index=cur.index)
    left_out = cur[~(in_pairs & offered)]
    portfolio_src = cur[in_pairs & offered]
    cells = data[data["year"] == latest].groupby(["institution", "site", "crebo", "route"]).agg(
        cells=("count", "size"), flagged=("flagged", "sum"))
    rows = []
    for r in portfolio_src.itertuples(index=False):
        n_cells, n_flag = cells.loc[(r.institution, r.site, r.crebo, r.route)]
        rows.append({
            "region": ref.region, "institution": r.institution, "site": r.site, "crebo": int(r.crebo),
            "route": r.route, "students_base": float(r.students), "split": "sourced",
            "source": (f"{DATASET}, 1 Oct {latest}, file {years_by_file[latest]}: sum of {int(n_cells)} cells "
                       f"(home municipality x age group), {int(n_flag)} of them published as <5 and counted as "
                       f"{small_count:g} (range {r.students_low:g}-{r.students_high:g})"),
        })
    portfolio = pd.DataFrame(rows, columns=PORTFOLIO_COLUMNS)

    per_inst = (cur.groupby(["institution", "known_institution"], as_index=False)
                [["students", "students_low", "students_high", "flagged_cells"]].sum())
    latest_rows = data[data["year"] == latest]
    report = {
        "region": ref.region, "dataset": DATASET, "files": files, "years": years, "latest_year": latest,
        "small_count": small_count,
        "flagged_cells": int(latest_rows["flagged"].sum()), "cells": int(len(latest_rows)),
        "total_students": float(cur["students"].sum()), "total_low": float(cur["students_low"].sum()),
        "total_high": float(cur["students_high"].sum()),
        "institutions": per_inst.to_dict(orient="records"),
        "unknown_institutions": sorted(set(per_inst.loc[~per_inst["known_institution"], "institution"])),
        "sites": {s: sorted(set(data.loc[data["site"] == s, "site_duo"])) for s in sorted(data["site"].unique())},
        "skipped_unknown_crebo": skipped,
        "left_out_of_portfolio": {
            "students": float(left_out["students"].sum()),
            "site_not_in_institutions_csv": sorted({f"{i} @ {s}" for i, s, ok in zip(
                left_out["institution"], left_out["site"], in_pairs[left_out.index], strict=True) if not ok}),
            "route_not_offered": sorted({f"{c} {r}" for c, r, ok in zip(
                left_out["crebo"], left_out["route"], offered[left_out.index], strict=True) if not ok}),
        },
        "intake": "from the year-of-stay column (first-year participants)" if has_stay else
                  "not available: this dataset has no first-year (verblijfsjaar) column; history.csv leaves "
                  "intake empty",
        "external_site_rule": "rows at external sites count only participants living in the region",
    }
    return Result(portfolio, flows.reset_index(drop=True), hist.reset_index(drop=True), years, report)


# --------------------------------------------------------------------------- writing


def _fmt(x: float) -> str:
    return f"{x:,.1f}".rstrip("0").rstrip(".")


def report_lines(res: Result) -> list[str]:
    r = res.report
    lines = [
        f"region {r['region']}: years {', '.join(map(str, r['years']))}; portfolio from 1 Oct {r['latest_year']}",
        f"students {_fmt(r['total_students'])} (range {_fmt(r['total_low'])}-{_fmt(r['total_high'])}): "
        f"{r['flagged_cells']} of {r['cells']} cells published as <5 (INDICATIEAVG=J), each counted as "
        f"{r['small_count']:g}",
    ]
    for i in r["institutions"]:
        mark = "" if i["known_institution"] else " (not in institutions.csv)"
        lines.append(f"  {i['institution']}: {_fmt(i['students'])} (range {_fmt(i['students_low'])}-"
                     f"{_fmt(i['students_high'])}, {int(i['flagged_cells'])} flagged cells){mark}")
    s = r["skipped_unknown_crebo"]
    if s["rows"]:
        lines.append(f"skipped {s['rows']} rows ({_fmt(s['students'])} students) with {len(s['crebos'])} crebo(s) "
                     f"not in qualifications.csv: {', '.join(map(str, s['crebos'][:10]))}"
                     f"{' ...' if len(s['crebos']) > 10 else ''}")
    lo = r["left_out_of_portfolio"]
    if lo["students"]:
        lines.append(f"left out of portfolio.csv (kept in flows/history): {_fmt(lo['students'])} students; "
                     f"institution @ site not in institutions.csv: {lo['site_not_in_institutions_csv'] or 'none'}; "
                     f"crebo route not offered in qualifications.csv: {lo['route_not_offered'] or 'none'}")
    lines.append(f"intake: {r['intake']}")
    return lines


def _markdown(res: Result) -> str:
    r = res.report
    out = [f"# DUO import: {r['region']}", "", f"Source: {r['dataset']}.", "", "## Files read", ""]
    for f in r["files"]:
        out.append(f"- `{f['file']}` (sha256 {f['sha256'][:16]}..., {f['encoding']}, {f['rows']} rows, years "
                   f"{f['years']}); columns used {f['columns']}, counts {f['count_columns']}, ignored "
                   f"{f['ignored_columns']}")
    out += ["", "## Totals and small counts", "", *[f"    {x}" for x in report_lines(res)], "",
            "DUO publishes a count below 5 as 4 with INDICATIEAVG = J. Such a cell holds 1-4 participants; it is "
            f"counted as {r['small_count']:g} in `students`/`students_base`, as 1 in `students_low` and as 4 in "
            "`students_high`, so the true total lies between the low and high columns.", "",
            "## Sites (model site <- DUO location names)", ""]
    out += [f"- {k} <- {', '.join(v)}" for k, v in r["sites"].items()]
    out += ["", f"Rule: {r['external_site_rule']}. Place names inside a municipality are mapped by "
            "`SITE_ALIASES` in `sim/datatools/duo.py`.", "", "## Columns", "",
            "`portfolio.csv`: " + ", ".join(PORTFOLIO_COLUMNS) + f" (this region's rows from 1 Oct {r['latest_year']}, "
            "split = sourced; other regions as in the source data folder).", "", "`flows.csv` (not read by the "
            "model yet):", ""]
    out += [f"- `{k}`: {v}" for k, v in FLOW_COLUMNS.items()]
    out += ["", "`history.csv` (two or more years): " + ", ".join(HISTORY_COLUMNS) + "; `intake`: " + r["intake"]
            + "; `known_institution`: the institution is in institutions.csv.", ""]
    return "\n".join(out)


def study_flows(flows: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """The region's outflow and inflow shares from the latest year of the home -> site flows."""
    latest = flows[flows["year"] == flows["year"].max()]
    inside = latest["site"].isin(ref.region_sites())
    home = latest["home_region"].fillna("") == ref.label
    residents = latest.loc[home, "students"].sum()
    source = (f"DUO deelnemers per instelling, kwalificatie en woongemeente, {int(latest['year'].max())}, "
              "by mbo-sim-data duo")
    rows = []
    if residents > 0:
        rows.append({"region": ref.region, "quantity": "outflow_share",
                     "value": round(float(latest.loc[home & ~inside, "students"].sum() / residents), 4),
                     "year": int(latest["year"].max()), "source": source,
                     "note": "residents of the region enrolled at a site outside it / all its residents in mbo"})
    for name, g in latest[inside].groupby("institution"):
        total = g["students"].sum()
        if total > 0:
            rows.append({"region": ref.region, "quantity": f"inflow_share_{name}",
                         "value": round(float(g.loc[g["home_region"].fillna("") != ref.label, "students"].sum()
                                              / total), 4),
                         "year": int(latest["year"].max()), "source": source,
                         "note": "students living outside the region / all students at its sites in the region"})
    return pd.DataFrame(rows, columns=["region", "quantity", "value", "year", "source", "note"])


def write_folder(res: Result, ref: Reference, out: Path) -> None:
    shipped = ref.data_dir / "portfolio.csv"
    old = pd.read_csv(shipped) if shipped.is_file() else pd.DataFrame(columns=PORTFOLIO_COLUMNS)
    old = old[old["region"] != ref.region]
    portfolio = pd.concat([old, res.portfolio], ignore_index=True)[PORTFOLIO_COLUMNS]

    def fill(tmp: Path) -> None:
        for p in sorted(ref.data_dir.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                shutil.copy2(p, tmp / p.name)
        portfolio.to_csv(tmp / "portfolio.csv", index=False, lineterminator="\n")
        res.flows.to_csv(tmp / "flows.csv", index=False, lineterminator="\n")
        shipped_flows = ref.data_dir / "study_flows.csv"
        if shipped_flows.is_file():
            old_flows = pd.read_csv(shipped_flows, comment="#")
            new = study_flows(res.flows, ref)
            keep = ~((old_flows["region"] == ref.region) & old_flows["quantity"].isin(new["quantity"]))
            pd.concat([old_flows[keep], new], ignore_index=True).to_csv(tmp / "study_flows.csv", index=False,
                                                                         lineterminator="\n")
        if len(res.years) > 1:
            res.history.to_csv(tmp / "history.csv", index=False, lineterminator="\n")
        (tmp / "duo_import.md").write_text(_markdown(res), encoding="utf-8")
        (tmp / "duo_import.json").write_text(json.dumps(res.report, indent=1, default=str) + "\n", encoding="utf-8")

    atomic_folder(out, fill)


# --------------------------------------------------------------------------- command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="DUO CSV files (one per year, or several years in one)")
    parser.add_argument("--region", required=True, choices=sorted(REGION_LABELS))
    parser.add_argument("--out", help="output folder, a complete data_dir (default results/duo/<region>)")
    parser.add_argument("--small-count", type=float, default=2.5, metavar="X",
                        help="participants assumed in a cell published as <5 (1-4; default 2.5, the midpoint)")
    parser.add_argument("--skip-unknown-crebo", action="store_true",
                        help="leave out (and count) rows whose crebo is not in qualifications.csv instead of failing")
    parser.add_argument("--ignore-column", action="append", default=[], metavar="NAME",
                        help="a column of the input to ignore (repeatable)")
    parser.add_argument("--data-dir", default=str(PACKAGE_DATA_DIR),
                        help="the model data copied into the output and checked against (default: the shipped data)")


def _protected(out: Path) -> list[Path]:
    return [PACKAGE_DATA_DIR.resolve(), (Path(__file__).resolve().parents[2] / "data").resolve()]


def run(args: argparse.Namespace, **_hooks) -> int:
    out = Path(args.out) if args.out else Path("results") / "duo" / args.region
    data_dir = Path(args.data_dir)
    try:
        if not 1 <= args.small_count <= 4:
            raise DuoError(f"--small-count must be from 1 to 4 (a cell published as <5 holds 1-4 participants), "
                           f"not {args.small_count:g}")
        target = out.resolve()
        for p in {*_protected(out), data_dir.resolve()}:
            if target == p or p in target.parents:
                raise DuoError(f"--out {out} is inside the data folder {p}; choose another folder (e.g. mydata/)")
        ref = Reference.load(args.region, data_dir)
        res = import_files([Path(f) for f in args.files], ref, args.small_count, args.skip_unknown_crebo,
                           tuple(args.ignore_column))
        write_folder(res, ref, out)
    except (DuoError, UnsafeOutput) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permissions: atomic_folder has removed its temporary folder
        print(f"{PROG}: error: could not write {out}: {exc}; nothing was written", file=sys.stderr)
        return 2
    for line in report_lines(res):
        print(line)
    print(f"wrote {out}/ (portfolio.csv, flows.csv{', history.csv' if len(res.years) > 1 else ''}, duo_import.md "
          f"and the other data files of {data_dir}); run: mbo-sim region={args.region} data_dir={out}")
    return 0
