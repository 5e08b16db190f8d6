"""The validation report: a tiny run writes a table row per target and its figures; bad targets fail clearly."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from sim.analysis.validation import TARGETS, TargetError, load_targets, main, validate


def test_tiny_run_writes_a_row_per_target_and_figures(tmp_path):
    md = tmp_path / "validation.md"
    figs = tmp_path / "figs"
    table = validate(regions=["zeeland"], seeds=[1], scale=0.05, start_year=2021, years=3, jobs=1,
                     md_path=md, fig_dir=figs, progress=lambda _: None)
    targets = load_targets()
    expected = targets[targets["region"] == "zeeland"]
    assert len(table) == len(expected) > 0
    assert list(table["measure"]) == list(expected["measure"])
    assert np.isfinite(table["model"]).all() and np.isfinite(table["published"]).all()
    assert set(table["verdict"]) <= {"met", "miss"}
    assert (table["statement"] == "not used in calibration").all()
    assert (table.loc[table["verdict"] == "miss", "reason"].str.len() > 0).all()
    pngs = sorted(p.name for p in figs.glob("*.png"))
    assert pngs == ["closures.png", "enrolment.png", "intake.png"]
    assert all((figs / p).stat().st_size < 150_000 for p in pngs)
    text = md.read_text()
    assert "not used in calibration" in text and "| Zeeland | enrolment_total |" in text
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary files


@pytest.mark.parametrize("column, bad, message", [
    ("region", "groningen", "unknown region 'groningen'"),
    ("measure", "happiness", "unknown measure 'happiness'"),
    ("value", "about 9000", "value 'about 9000' is not a number"),
])
def test_bad_target_row_gives_one_clear_error(tmp_path, column, bad, message):
    df = pd.read_csv(TARGETS, dtype=str, keep_default_na=False)
    df.loc[2, column] = bad
    path = tmp_path / "targets.csv"
    df.to_csv(path, index=False)
    with pytest.raises(TargetError, match="1 bad target row") as err:
        load_targets(path)
    assert "row 4" in str(err.value) and message in str(err.value)


def test_cli_refuses_bad_targets_before_running_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "targets.csv"
    shutil.copy(TARGETS, path)
    with path.open("a") as f:
        f.write("zeeland,enrolment_total,,,,,2030,lots,students,somebody,http://x,false,\n")
    out = tmp_path / "out" / "validation.md"
    assert main(["--targets", str(path), "--out", str(out), "--regions", "zeeland", "--seeds", "1",
                 "--scale", "0.05", "--years", "2", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "value 'lots' is not a number" in err
    assert not (tmp_path / "out").exists()


def test_intake_to_enrolment_counts_new_students_without_doorstroom():
    """The sources count as intake the students new to the institution (Graafschap College's
    "instroom"); the model's intake also holds doorstroom from a lower level, which those sources
    count with the continuing students. Before, the ratio counted it (0.43 against the source's 0.32)."""
    from sim.analysis.validation import _level_value

    edu = pd.DataFrame({"school_year": [2021, 2021, 2022], "institution": ["A", "A", "A"], "location": ["X"] * 3,
                        "sector": ["care"] * 3, "level": [2, 3, 3], "intake": [30.0, 20.0, 99.0],
                        "doorstroom": [0.0, 10.0, 0.0], "enrolled": [80.0, 70.0, 99.0], "open": [True] * 3})
    t = pd.Series({"measure": "intake_to_enrolment", "institution": "A", "location": "", "sector": ""})
    assert _level_value(edu, t, 2021, set()) == pytest.approx((30 + 20 - 10) / 150)
