"""Refresh municipal population figures from CBS open data (``mbo-sim-data``, see :mod:`sim.datatools.cli`).

For the municipalities listed in ``data/municipalities.csv`` (by GM code) the command fetches

* **85984NED** "Kerncijfers wijken en buurten 2024": ``AantalInwoners_5`` of the municipality rows
  (``WijkenEnBuurten`` = GM code, filtered server-side) -> ``data/cbs_population_2024.csv``;
* **85171NED** (or **85173NED**) regional forecast: the total population per municipality and
  forecast year -> ``data/cbs_forecast_totals.csv``. The region, period and other dimensions and
  the population field are located through the table's ``DataProperties`` (by Type, Key and
  Title), every other dimension is fixed to its total category (or the point forecast), and the
  field's unit (e.g. "x 1 000") is converted to persons;
* **83502NED** (population by 4-digit postcode and age): only checked for availability. The table
  has no municipality key, and the postcode -> municipality assignment that
  ``population_by_age_band_2021.csv`` was built with is not shipped, so that file stays the
  curated snapshot described in ``data/SOURCES.md``.

Every response is checked before anything is written (missing fields, non-numeric values,
unknown or missing municipality codes raise :class:`~sim.io.loaders.DataError` naming the table
and field); output files are written through a temporary file and ``os.replace``, all or none,
never over a shipped snapshot file listed in ``data/SOURCES.md``, and never over a file that
mbo-sim-data did not write: each output begins with a ``# source: ... by mbo-sim-data`` line, and an
existing file without it is left untouched (the command refuses with one line). When CBS cannot be reached (or
with ``--offline``) nothing is touched and the command exits 0: the shipped snapshot is used.

All fetching goes through one function ``fetch(table_id, *, meta=None, filters=None)`` returning a
list of dicts: :func:`cbsodata_fetch` (the default) or :func:`recording_fetch` (``--from-recording
DIR`` reads ``DIR/<table>.json`` for data and ``DIR/<table>.<meta>.json`` for metadata).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.io.loaders import FILES, DataError, _read_csv
from sim.io.safe import check_file_replaceable, locked, signals_deferred

KWB_TABLE = "85984NED"
AGE_TABLE = "83502NED"
FORECAST_TABLES = ("85171NED", "85173NED")
ALL_TABLES = (KWB_TABLE, AGE_TABLE, *FORECAST_TABLES)
DEFAULT_TABLES = (KWB_TABLE, AGE_TABLE, "85171NED")
TABLE_TITLES = {
    KWB_TABLE: "Kerncijfers wijken en buurten 2024",
    AGE_TABLE: "Bevolking; geslacht, leeftijd en viercijferige postcode, 1 januari",
    "85171NED": "Regionale prognose 2023-2050; bevolking, regio-indeling 2021",
    "85173NED": "Regionale prognose 2023-2050; bevolking, intervallen, regio-indeling 2021",
}

POPULATION_FILE = "cbs_population_2024.csv"
FORECAST_FILE = "cbs_forecast_totals.csv"

# 85984NED field names (fixed for this table)
KWB_DIMENSION = "WijkenEnBuurten"
KWB_CODE_FIELD = "Codering_3"
KWB_POPULATION_FIELD = "AantalInwoners_5"

GM_CODE = re.compile(r"GM\d{4}")
REGION_CODE = re.compile(r"(GM|WK|BU)\d{4,8}")
YEAR = re.compile(r"(\d{4})(?:JJ00)?\s*\**")
DIMENSION_TYPES = ("Dimension", "GeoDimension", "TimeDimension")
# category keys CBS uses for "total" (Leeftijd, Geslacht, Nationaliteit) and for the point forecast
TOTAL_KEYS = {"10000", "T001038", "T001059", "T009002", "MW00000"}
POPULATION_TITLES = ("totale bevolking", "bevolking", "aantal inwoners", "bevolking op 1 januari")
POPULATION_KEY = re.compile(r"(TotaleBevolking|TotaalBevolking|Bevolking|AantalInwoners)(_\d+)?")
TIMEOUT_S = 60

Fetch = Callable[..., list[dict]]


class NetworkUnavailable(Exception):
    """CBS could not be reached; the shipped snapshot is used instead."""


# --------------------------------------------------------------------------- fetch functions


def cbsodata_fetch(table_id: str, *, meta: str | None = None, filters: str | None = None) -> list[dict]:
    """Fetch from CBS open data with :mod:`cbsodata`: metadata ``meta`` (e.g. "DataProperties")
    or the data set, filtered server-side with an OData ``filters`` expression.

    Note that ``cbsodata.get_data`` replaces dimension keys by their titles (e.g. "GM0197" by
    "Aalten", "2030JJ00" by "2030"); the parsers below accept either.
    """
    import cbsodata  # imported here so that tests can replace its functions

    if meta is not None:
        return cbsodata.get_meta(table_id, meta, timeout=TIMEOUT_S)
    return cbsodata.get_data(table_id, filters=filters, timeout=TIMEOUT_S)


def recording_fetch(directory: str | Path) -> Fetch:
    """A fetch function reading recorded responses: ``<table>.json`` (data, already filtered as
    the server would) and ``<table>.<meta>.json`` (metadata), each a JSON list of objects."""
    directory = Path(directory)

    def fetch(table_id: str, *, meta: str | None = None, filters: str | None = None) -> list[dict]:
        path = directory / (f"{table_id}.json" if meta is None else f"{table_id}.{meta}.json")
        if not path.is_file():
            what = "data" if meta is None else f"metadata {meta!r}"
            raise DataError(f"recording {path} is missing (CBS table {table_id}, {what})")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"recording {path} (CBS table {table_id}) is not valid JSON: {exc}") from None

    return fetch


def _get(fetch: Fetch, table: str, what: str, **kwargs) -> list[dict]:
    """Call ``fetch`` and sort its failures into NetworkUnavailable and DataError."""
    try:
        rows = fetch(table, **kwargs)
    except DataError:
        raise
    except OSError as exc:  # requests.RequestException and socket errors are OSErrors
        raise NetworkUnavailable(f"CBS table {table} ({what}): {type(exc).__name__}: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"CBS table {table}: malformed response for {what} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"CBS table {table}: {what} is not a list of records (got {type(rows).__name__})")
    return rows


# --------------------------------------------------------------------------- parsing helpers


def _number(table: str, fld: str, row: dict, where: str) -> float:
    if fld not in row:
        raise DataError(f"CBS table {table}: field {fld!r} missing in the response ({where})")
    value = row[fld]
    x = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip())
        except ValueError:
            pass
    if not math.isfinite(x) or x < 0:
        raise DataError(f"CBS table {table}: field {fld!r} must be a non-negative number, found {value!r} ({where})")
    return x


def _text(table: str, fld: str, row: dict, where: str) -> str:
    if fld not in row or row[fld] is None:
        raise DataError(f"CBS table {table}: field {fld!r} missing in the response ({where})")
    return str(row[fld]).strip()


def _unit_factor(table: str, topic: dict) -> int:
    """Persons per unit of a DataProperties topic: "aantal" -> 1, "x 1 000" -> 1000."""
    unit = str(topic.get("Unit") or "").strip().lower()
    compact = re.sub(r"[\s.]", "", unit)
    if compact in ("", "aantal", "personen", "inwoners"):
        return 1
    m = re.fullmatch(r"[x×](\d+)", compact)
    if m:
        return int(m.group(1))
    raise DataError(f"CBS table {table}: unit {unit!r} of field {topic.get('Key')!r} is not a count of persons")


def _population_topic(table: str, props: list[dict]) -> dict:
    topics = [p for p in props if p.get("Type") == "Topic" and p.get("Key")]
    hits = [t for t in topics if str(t.get("Title", "")).strip().lower() in POPULATION_TITLES]
    if not hits:
        hits = [t for t in topics if POPULATION_KEY.fullmatch(str(t["Key"]).strip())]
    if len(hits) != 1:
        found = [f"{t['Key']} ({t.get('Title')})" for t in topics]
        raise DataError(
            f"CBS table {table}: DataProperties has {len(hits)} total-population fields (Title one of "
            f"{list(POPULATION_TITLES)} or Key like TotaleBevolking_n); topics: {found}"
        )
    return hits[0]


def _one_dimension(table: str, props: list[dict], kind: str, fallback: Sequence[str]) -> str:
    keys = [str(p["Key"]) for p in props if p.get("Type") == kind and p.get("Key")]
    if len(keys) != 1:
        keys = [str(p["Key"]) for p in props if p.get("Type") in DIMENSION_TYPES and p.get("Key") in fallback]
    if len(keys) != 1:
        raise DataError(f"CBS table {table}: DataProperties has no single {kind} (looked also for {list(fallback)})")
    return keys[0]


def _total_category(table: str, dim: str, cats: list[dict]) -> dict:
    """The category of ``dim`` that stands for all persons (or the point forecast)."""
    hits = [c for c in cats if str(c.get("Key", "")).strip() in TOTAL_KEYS]
    if len(hits) != 1:
        titles = ("totaal", "prognose")
        hits = [c for c in cats if str(c.get("Title", "")).strip().lower().startswith(titles)]
    if len(hits) != 1 or "Key" not in hits[0]:
        found = [f"{c.get('Key')} ({c.get('Title')})" for c in cats][:12]
        raise DataError(
            f"CBS table {table}: cannot choose the total category of dimension {dim!r} "
            f"({len(hits)} candidates); categories: {found}"
        )
    return hits[0]


def _year(table: str, dim: str, value: str, where: str) -> int:
    m = YEAR.fullmatch(value)
    if not m:
        raise DataError(f"CBS table {table}: field {dim!r} must be a year (2030, 2030JJ00), found {value!r} ({where})")
    return int(m.group(1))


# --------------------------------------------------------------------------- the three tables


def read_municipalities(data_dir: Path) -> dict[str, str]:
    """GM code -> municipality name, in file order."""
    path = data_dir / FILES["municipalities"]
    df = _read_csv(path, {"gm_code": "str", "municipality": "str"})
    bad = [c for c in df["gm_code"] if not GM_CODE.fullmatch(c)]
    if bad:
        raise DataError(f"data file {path}: column 'gm_code' must look like GM0123, found {bad[0]!r}")
    if df["gm_code"].duplicated().any():
        raise DataError(f"data file {path}: duplicate gm_code {df['gm_code'][df['gm_code'].duplicated()].iloc[0]!r}")
    return dict(zip(df["gm_code"], df["municipality"], strict=True))


def fetch_population(fetch: Fetch, munis: dict[str, str]) -> list[dict]:
    """85984NED: inhabitants per municipality (``AantalInwoners_5`` of the GM rows)."""
    table = KWB_TABLE
    filters = " or ".join(f"startswith({KWB_DIMENSION},'{code}')" for code in munis)
    rows = _get(fetch, table, "data", filters=filters)
    found: dict[str, int] = {}
    for i, row in enumerate(rows):
        where = f"row {i}"
        # get_data shows WijkenEnBuurten as its title ("Aalten"); Codering_3 keeps the code
        fld = KWB_CODE_FIELD if KWB_CODE_FIELD in row else KWB_DIMENSION
        code = _text(table, fld, row, where)
        if not REGION_CODE.fullmatch(code):
            raise DataError(
                f"CBS table {table}: field {KWB_CODE_FIELD!r} missing and {KWB_DIMENSION!r} is not a region code, "
                f"found {code!r} ({where})"
            )
        if not code.startswith("GM"):
            continue  # a wijk or buurt row: not a municipality total
        if code not in munis:
            raise DataError(
                f"CBS table {table}: field {fld!r} holds municipality code {code!r}, which is not in "
                f"{FILES['municipalities']} ({where})"
            )
        if code in found:
            raise DataError(f"CBS table {table}: municipality {code} appears twice in the response")
        x = _number(table, KWB_POPULATION_FIELD, row, f"{where}, {code}")
        if x != int(x):
            raise DataError(f"CBS table {table}: field {KWB_POPULATION_FIELD!r} of {code} is not a whole number: {x}")
        found[code] = int(x)
    missing = [c for c in munis if c not in found]
    if missing:
        raise DataError(f"CBS table {table}: no {KWB_POPULATION_FIELD} row for municipality code(s) {missing}")
    return [{"gm_code": c, "municipality": munis[c], "population": found[c]} for c in munis]


@dataclass
class Forecast:
    table: str
    rows: list[dict]
    source: str  # what the source line says about fields and categories


def fetch_forecast(fetch: Fetch, table: str, munis: dict[str, str]) -> Forecast:
    """85171NED/85173NED: total population per municipality and forecast year, in persons."""
    props = _get(fetch, table, "metadata DataProperties", meta="DataProperties")
    geo = _one_dimension(table, props, "GeoDimension", ("RegioS", "RegioIndeling2021", "Gemeenten"))
    time = _one_dimension(table, props, "TimeDimension", ("Perioden",))
    others = [str(p["Key"]) for p in props if p.get("Type") == "Dimension" and p.get("Key") not in (geo, time)]
    topic = _population_topic(table, props)
    pop_field = str(topic["Key"]).strip()
    factor = _unit_factor(table, topic)

    # region keys: the filter needs them as stored (CBS pads them with spaces); the data may show titles
    regions = _get(fetch, table, f"metadata {geo}", meta=geo)
    key_of: dict[str, str] = {}
    code_of_title: dict[str, str] = {}
    non_municipal: set[str] = set()
    for cat in regions:
        key = str(cat.get("Key", ""))
        title = str(cat.get("Title", "")).strip()
        if GM_CODE.fullmatch(key.strip()):
            key_of[key.strip()] = key
            code_of_title[title] = key.strip()
        else:
            non_municipal.update({key.strip(), title})
    absent = [c for c in munis if c not in key_of]
    if absent:
        raise DataError(f"CBS table {table}: municipality code(s) {absent} are not categories of dimension {geo!r}")

    chosen: dict[str, dict] = {}
    for dim in others:
        chosen[dim] = _total_category(table, dim, _get(fetch, table, f"metadata {dim}", meta=dim))

    filters = "(" + " or ".join(f"{geo} eq '{key_of[c]}'" for c in munis) + ")"
    for dim, cat in chosen.items():
        filters += f" and {dim} eq '{cat['Key']}'"
    rows = _get(fetch, table, "data", filters=filters)

    values: dict[tuple[str, int], int] = {}
    for i, row in enumerate(rows):
        where = f"row {i}"
        if any(_text(table, d, row, where) not in {str(c["Key"]).strip(), str(c.get("Title", "")).strip()}
               for d, c in chosen.items()):
            continue  # not the total category (the server filter should have dropped it)
        region = _text(table, geo, row, where)
        code = region if GM_CODE.fullmatch(region) else code_of_title.get(region)
        if code is None and region in non_municipal:
            continue  # a province or the country: not asked for
        if code not in munis:
            raise DataError(f"CBS table {table}: field {geo!r} holds unknown municipality {region!r} ({where})")
        year = _year(table, time, _text(table, time, row, where), where)
        if (code, year) in values:
            raise DataError(f"CBS table {table}: municipality {code}, year {year} appears twice in the response")
        values[(code, year)] = round(_number(table, pop_field, row, f"{where}, {code} {year}") * factor)

    years = sorted({y for _, y in values})
    gaps = [f"{c} {y}" for c in munis for y in years if (c, y) not in values] if years else list(munis)
    if gaps:
        raise DataError(f"CBS table {table}: no {pop_field} value for {gaps[:10]}{' ...' if len(gaps) > 10 else ''}")
    out = [
        {"gm_code": c, "municipality": munis[c], "year": y, "population": values[(c, y)],
         "source_table": table, "source_field": pop_field}
        for c in munis for y in years
    ]
    fixed = "".join(f", {d} = {c.get('Title', c['Key']).strip()}" for d, c in chosen.items())
    unit = f"unit {str(topic.get('Unit')).strip()!r}, converted to persons" if factor != 1 else "persons"
    return Forecast(table, out, f"field {pop_field} ({unit}), {geo} x {time}{fixed}")


def check_age_table(fetch: Fetch) -> str:
    """83502NED: confirm the table is there and say why the age-band file is not refreshed."""
    table = AGE_TABLE
    info = _get(fetch, table, "metadata TableInfos", meta="TableInfos")
    props = _get(fetch, table, "metadata DataProperties", meta="DataProperties")
    title = str(info[0].get("Title", "")).strip() if info else TABLE_TITLES[table]
    period = str(info[0].get("Period", "")).strip() if info else ""
    dims = [str(p["Key"]) for p in props if p.get("Type") in DIMENSION_TYPES and p.get("Key")]
    municipal = []
    for dim in dims:
        if dim in ("Geslacht", "Leeftijd", "Perioden"):
            continue
        cats = _get(fetch, table, f"metadata {dim}", meta=dim)
        if any(GM_CODE.fullmatch(str(c.get("Key", "")).strip()) for c in cats):
            municipal.append(dim)
    head = f"{table} \"{title}\"{f' (period {period})' if period else ''} is available; dimensions {dims}."
    if municipal:
        return (f"{head} It carries municipality codes in {municipal}, but aggregation to age bands is not "
                f"implemented: {FILES['population']} is left unchanged (curated snapshot, see data/SOURCES.md).")
    return (f"{head} It is keyed by 4-digit postcode without a municipality key, and the postcode -> municipality "
            f"assignment is not shipped, so {FILES['population']} stays the curated snapshot described in "
            f"data/SOURCES.md (not changed).")


# --------------------------------------------------------------------------- writing


def protected_files(data_dir: Path) -> set[str]:
    """Names of the shipped snapshot files: the loaders' inputs plus the files listed in the
    first column of the tables in data/SOURCES.md (rows mentioning mbo-sim-data are generated)."""
    names = set(FILES.values())
    sources = data_dir / "SOURCES.md"
    if sources.is_file():
        for line in sources.read_text(encoding="utf-8").splitlines():
            cells = line.strip().split("|")
            if len(cells) > 2 and "mbo-sim-data" not in line:
                names.update(re.findall(r"`([^`/]+\.\w+)`", cells[1]))
    return names


def _csv_text(source: str, rows: list[dict]) -> str:
    buf = io.StringIO()
    buf.write(f"# source: {source}\n")
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


WRITER_MARK = " by mbo-sim-data"


def written_by_us(path: Path) -> bool:
    """True if ``path`` is a file mbo-sim-data wrote: its first line is the ``# source:`` comment
    every output begins with, ending in "by mbo-sim-data" (the loaders skip it as a comment).
    A file without that line (a user's own, or one whose first line was edited) is never replaced."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline().rstrip("\r\n")
    except OSError:
        return False
    return first.startswith("# source: ") and first.endswith(WRITER_MARK)


def write_all(outputs: dict[Path, str], data_dir: Path) -> None:
    """Write every file to a temporary file first, then move them all in place (os.replace).

    Refuses (DataError) a shipped snapshot file and (UnsafeOutput) any existing file that
    mbo-sim-data did not write (:func:`written_by_us`), before writing anything; the check is
    repeated under the folder's lock just before the move."""
    protected = protected_files(data_dir)
    clash = sorted(p.name for p in outputs if p.name in protected)
    if clash:
        raise DataError(f"refusing to overwrite shipped snapshot file(s) {clash} listed in data/SOURCES.md")
    for path, text in outputs.items():
        assert text.splitlines()[0].endswith(WRITER_MARK), path  # what makes the file ours next time
        check_file_replaceable(path, written_by_us)
    temps: dict[Path, str] = {}
    try:
        for path, text in outputs.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps[path] = tmp
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the data are for everyone who reads the folder
        with locked(data_dir), signals_deferred():
            for path in temps:
                check_file_replaceable(path, written_by_us)
            for path, tmp in temps.items():
                os.replace(tmp, path)
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)


# --------------------------------------------------------------------------- refresh


@dataclass
class Result:
    written: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def refresh(
    data_dir: str | Path = "data",
    tables: Sequence[str] = DEFAULT_TABLES,
    fetch: Fetch = cbsodata_fetch,
    today: dt.date | None = None,
    origin: str = "CBS open data (cbsodata)",
) -> Result:
    """Fetch and check everything, then write the output files (all or none).

    Raises NetworkUnavailable when CBS cannot be reached and DataError on a malformed response.
    """
    data_dir = Path(data_dir)
    unknown = [t for t in tables if t not in ALL_TABLES]
    if unknown:
        raise DataError(f"unknown table(s) {unknown}; allowed: {list(ALL_TABLES)}")
    forecasts = [t for t in tables if t in FORECAST_TABLES]
    if len(forecasts) > 1:
        raise DataError(f"choose one forecast table, not {forecasts}")
    munis = read_municipalities(data_dir)
    date = (today or dt.date.today()).isoformat()
    result = Result()
    outputs: dict[Path, str] = {}

    if KWB_TABLE in tables:
        rows = fetch_population(fetch, munis)
        source = (f"CBS StatLine table {KWB_TABLE} \"{TABLE_TITLES[KWB_TABLE]}\", field {KWB_POPULATION_FIELD} "
                  f"of the rows {KWB_DIMENSION} = GM code; retrieved {date} from {origin} by mbo-sim-data")
        outputs[data_dir / POPULATION_FILE] = _csv_text(source, rows)
        result.messages.append(_compare_with_snapshot(data_dir, rows))
    if forecasts:
        fc = fetch_forecast(fetch, forecasts[0], munis)
        years = sorted({r["year"] for r in fc.rows})
        source = (f"CBS StatLine table {fc.table} \"{TABLE_TITLES[fc.table]}\", {fc.source}; "
                  f"retrieved {date} from {origin} by mbo-sim-data")
        outputs[data_dir / FORECAST_FILE] = _csv_text(source, fc.rows)
        result.messages.append(f"{fc.table}: {len(munis)} municipalities x {len(years)} years ({years[0]}-{years[-1]})")
    if AGE_TABLE in tables:
        result.messages.append(check_age_table(fetch))

    if outputs:
        write_all(outputs, data_dir)
        result.written = list(outputs)
    return result


def _compare_with_snapshot(data_dir: Path, rows: list[dict]) -> str:
    path = data_dir / FILES["municipalities"]
    try:
        shipped = _read_csv(path, {"gm_code": "str", "population_2024": "int"})
    except DataError:
        return f"{KWB_TABLE}: {len(rows)} municipalities, total {sum(r['population'] for r in rows):,}"
    old = dict(zip(shipped["gm_code"], shipped["population_2024"], strict=True))
    differ = [r["gm_code"] for r in rows if old.get(r["gm_code"]) != r["population"]]
    return (f"{KWB_TABLE}: {len(rows)} municipalities, total {sum(r['population'] for r in rows):,}; "
            f"{len(differ)} differ from population_2024 in {path.name}{f' {differ[:8]}' if differ else ''}")
