"""mbo-sim-data (sim/datatools/) against small recorded CBS responses; the network is never used."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import cbsodata
import pandas as pd
import pytest
import requests

from sim.datatools import cbs, cli
from sim.io.loaders import DataError

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDING = Path(__file__).resolve().parent / "data" / "cbs"
TODAY = dt.date(2025, 3, 14)
CODES = ["GM0197", "GM0294", "GM0664", "GM0935"]  # Aalten, Winterswijk, Goes, Maastricht
SNAPSHOT = "region,gm_code,municipality,age_band,persons,men,women\n"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any use of cbsodata or requests fails the test (unless a test replaces it on purpose)."""

    def refuse(*args, **kwargs):
        raise AssertionError("test tried to use the network")

    for name in ("get_data", "get_meta", "get_info", "get_table_list", "download_data"):
        monkeypatch.setattr(cbsodata, name, refuse)
    monkeypatch.setattr(requests.Session, "send", refuse)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A data folder with four of the 37 municipalities, the real SOURCES.md and a snapshot file."""
    d = tmp_path / "data"
    d.mkdir()
    lines = (REPO_ROOT / "data" / "municipalities.csv").read_text().splitlines()
    (d / "municipalities.csv").write_text("\n".join([lines[0], *[x for x in lines if x.split(",")[1] in CODES]]) + "\n")
    shutil.copy(REPO_ROOT / "data" / "SOURCES.md", d / "SOURCES.md")
    (d / "population_by_age_band_2021.csv").write_text(SNAPSHOT)
    return d


@pytest.fixture
def recording(tmp_path) -> Path:
    """A writable copy of the recorded responses (tests may spoil it)."""
    return Path(shutil.copytree(RECORDING, tmp_path / "recording"))


def folder_state(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def read_output(path: Path) -> tuple[str, pd.DataFrame]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first, pd.read_csv(path, comment="#")


def test_refresh_from_recording_writes_both_files(data_dir, capsys):
    before = folder_state(data_dir)
    assert cli.main(["--data-dir", str(data_dir), "--from-recording", str(RECORDING)], today=TODAY) == 0
    out = capsys.readouterr().out

    source, pop = read_output(data_dir / cbs.POPULATION_FILE)
    assert source.startswith("# source: CBS StatLine table 85984NED") and "2025-03-14" in source
    assert "AantalInwoners_5" in source
    assert list(pop.columns) == ["gm_code", "municipality", "population"]
    assert pop.set_index("gm_code")["population"].to_dict() == {
        "GM0197": 27308, "GM0294": 29231, "GM0664": 39682, "GM0935": 125285}
    assert list(pop["municipality"]) == ["Aalten", "Winterswijk", "Goes", "Maastricht"]

    source, fc = read_output(data_dir / cbs.FORECAST_FILE)
    assert source.startswith("# source: CBS StatLine table 85171NED") and "2025-03-14" in source
    assert "TotaleBevolking_1" in source and "x 1 000" in source
    assert list(fc.columns) == ["gm_code", "municipality", "year", "population", "source_table", "source_field"]
    assert len(fc) == 4 * 4 and sorted(set(fc["year"])) == [2025, 2030, 2035, 2040]
    assert set(fc["source_table"]) == {"85171NED"} and set(fc["source_field"]) == {"TotaleBevolking_1"}
    row = fc[(fc["gm_code"] == "GM0935") & (fc["year"] == 2030)].iloc[0]
    assert row["population"] == 127600 and row["municipality"] == "Maastricht"  # 127.6 thousand

    assert "83502NED" in out and "curated snapshot" in out
    after = folder_state(data_dir)
    assert after["population_by_age_band_2021.csv"] == SNAPSHOT.encode()
    assert {k: v for k, v in after.items() if k in before} == before  # inputs untouched
    assert set(after) - set(before) == {cbs.POPULATION_FILE, cbs.FORECAST_FILE}  # no temp files left


def test_fetch_is_injectable_and_filters_server_side(data_dir):
    calls = []
    recorded = cbs.recording_fetch(RECORDING)

    def fetch(table_id, **kwargs):
        calls.append((table_id, kwargs))
        return recorded(table_id, **kwargs)

    result = cbs.refresh(data_dir, ["85984NED", "85171NED"], fetch=fetch, today=TODAY)
    assert [p.name for p in result.written] == [cbs.POPULATION_FILE, cbs.FORECAST_FILE]
    filters = {t: kw["filters"] for t, kw in calls if kw.get("meta") is None}
    assert "startswith(WijkenEnBuurten,'GM0197')" in filters["85984NED"]
    assert "RegioIndeling2021 eq 'GM0935'" in filters["85171NED"]
    assert "Leeftijd eq '10000'" in filters["85171NED"] and "Geslacht eq 'T001038'" in filters["85171NED"]
    assert ("85171NED", {"meta": "DataProperties"}) in calls


def test_forecast_field_found_by_title_with_regios_keys(data_dir):
    """Another layout: RegioS with raw keys, extra topics, a prognosis interval, values in persons."""
    props = [
        {"Type": "GeoDimension", "Key": "RegioS", "Title": "Regio's"},
        {"Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
        {"Type": "Dimension", "Key": "PrognoseInterval", "Title": "Prognose(interval)"},
        {"Type": "Topic", "Key": "Huishoudens_2", "Title": "Particuliere huishoudens", "Unit": "aantal"},
        {"Type": "Topic", "Key": "Inwoners_1", "Title": "Totale bevolking", "Unit": "aantal"},
    ]
    metadata = {
        "DataProperties": props,
        "RegioS": [{"Key": c, "Title": c} for c in CODES] + [{"Key": "NL01  ", "Title": "Nederland"}],
        "PrognoseInterval": [{"Key": "MW00000", "Title": "Prognose"}, {"Key": "MOG0067", "Title": "Ondergrens"}],
    }
    data = [{"RegioS": c, "Perioden": f"{y}JJ00", "PrognoseInterval": v, "Inwoners_1": 1000 + i, "Huishoudens_2": 1}
            for i, c in enumerate(CODES) for y in (2030, 2050) for v in ("MW00000", "MOG0067")]
    data.append({"RegioS": "NL01  ", "Perioden": "2030JJ00", "PrognoseInterval": "MW00000", "Inwoners_1": 9})

    def fetch(table_id, *, meta=None, filters=None):
        return metadata[meta] if meta else data

    fc = cbs.fetch_forecast(fetch, "85173NED", {c: c for c in CODES})
    assert [(r["gm_code"], r["year"], r["population"]) for r in fc.rows[:2]] == [("GM0197", 2030, 1000),
                                                                             ("GM0197", 2050, 1000)]
    assert len(fc.rows) == 8 and "PrognoseInterval = Prognose" in fc.source


def test_default_fetch_goes_through_cbsodata(data_dir, monkeypatch):
    recorded = cbs.recording_fetch(RECORDING)
    seen = []

    def get_data(table_id, filters=None, **kwargs):
        seen.append((table_id, kwargs))
        return recorded(table_id, filters=filters)

    monkeypatch.setattr(cbsodata, "get_data", get_data)
    monkeypatch.setattr(cbsodata, "get_meta", lambda table_id, name, **kwargs: recorded(table_id, meta=name))
    assert cli.main(["--data-dir", str(data_dir)], today=TODAY) == 0
    assert (data_dir / cbs.POPULATION_FILE).is_file() and (data_dir / cbs.FORECAST_FILE).is_file()
    assert [t for t, _ in seen] == ["85984NED", "85171NED"] and all("timeout" in kw for _, kw in seen)


def test_network_failure_falls_back_and_writes_nothing(data_dir, monkeypatch, capsys):
    def down(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'opendata.cbs.nl'")

    monkeypatch.setattr(cbsodata, "get_data", down)
    monkeypatch.setattr(cbsodata, "get_meta", down)
    before = folder_state(data_dir)
    assert cli.main(["--data-dir", str(data_dir)], today=TODAY) == 0
    out = capsys.readouterr().out
    assert "not reachable" in out and "shipped snapshot" in out
    assert folder_state(data_dir) == before


def test_network_failure_after_first_table_writes_nothing(data_dir):
    recorded = cbs.recording_fetch(RECORDING)

    def fetch(table_id, **kwargs):
        if table_id == "85171NED" and kwargs.get("meta") is None:
            raise requests.Timeout("read timed out")
        return recorded(table_id, **kwargs)

    before = folder_state(data_dir)
    assert cli.main(["--data-dir", str(data_dir)], fetch=fetch, today=TODAY) == 0
    assert folder_state(data_dir) == before


def test_offline_flag_touches_nothing(data_dir, capsys):
    before = folder_state(data_dir)
    assert cli.main(["--data-dir", str(data_dir), "--offline"]) == 0  # cbsodata would raise AssertionError
    assert "shipped snapshot" in capsys.readouterr().out
    assert folder_state(data_dir) == before


def _spoil_field(rec: Path, table: str, i: int, fld: str, value=None, drop=False):
    path = rec / f"{table}.json"
    rows = json.loads(path.read_text())
    if drop:
        del rows[i][fld]
    else:
        rows[i][fld] = value
    path.write_text(json.dumps(rows))


@pytest.mark.parametrize(
    ("table", "fld", "value", "drop", "expected"),
    [
        ("85984NED", "AantalInwoners_5", None, True, r"85984NED.*'AantalInwoners_5' missing"),
        ("85984NED", "AantalInwoners_5", "n.b.", False, r"85984NED.*'AantalInwoners_5' must be a non-negative number"),
        ("85984NED", "Codering_3", "GM9999    ", False, r"85984NED.*'Codering_3'.*'GM9999'"),
        ("85171NED", "TotaleBevolking_1", "  .  ", False, r"85171NED.*'TotaleBevolking_1' must be a non-negative"),
        ("85171NED", "RegioIndeling2021", "Atlantis", False, r"85171NED.*'RegioIndeling2021'.*'Atlantis'"),
        ("85171NED", "Perioden", None, True, r"85171NED.*'Perioden' missing"),
    ],
)
def test_malformed_recording_fails_and_writes_nothing(data_dir, recording, capsys, table, fld, value, drop, expected):
    _spoil_field(recording, table, 1, fld, value, drop)
    before = folder_state(data_dir)
    with pytest.raises(DataError, match=expected):
        cbs.refresh(data_dir, cbs.DEFAULT_TABLES, fetch=cbs.recording_fetch(recording), today=TODAY)
    assert cli.main(["--data-dir", str(data_dir), "--from-recording", str(recording)], today=TODAY) == 1
    err = capsys.readouterr().err
    assert table in err and fld in err and "No files were written" in err
    assert folder_state(data_dir) == before


def test_missing_population_field_in_metadata(data_dir, recording):
    path = recording / "85171NED.DataProperties.json"
    props = [p for p in json.loads(path.read_text()) if p["Type"] != "Topic"]
    path.write_text(json.dumps(props))
    with pytest.raises(DataError, match=r"85171NED: DataProperties has 0 total-population fields"):
        cbs.refresh(data_dir, ["85171NED"], fetch=cbs.recording_fetch(recording), today=TODAY)


def test_missing_municipality_is_an_error(data_dir, recording):
    path = recording / "85984NED.json"
    path.write_text(json.dumps(json.loads(path.read_text())[:-1]))
    with pytest.raises(DataError, match=r"85984NED: no AantalInwoners_5 row for municipality code\(s\) \['GM0935'\]"):
        cbs.refresh(data_dir, ["85984NED"], fetch=cbs.recording_fetch(recording), today=TODAY)


def test_never_overwrites_a_shipped_snapshot(data_dir):
    with (data_dir / "SOURCES.md").open("a") as f:
        f.write("\n| file | what | source |\n|---|---|---|\n| `cbs_population_2024.csv` | curated | by hand |\n")
    before = folder_state(data_dir)
    with pytest.raises(DataError, match="refusing to overwrite shipped snapshot"):
        cbs.refresh(data_dir, ["85984NED"], fetch=cbs.recording_fetch(RECORDING), today=TODAY)
    assert folder_state(data_dir) == before


def test_shipped_sources_list_protects_the_input_files():
    names = cbs.protected_files(REPO_ROOT / "data")
    assert {"municipalities.csv", "population_by_age_band_2021.csv", "municipalities_2017_wgs84.geojson"} <= names
    assert not {cbs.POPULATION_FILE, cbs.FORECAST_FILE} & names
