"""Resuming sweeps by recipe (sim/sweep.py): what changes a job's recipe, and when a folder counts."""

from __future__ import annotations

import json

import pandas as pd

from sim.hydra_config import CONFIG_DIR
from sim.io.writer import TABLES
from sim.sweep import complete_with_recipe, recipe, samples_file_of, without_replicate

SOURCES = [{"path": str(CONFIG_DIR), "schema": "file", "provider": "main"},
           {"path": "hydra.conf", "schema": "pkg", "provider": "hydra"}]
TASK = ["+experiment=pps", "region=zeeland", "replicate=1"]


def test_recipe_follows_what_composes_the_config(tmp_path):
    base = recipe(TASK, ["hydra/launcher=joblib"], SOURCES, None)
    assert base == recipe(TASK, ["hydra/launcher=basic", "hydra.launcher.n_jobs=2"], SOURCES, None)  # how, not what
    assert base == recipe(TASK, ["hydra.sweep.dir=elsewhere"], SOURCES, None)
    assert base != recipe([*TASK[:2], "replicate=2"], [], SOURCES, None)
    assert base != recipe(TASK, ["hydra.job.name=other"], SOURCES, None)
    other = tmp_path / "configs"
    other.mkdir()
    (other / "config.yaml").write_text("seed: 1\n")
    assert base != recipe(TASK, [], [{"path": str(other), "schema": "file", "provider": "main"}], None)
    design = tmp_path / "design.json"
    design.write_text("{}")
    with_design = recipe(TASK, [], SOURCES, str(design))
    assert with_design != base
    design.write_text('{"rows": 1}')  # the same file name, other rows: another config
    assert recipe(TASK, [], SOURCES, str(design)) != with_design


def test_samples_file_and_replicates():
    assert samples_file_of(["sample=3", "samples_file=a/design.json"], None) == "a/design.json"
    assert samples_file_of(["sample=3"], "b.json") == "b.json"
    assert without_replicate(["policy=pps", "replicate=3", "+seed=4"]) == ("policy=pps",)


def test_the_rows_of_a_design_are_composed_once_for_all():
    """The sweeper checks that jobs compose once per key of ``composes_like``: a sensitivity design's
    rows and replicates share one; another arm, or a sample that is not a row number, does not."""
    from hydra_plugins.mbo_sim_sweeper.sweeper import composes_like

    first = composes_like(["policy=none", "sample=0", "replicate=1", "region=zeeland"])
    assert first == composes_like(["policy=none", "sample=2047", "replicate=0", "region=zeeland"])
    assert first == ("policy=none", "region=zeeland")
    assert composes_like(["policy=minimal_coverage", "sample=0", "region=zeeland"]) != first
    assert composes_like(["policy=none", "sample=-1", "region=zeeland"]) == ("policy=none", "sample=-1",
                                                                              "region=zeeland")


def _run_folder(path, recipe_value: str, status: str = "complete", **manifest):
    from sim.io.writer import model_digest

    path.mkdir()
    manifest = {"status": status, "recipe": recipe_value, "model_sha256": model_digest(), "data_sha256": {},
                **manifest}
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "summary.json").write_text("{}")
    for name in TABLES:
        pd.DataFrame({"x": [1]}).to_parquet(path / f"{name}.parquet")
    return path


def test_a_folder_counts_only_complete_undamaged_and_with_the_same_recipe(tmp_path):
    good = _run_folder(tmp_path / "good", "r1")
    assert complete_with_recipe(good, "r1")
    assert not complete_with_recipe(good, "r2")
    assert not complete_with_recipe(_run_folder(tmp_path / "running", "r1", status="running"), "r1")
    damaged = _run_folder(tmp_path / "damaged", "r1")
    (damaged / f"{TABLES[0]}.parquet").write_bytes(b"PAR1 cut short")
    assert not complete_with_recipe(damaged, "r1")
    assert not complete_with_recipe(tmp_path / "missing", "r1")


def test_a_run_of_other_code_or_data_is_not_reused(tmp_path):
    """A finished run made by another version of the model (another ``model_sha256``, or none: an
    older mbo-sim) or from a data file that has since changed is redone on resume, even with the
    same recipe and configuration: after an update, rerunning a sweep must not report old results."""
    from sim.io.loaders import sha256

    assert complete_with_recipe(_run_folder(tmp_path / "same", "r1"), "r1")
    assert not complete_with_recipe(_run_folder(tmp_path / "other", "r1", model_sha256="0" * 64), "r1")
    older = _run_folder(tmp_path / "older", "r1")
    manifest = json.loads((older / "manifest.json").read_text())
    del manifest["model_sha256"]
    (older / "manifest.json").write_text(json.dumps(manifest))
    assert not complete_with_recipe(older, "r1")
    data = tmp_path / "shares.csv"
    data.write_text("a,b\n1,2\n")
    with_data = _run_folder(tmp_path / "with_data", "r1", data_sha256={str(data): sha256(data)})
    assert complete_with_recipe(with_data, "r1")
    data.write_text("a,b\n1,30\n")  # the data changed after the run
    assert not complete_with_recipe(with_data, "r1")
    data.unlink()
    assert not complete_with_recipe(with_data, "r1")


def test_resume_redoes_a_run_of_other_code(small_cfg, tmp_path, monkeypatch):
    """``is_complete`` (the CLI's resume, config against config) reuses a run made by this code and
    not one made by other code."""
    import sim.io.writer as writer
    from sim.runner import run

    cfg = small_cfg(region="zeeland", scale=0.02, years=1)
    out = run(cfg, tmp_path / "run")
    assert json.loads((out / "manifest.json").read_text())["model_sha256"] == writer.model_digest()
    assert writer.is_complete(out, cfg)
    monkeypatch.setattr(writer, "model_digest", lambda: "f" * 64)  # the code was updated since
    assert not writer.is_complete(out, cfg)
