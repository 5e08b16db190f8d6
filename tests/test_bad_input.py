"""Bad configuration and bad data are refused before anything is written.

Through the ``mbo-sim`` command (a subprocess, as a user runs it) and through the API
(``sim.config.compose``, ``sim.io.loaders.load_region``). Every case passes ``years=1`` and a
tiny scale, so that a bug that lets a bad run through still finishes quickly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA_DIR, run_cli

from sim.config import ConfigError
from sim.hydra_config import compose
from sim.io.loaders import DataError, load_region

FAST = ["years=1", "scale=0.02", "progress=false", "write_plots=false"]

# (overrides, strings that must appear in the error output)
CONFIG_CASES = [
    pytest.param(["foo=1"], ["foo"], id="unknown-key"),
    pytest.param(["+model.labour.foo=1"], ["foo"], id="unknown-key-appended"),
    pytest.param(["seed=abc"], ["seed"], id="seed-not-int"),
    pytest.param(["scale=high"], ["scale"], id="scale-not-float"),
    pytest.param(["model.labour.layoff_rate=1.5"], ["model.labour.layoff_rate"], id="rate-above-1"),
    pytest.param(["model.education.mbo_share=-0.1"], ["model.education.mbo_share"], id="share-below-0"),
    pytest.param(["scale=0"], ["scale"], id="scale-0"),
    pytest.param(["scale=-1"], ["scale"], id="scale-negative"),
    pytest.param(["scale=2"], ["scale"], id="scale-above-1"),
    pytest.param(["region=utrecht"], ["region", "utrecht"], id="region-group-missing"),
    pytest.param(["region.name=utrecht"], ["region.name", "utrecht"], id="region-name-unknown"),
]


def fast_args(bad: list[str]) -> list[str]:
    """The fast defaults, minus any key the bad override sets itself (the last override wins)."""
    keys = {b.lstrip("+").split("=", 1)[0] for b in bad}
    return [a for a in FAST if a.split("=", 1)[0] not in keys] + bad


def assert_nothing_written(out_dir: Path) -> None:
    if out_dir.exists():
        leftovers = sorted(p.name for p in out_dir.iterdir())
        assert not leftovers, f"output_dir holds {leftovers} after a refused run"


def assert_refused(res, out_dir: Path, needles: list[str]) -> None:
    text = res.stderr + res.stdout
    assert res.returncode != 0, f"exit code 0 for a bad input; output:\n{text[-2000:]}"
    assert "Traceback" not in res.stderr, f"a traceback instead of an error message:\n{res.stderr[-2000:]}"
    for needle in needles:
        assert needle in text, f"{needle!r} not named in the error output:\n{text[-2000:]}"
    assert_nothing_written(out_dir)


# --- the command ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("bad", "needles"), CONFIG_CASES)
def test_cli_refuses_bad_config(tmp_path, bad, needles):
    out = tmp_path / "out"
    res = run_cli([*fast_args(bad), f"output_dir={out}", f"data_dir={DATA_DIR}"])
    assert_refused(res, out, needles)


def corrupt_missing_file(d: Path) -> None:
    (d / "institutions.csv").unlink()


def corrupt_non_numeric(d: Path) -> None:
    df = pd.read_csv(d / "institutions.csv", comment="#", skipinitialspace=True, dtype=str)
    df.loc[df.index[0], "students_base"] = "many"
    df.to_csv(d / "institutions.csv", index=False)


def corrupt_missing_column(d: Path) -> None:
    df = pd.read_csv(d / "institutions.csv", comment="#", skipinitialspace=True, dtype=str)
    df.drop(columns=["bbl_share"]).to_csv(d / "institutions.csv", index=False)


DATA_CASES = [
    pytest.param(corrupt_missing_file, ["institutions.csv"], id="missing-file"),
    pytest.param(corrupt_non_numeric, ["institutions.csv", "students_base"], id="non-numeric"),
    pytest.param(corrupt_missing_column, ["institutions.csv", "bbl_share"], id="missing-column"),
]


@pytest.fixture
def data_copy(tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(DATA_DIR, d)
    return d


@pytest.mark.parametrize(("corrupt", "needles"), DATA_CASES)
def test_cli_refuses_bad_data(tmp_path, data_copy, corrupt, needles):
    corrupt(data_copy)
    out = tmp_path / "out"
    res = run_cli([*FAST, f"output_dir={out}", f"data_dir={data_copy}"])
    assert_refused(res, out, needles)
    assert res.returncode == 2 and "mbo-sim: error:" in res.stderr


def test_cli_control_good_input_runs(tmp_path):
    """The control: the same command with good input does write a results folder, so the
    refusals above are about the input, not a broken command."""
    out = tmp_path / "out"
    res = run_cli([*FAST, "scale=0.01", f"output_dir={out}", f"data_dir={DATA_DIR}", "run_name=ok"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "ok" / "manifest.json").is_file()
    assert [p.name for p in out.iterdir()] == ["ok"]  # no temporary folder left beside it


# --- the API --------------------------------------------------------------------------------------
API_CASES = [
    pytest.param(["foo=1"], "foo", id="unknown-key"),
    pytest.param(["+model.labour.foo=1"], "foo", id="unknown-key-appended"),
    pytest.param(["model.foo=1"], "foo", id="unknown-nested-key"),
    pytest.param(["seed=abc"], "seed", id="seed-not-int"),
    pytest.param(["scale=high"], "scale", id="scale-not-float"),
    pytest.param(["model.labour.layoff_rate=1.5"], "model.labour.layoff_rate", id="rate-above-1"),
    pytest.param(["model.education.mbo_share=-0.1"], "model.education.mbo_share", id="share-below-0"),
    pytest.param(["model.llo.reach=2"], "model.llo.reach", id="llo-reach"),
    pytest.param(["scale=0"], "scale", id="scale-0"),
    pytest.param(["scale=-1"], "scale", id="scale-negative"),
    pytest.param(["scale=2"], "scale", id="scale-above-1"),
    pytest.param(["years=0"], "years", id="years-0"),
    pytest.param(["region=utrecht"], "region", id="region-group-missing"),
    pytest.param(["region.name=utrecht"], "region.name", id="region-name-unknown"),
    pytest.param(["economy.sector_growth.mining=0.01"], "mining", id="unknown-sector"),
]


@pytest.mark.parametrize(("bad", "key"), API_CASES)
def test_compose_raises_config_error(bad, key):
    with pytest.raises(ConfigError) as err:
        compose(bad)
    assert key in str(err.value)


def test_compose_accepts_good_overrides():
    cfg = compose(["scale=0.5", "model.labour.layoff_rate=0.01", "region=achterhoek"])
    assert cfg.scale == 0.5
    assert cfg.model.labour.layoff_rate == 0.01
    assert cfg.region.name == "achterhoek"


@pytest.mark.parametrize(("corrupt", "needles"), DATA_CASES)
def test_load_region_raises_data_error(data_copy, corrupt, needles):
    corrupt(data_copy)
    with pytest.raises(DataError) as err:
        load_region("zeeland", data_copy)
    for needle in needles:
        assert needle in str(err.value)


def test_load_region_good_copy_loads(data_copy):
    data = load_region("zeeland", data_copy)
    assert len(data.municipality_names) == 13


# --- a failure while writing leaves nothing ------------------------------------------------------
def test_write_run_is_all_or_nothing(tmp_path, zeeland_frames):
    from sim.io.writer import write_run

    frames = dict(zeeland_frames)
    del frames["municipalities"]  # the last table: the others are written before it fails
    out = tmp_path / "runs" / "broken"
    with pytest.raises(KeyError):
        write_run(out, frames, {"x": 1}, {"run_name": "broken"}, plot=False)
    assert not out.exists()
    assert list((tmp_path / "runs").iterdir()) == []
