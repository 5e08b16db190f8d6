"""``mbo-sim-data duo`` (sim/datatools/duo.py) on a recorded sample in DUO's layout (tests/data/duo/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.datatools import cli, duo
from sim.io import loaders

SAMPLE = Path(__file__).resolve().parent / "data" / "duo"
Y2021 = SAMPLE / "deelnemers_inst_kwal_wgdln_lftcat_mbo_2021.csv"
Y2022 = SAMPLE / "deelnemers_inst_kwal_wgdln_lftcat_mbo_2022.csv"
WIDE = SAMPLE / "deelnemers_mbo_2021_2022_per_jaar.csv"
SHIPPED = loaders.PACKAGE_DATA_DIR


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        rc = cli.main(["duo", *map(str, args)])
    except SystemExit as exc:  # argparse
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype={"BRIN NUMMER": str})


def expected_per_institution(path: Path, sites: set[str], small: float = 2.5) -> dict[str, float]:
    """The sample's sums per BRIN at the given DUO locations, a flagged 4 counted as ``small``."""
    df = raw(path)
    df = df[df["GEMEENTENAAM"].isin(sites)]
    value = np.where((df["INDICATIEAVG"] == "J") & (df["AANTAL DEELNEMERS"] == 4), small, df["AANTAL DEELNEMERS"])
    return pd.Series(value, index=df.index).groupby(df["BRIN NUMMER"]).sum().to_dict()


@pytest.fixture(scope="module")
def zeeland(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("duo") / "zeeland"
    assert cli.main(["duo", str(Y2021), str(Y2022), "--region", "zeeland", "--out", str(out)]) == 0
    return out


def test_portfolio_layout_and_loader(zeeland):
    shipped = pd.read_csv(SHIPPED / "portfolio.csv")
    new = pd.read_csv(zeeland / "portfolio.csv")
    assert list(new.columns) == list(shipped.columns) == duo.PORTFOLIO_COLUMNS
    ze = new[new["region"] == "zeeland"]
    assert set(ze["split"]) == {"sourced"} and ze["source"].str.contains("1 Oct 2022").all()
    assert set(ze["route"]) == {"BOL", "BBL"}
    assert set(ze["site"]) == {"Goes", "Middelburg", "Vlissingen", "Terneuzen"}
    assert set(ze["crebo"]) <= set(pd.read_csv(SHIPPED / "qualifications.csv")["crebo"])
    assert not ze.duplicated(["institution", "site", "crebo", "route"]).any()
    # the other regions are kept as shipped
    pd.testing.assert_frame_equal(new[new["region"] != "zeeland"].reset_index(drop=True),
                                  shipped[shipped["region"] != "zeeland"].reset_index(drop=True))
    # the folder is a complete data_dir
    region = loaders.load_region("zeeland", zeeland)
    assert len(region.municipalities) == 13
    if hasattr(region, "portfolio"):  # the qualification-level loader reads it (load_portfolio)
        assert region.portfolio["students_base"].sum() == pytest.approx(ze["students_base"].sum())


def test_totals_per_institution_follow_the_small_count_rule(zeeland):
    want = expected_per_institution(Y2022, {"GOES", "MIDDELBURG", "VLISSINGEN", "TERNEUZEN"})
    ze = pd.read_csv(zeeland / "portfolio.csv").query("region == 'zeeland'")
    got = ze.groupby("institution")["students_base"].sum()
    assert got["Scalda"] == pytest.approx(want["99SC"])
    assert got["Hoornbeeck College"] == pytest.approx(want["99HB"])
    report = (zeeland / "duo_import.md").read_text()
    df = raw(Y2022)
    flagged = int(((df["INDICATIEAVG"] == "J") & df["GEMEENTENAAM"].isin(["GOES", "MIDDELBURG", "VLISSINGEN",
                                                                            "TERNEUZEN"])).sum())
    assert f"{flagged} of " in report and "counted as 2.5" in report
    hist = pd.read_csv(zeeland / "history.csv").query("year == 2022")
    assert hist["students_low"].sum() == pytest.approx(ze["students_base"].sum() - 1.5 * flagged)
    assert hist["students_high"].sum() == pytest.approx(ze["students_base"].sum() + 1.5 * flagged)


def test_history_flows_and_small_count_option(zeeland, tmp_path, capsys):
    hist = pd.read_csv(zeeland / "history.csv")
    assert sorted(hist["year"].unique()) == [2021, 2022] and hist["intake"].isna().all()
    want21 = expected_per_institution(Y2021, {"GOES", "MIDDELBURG", "VLISSINGEN", "TERNEUZEN"})
    assert hist.query("year == 2021")["students"].sum() == pytest.approx(sum(want21.values()))
    flows = pd.read_csv(zeeland / "flows.csv", dtype={"home_gm_code": str})
    assert list(flows.columns) == list(duo.FLOW_COLUMNS)
    f22 = flows.query("year == 2022")
    assert f22["students"].sum() == pytest.approx(hist.query("year == 2022")["students"].sum())
    assert (f22.loc[f22["home_municipality"] == "Goes", "home_gm_code"] == "GM0664").all()
    # --small-count 1 gives the low end
    rc, _, err = run(capsys, Y2022, "--region", "zeeland", "--out", tmp_path / "low", "--small-count", "1")
    assert rc == 0, err
    low = pd.read_csv(tmp_path / "low" / "portfolio.csv").query("region == 'zeeland'")["students_base"].sum()
    assert low == pytest.approx(hist.query("year == 2022")["students_low"].sum())
    assert not (tmp_path / "low" / "history.csv").exists()  # one year: no history


def test_study_flows_from_the_home_municipalities(zeeland):
    """The written study_flows.csv holds the region's outflow and inflow shares of DUO's latest
    year, computed from flows.csv; the other regions' rows are the source folder's."""
    flows = pd.read_csv(zeeland / "flows.csv", dtype={"home_gm_code": str}).query("year == 2022")
    sf = pd.read_csv(zeeland / "study_flows.csv", comment="#")
    mine = sf[(sf["region"] == "zeeland") & sf["source"].str.contains("by mbo-sim-data duo")]
    inside = flows["site"].isin({"Goes", "Middelburg", "Vlissingen", "Terneuzen"})
    home = flows["home_region"] == "Zeeland"
    out = mine.set_index("quantity")["value"]
    assert out["outflow_share"] == pytest.approx(flows.loc[home & ~inside, "students"].sum()
                                                 / flows.loc[home, "students"].sum(), abs=1e-4)
    for inst, g in flows[inside].groupby("institution"):
        want = g.loc[g["home_region"] != "Zeeland", "students"].sum() / g["students"].sum()
        assert out[f"inflow_share_{inst}"] == pytest.approx(want, abs=1e-4)
    shipped = pd.read_csv(SHIPPED / "study_flows.csv", comment="#")
    others = shipped[shipped["region"] != "zeeland"]
    assert len(sf[sf["region"] != "zeeland"]) == len(others)
    assert ((sf["value"] >= 0) & (sf["value"] <= 1)).all()


def test_wide_layout_and_external_and_alias_sites(zeeland, tmp_path, capsys):
    rc, _, err = run(capsys, WIDE, "--region", "zeeland", "--out", tmp_path / "wide")
    assert rc == 0, err
    for name in ("portfolio.csv", "history.csv"):
        a = pd.read_csv(zeeland / name).drop(columns=["source"], errors="ignore")
        b = pd.read_csv(tmp_path / "wide" / name).drop(columns=["source"], errors="ignore")
        pd.testing.assert_frame_equal(a, b)
    # Achterhoek: GROENLO is Graafschap College's site in Oost Gelre; BRIN 24ZZ matches institutions.csv
    rc, _, err = run(capsys, Y2022, "--region", "achterhoek", "--out", tmp_path / "ach")
    assert rc == 0, err
    ach = pd.read_csv(tmp_path / "ach" / "portfolio.csv").query("region == 'achterhoek'")
    assert set(ach["site"]) == {"Doetinchem", "Oost Gelre"} and set(ach["institution"]) == {"Graafschap College"}
    want = expected_per_institution(Y2022, {"DOETINCHEM", "GROENLO"})["24ZZ"]
    assert ach["students_base"].sum() == pytest.approx(want)
    # Zuid-Limburg: the external site Roermond counts only residents of the region
    rc, _, err = run(capsys, Y2022, "--region", "zuid_limburg", "--out", tmp_path / "zl")
    assert rc == 0, err
    zl = pd.read_csv(tmp_path / "zl" / "portfolio.csv").query("region == 'zuid_limburg'")
    df = raw(Y2022).query("GEMEENTENAAM == 'ROERMOND' and `WOONGEMEENTE DEELNEMER` != 'ROERMOND'")
    want = np.where(df["INDICATIEAVG"] == "J", 2.5, df["AANTAL DEELNEMERS"]).sum()
    assert set(zl["site"]) == {"Roermond"} and zl["students_base"].sum() == pytest.approx(want)


# --------------------------------------------------------------------------- bad input


def _edit(tmp_path: Path, edit, name: str = "bad_2022.csv") -> Path:
    df = raw(Y2022)
    df = edit(df)
    p = tmp_path / name
    df.to_csv(p, sep=";", index=False)
    return p


def _bad_files(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    xlsx = tmp_path / "duo_2022.xlsx"
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(64))
    text = tmp_path / "notes_2022.csv"
    text.write_text("These are not the counts you are looking for\n")
    zeeland_crebo = raw(Y2022)["GEMEENTENAAM"].eq("GOES").idxmax()

    def bad_crebo(df):
        df.loc[zeeland_crebo, "KWALIFICATIECODE"] = 99999
        return df

    def bad_count(df):
        df["AANTAL DEELNEMERS"] = df["AANTAL DEELNEMERS"].astype(str)
        df.loc[5, "AANTAL DEELNEMERS"] = "vier"
        return df

    def bad_route(df):
        df.loc[zeeland_crebo, "LEERWEG"] = "CBL"
        return df

    def elsewhere(df):
        return df[df["GEMEENTENAAM"] == "AMSTERDAM"]

    return {
        "missing file": ([str(tmp_path / "nowhere_2022.csv")], "file not found"),
        "excel, not csv": ([str(xlsx)], "not a CSV text file"),
        "text, not csv": ([str(text)], "not a CSV file"),
        "missing column": ([str(_edit(tmp_path, lambda d: d.drop(columns=["LEERWEG"]), "a_2022.csv"))],
                           "missing route"),
        "unknown column": ([str(_edit(tmp_path, lambda d: d.assign(OPMERKING="x"), "b_2022.csv"))],
                           "unknown column(s) ['OPMERKING']"),
        "non-numeric count": ([str(_edit(tmp_path, bad_count, "c_2022.csv"))],
                              "column 'AANTAL DEELNEMERS' must be a whole number >= 0, found 'vier'"),
        "unknown crebo": ([str(_edit(tmp_path, bad_crebo, "d_2022.csv"))],
                          "column 'KWALIFICATIECODE': crebo 99999 is not in qualifications.csv"),
        "unknown leerweg": ([str(_edit(tmp_path, bad_route, "e_2022.csv"))], "unknown leerweg 'CBL'"),
        "no rows for the region": ([str(_edit(tmp_path, elsewhere, "f_2022.csv"))], "no rows for region zeeland"),
        "no year": ([str(_edit(tmp_path, lambda d: d.drop(columns=["PEILJAAR"]), "g.csv"))], "cannot tell the year"),
        "year twice": ([str(Y2022), str(_edit(tmp_path, lambda d: d, "h_2022.csv"))], "year 2022 is also in"),
        "small count out of range": ([str(Y2022), "--small-count", "5"], "must be from 1 to 4"),
    }


CASES = ["missing file", "excel, not csv", "text, not csv", "missing column", "unknown column", "non-numeric count",
         "unknown crebo", "unknown leerweg", "no rows for the region", "no year", "year twice",
         "small count out of range"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exit_2_one_line_nothing_written(case, tmp_path, capsys):
    args, message = _bad_files(tmp_path)[case]
    out = tmp_path / "out" / "zeeland"
    rc, stdout, err = run(capsys, *args, "--region", "zeeland", "--out", out)
    assert rc == 2
    lines = [x for x in err.splitlines() if not x.startswith("usage:") and x.strip()]
    assert len(lines) == 1 and message in lines[0], err
    assert not out.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_skip_unknown_crebo_counts_them(tmp_path, capsys):
    args, _ = _bad_files(tmp_path)["unknown crebo"]
    rc, stdout, err = run(capsys, *args, "--region", "zeeland", "--out", tmp_path / "o", "--skip-unknown-crebo")
    assert rc == 0, err
    assert "skipped 1 rows" in stdout and "99999" in stdout


def test_never_writes_the_data_folder_or_a_foreign_folder(tmp_path, capsys):
    rc, _, err = run(capsys, Y2022, "--region", "zeeland", "--out", SHIPPED / "duo")
    assert rc == 2 and "inside the data folder" in err and not (SHIPPED / "duo").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    rc, _, err = run(capsys, Y2022, "--region", "zeeland", "--out", foreign)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "refusing to replace" in err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    # a folder written earlier by the importer is replaced
    rc, _, err = run(capsys, Y2022, "--region", "zeeland", "--out", tmp_path / "again")
    rc2, _, err2 = run(capsys, Y2022, "--region", "zeeland", "--out", tmp_path / "again")
    assert rc == rc2 == 0, err + err2


def test_header_variants_are_detected(tmp_path, capsys):
    df = raw(Y2022).rename(columns={"BRIN NUMMER": "brin_nummer", "GEMEENTENAAM": "Gemeentenaam",
                                    "AANTAL DEELNEMERS": "AANTAL", "WOONGEMEENTE DEELNEMER": "WOONGEMEENTE"})
    p = tmp_path / "variant_2022.csv"
    df.to_csv(p, sep=",", index=False, encoding="cp1252")
    rc, _, err = run(capsys, p, "--region", "zeeland", "--out", tmp_path / "v")
    assert rc == 0, err
    a = pd.read_csv(tmp_path / "v" / "portfolio.csv").drop(columns="source")
    rc, _, err = run(capsys, Y2022, "--region", "zeeland", "--out", tmp_path / "w")
    b = pd.read_csv(tmp_path / "w" / "portfolio.csv").drop(columns="source")
    pd.testing.assert_frame_equal(a, b)
    shutil.rmtree(tmp_path / "v")
