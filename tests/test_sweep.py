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


def _run_folder(path, recipe_value: str, status: str = "complete"):
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"status": status, "recipe": recipe_value}))
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
