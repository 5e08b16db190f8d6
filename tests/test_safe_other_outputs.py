"""The report, the calibration table and mbo-sim-data's files follow the rules of the run folders:
nothing that is not mbo-sim's is replaced, and a write that fails part-way (disk full) leaves no
partial output and keeps an earlier complete one."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT

from sim import calibration
from sim.analysis import report
from sim.datatools import cbs, cli
from sim.io.safe import MARKER, UnsafeOutput, atomic_file

RECORDING = Path(__file__).resolve().parent / "data" / "cbs"


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name or ".old-" in p.name)


def one_error_line(err: str, prog: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


def disk_full_on(monkeypatch, owner, name: str, call: int = 1) -> dict:
    """``owner.name`` raises OSError(ENOSPC) on its ``call``-th call."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def full(*a, **kw):
        calls["n"] += 1
        if calls["n"] == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*a, **kw)

    monkeypatch.setattr(owner, name, full)
    return calls


# --- the single-file writer ----------------------------------------------------------------------
def test_atomic_file_refuses_a_file_not_ours_and_cleans_up(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("mine")
    with pytest.raises(UnsafeOutput, match="not written by mbo-sim"):
        atomic_file(target, lambda tmp: tmp.write_text("new"), lambda p: False)
    assert target.read_text() == "mine"
    atomic_file(target, lambda tmp: tmp.write_text("new"), lambda p: p.read_text() == "mine")
    assert target.read_text() == "new"

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_file(target, fail, lambda p: True)
    assert target.read_text() == "new" and leftovers(tmp_path) == []
    (tmp_path / "d").mkdir()
    with pytest.raises(UnsafeOutput, match="not a file"):
        atomic_file(tmp_path / "d", lambda tmp: tmp.write_text("x"), lambda p: True)


# --- the experiment report -------------------------------------------------------------------------
@pytest.fixture
def exp(tiny_experiment, tmp_path, no_report_figures) -> Path:
    """A writable copy of the tiny experiment; the report's figures are skipped (they are not the subject)."""
    return Path(shutil.copytree(tiny_experiment, tmp_path / "exp"))


def test_report_refuses_a_users_report_folder(exp, capsys):
    mine = exp / "report"
    mine.mkdir()
    (mine / "draft.md").write_text("my notes")
    before = tree(exp)
    assert report.main([str(exp)]) == 2
    line = one_error_line(capsys.readouterr().err, "mbo-sim-report")
    assert str(mine) in line and "not an mbo-sim" in line
    assert tree(exp) == before  # nothing written: the summary neither


def test_report_refuses_a_users_summary_file(exp, capsys):
    pd.DataFrame({"x": [1]}).to_parquet(exp / "summary.parquet")
    before = tree(exp)
    assert report.main([str(exp)]) == 2
    line = one_error_line(capsys.readouterr().err, "mbo-sim-report")
    assert str(exp / "summary.parquet") in line
    assert tree(exp) == before


def test_report_replaces_its_own_and_marks_them(exp, capsys):
    assert report.main([str(exp)]) == 0
    assert (exp / "report" / MARKER).is_file()
    assert pq.read_schema(exp / "summary.parquet").metadata[b"generator"] == b"mbo-sim"
    assert report.main([str(exp)]) == 0  # its own report and summary are replaced
    assert len(pd.read_parquet(exp / "summary.parquet")) == 3
    assert leftovers(exp) == []


def test_report_of_version_01_is_replaced(exp):
    old = exp / "report"
    old.mkdir()
    (old / "report.md").write_text("# Experiment `exp`\n")
    (old / "survival.csv").write_text("a\n1\n")
    pd.read_parquet(exp / "runs" / "none-0" / "labour.parquet").head(1).assign(
        run="x", region="zeeland", arm="none", replicate=0, seed=1).to_parquet(exp / "summary.parquet")
    assert report.main([str(exp)]) == 0
    assert (old / MARKER).is_file() and "3 runs" in (old / "report.md").read_text()


def test_disk_full_while_writing_the_report_keeps_the_earlier_one(exp, monkeypatch, capsys):
    assert report.main([str(exp)]) == 0
    before = tree(exp)
    disk_full_on(monkeypatch, pd.DataFrame, "to_csv", call=2)
    assert report.main([str(exp)]) == 1
    line = one_error_line(capsys.readouterr().err, "mbo-sim-report")
    assert "No space left" in line
    assert tree(exp) == before and leftovers(exp) == []


def test_disk_full_while_writing_the_summary_leaves_no_partial_file(exp, monkeypatch, capsys):
    disk_full_on(monkeypatch, pq, "write_table")
    assert report.main([str(exp)]) == 1
    assert "No space left" in one_error_line(capsys.readouterr().err, "mbo-sim-report")
    assert not (exp / "summary.parquet").exists() and leftovers(exp) == []


# --- the calibration table -------------------------------------------------------------------------
@pytest.fixture
def quick_table(monkeypatch):
    """The calibration's check table without its base-year runs (writing it is the subject here)."""
    df = pd.DataFrame({"region": ["zeeland"], "figure": ["bbl_share"], "item": ["all"], "model": [0.2],
                       "source": [0.21], "gap": [-0.05], "within_5pct": [True], "source_ref": ["test"]})
    monkeypatch.setattr(calibration, "table", lambda *a, **kw: df)
    return df


def test_calibration_refuses_a_users_folder_before_running(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(calibration, "table", lambda *a, **kw: pytest.fail("ran before refusing"))
    mine = tmp_path / "calibration"
    mine.mkdir()
    (mine / "calibration.csv").write_text("my own table")
    assert calibration.main(["--regions", "zeeland", "--out", str(mine)]) == 2
    assert str(mine) in one_error_line(capsys.readouterr().err, "mbo-sim-calibrate")
    assert (mine / "calibration.csv").read_text() == "my own table" and sorted(tree(mine)) == ["calibration.csv"]


def test_calibration_table_is_written_whole_and_replaced(tmp_path, quick_table):
    out = tmp_path / "cal"
    assert calibration.main(["--regions", "zeeland", "--out", str(out)]) == 0
    assert (out / MARKER).is_file() and len(pd.read_csv(out / "calibration.csv")) == 1
    assert calibration.main(["--regions", "zeeland", "--out", str(out)]) == 0  # its own: replaced
    assert leftovers(tmp_path) == []


def test_disk_full_while_writing_the_calibration_table(tmp_path, quick_table, monkeypatch, capsys):
    out = tmp_path / "cal"
    assert calibration.main(["--regions", "zeeland", "--out", str(out)]) == 0
    before = tree(out)
    disk_full_on(monkeypatch, pd.DataFrame, "to_csv")
    assert calibration.main(["--regions", "zeeland", "--out", str(out)]) == 1
    assert "No space left" in one_error_line(capsys.readouterr().err, "mbo-sim-calibrate")
    assert tree(out) == before and leftovers(tmp_path) == []


def test_fitted_values_never_replace_a_hand_written_file(tmp_path):
    (tmp_path / "calibration").mkdir()
    mine = tmp_path / "calibration" / "zeeland.yaml"
    mine.write_text("# my own settings\nmodel: {}\n")
    with pytest.raises(UnsafeOutput, match="zeeland.yaml"):
        calibration.write_fitted("zeeland", {"model.education.mbo_share": 0.5}, 0.1, config_dir=tmp_path)
    assert mine.read_text() == "# my own settings\nmodel: {}\n"
    mine.unlink()
    calibration.write_fitted("zeeland", {"model.education.mbo_share": 0.5}, 0.1, config_dir=tmp_path)
    calibration.write_fitted("zeeland", {"model.education.mbo_share": 0.6}, 0.1, config_dir=tmp_path)  # ours
    assert "mbo_share: 0.6" in mine.read_text()
    assert leftovers(tmp_path / "calibration") == []


# --- mbo-sim-data ----------------------------------------------------------------------------------
@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A data folder with four municipalities and the real SOURCES.md (as in test_cbs.py)."""
    d = tmp_path / "data"
    d.mkdir()
    codes = ("GM0197", "GM0294", "GM0664", "GM0935")
    lines = (REPO_ROOT / "data" / "municipalities.csv").read_text().splitlines()
    (d / "municipalities.csv").write_text("\n".join([lines[0], *[x for x in lines if x.split(",")[1] in codes]]) + "\n")
    shutil.copy(REPO_ROOT / "data" / "SOURCES.md", d / "SOURCES.md")
    return d


def refresh(data_dir: Path) -> int:
    return cli.main(["--data-dir", str(data_dir), "--from-recording", str(RECORDING)])


def test_data_refuses_a_users_file_of_the_same_name(data_dir, capsys):
    mine = data_dir / cbs.POPULATION_FILE
    mine.write_text("gm_code,population\nGM0197,1\n")
    before = tree(data_dir)
    assert refresh(data_dir) == 1
    err = capsys.readouterr().err
    assert f"mbo-sim-data: error: {mine}" in err and "No files were written" in err
    assert tree(data_dir) == before  # the forecast file was not written either (all or none)


def test_data_replaces_its_own_files(data_dir):
    assert refresh(data_dir) == 0
    first = (data_dir / cbs.FORECAST_FILE).read_text().splitlines()[0]
    assert first.startswith("# source: ") and first.endswith("by mbo-sim-data")
    assert cbs.written_by_us(data_dir / cbs.POPULATION_FILE)
    assert refresh(data_dir) == 0
    assert leftovers(data_dir) == []


def test_disk_full_while_writing_data_writes_nothing(data_dir, monkeypatch, capsys):
    assert refresh(data_dir) == 0
    before = tree(data_dir)
    disk_full_on(monkeypatch, cbs.os, "fsync", call=2)  # the second file fails; the first is not moved in
    assert refresh(data_dir) == 1
    err = capsys.readouterr().err
    assert "No space left" in err and "No files were written" in err
    assert tree(data_dir) == before and leftovers(data_dir) == []
