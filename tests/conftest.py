"""Shared fixtures: small configs and one finished Zeeland model shared by many tests.

Everything runs at a small scale (a few per cent of residents, a few years) so that the whole
suite stays within a few minutes on a small machine. Paths are taken from the repository root
(this file's parent folder), never from the working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from sim.config import Config
from sim.hydra_config import compose
from sim.regions import REGISTRY

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"  # a link to sim/data, the data shipped with the package

# municipalities per region (data/municipalities.csv)
MUNICIPALITY_COUNTS = {r.name: r.municipalities for r in REGISTRY}

SMALL = {"scale": 0.05, "years": 4}

# A set-up in which the institutions' reserves run out within the horizon, so that opleidingen close
# from decline and money: strong decline, and institutions that start with a deficit of 2 % of their
# funding (the sector's 11th percentile, ODD §7.17) and two thirds of the default reserve (since the
# bijstand stock no longer drains, ODD §7.9, the default closes next to nothing in 20 years).
# Zuid-Limburg at 0.25, 16 years: seeds 1-3 close 20-32 opleidingen, the first after 5 years; the
# Achterhoek, 20 years: 19-20, the first after 12-14. (A 1 % deficit did that until the funding
# followed DUO's count of two years before, 29 November 2026, which holds the result up under
# decline.)
CLOSING = ("demography=strong_decline", "model.institutions.reserve_initial_share=0.2",
           "model.institutions.base_result_share=-0.02")

# The April review as a bare viability rule: no institution carries a weak opleiding (no budget,
# every opleiding loses money at this funding) and no coordination spares one. For tests of what
# happens when opleidingen close; tests/test_institutions.py tests the rules themselves.
EVERY_WEAK_CLOSES = {"model.institutions.carry_share": 0.0, "model.institutions.coordination": False,
                     "model.education.funding_per_student_eur": 1000}

# hypothesis profiles (tests/test_properties.py): `default` for CI (reproducible, nothing written
# into the repository), `long` for deeper runs: pytest --hypothesis-profile=long
settings.register_profile("default", max_examples=200, deadline=None, derandomize=True, database=None,
                          print_blob=True)
settings.register_profile("long", max_examples=2000, deadline=None, derandomize=False, database=None,
                          print_blob=True)
settings.load_profile("default")


def small_overrides(**kw) -> list[str]:
    """Hydra overrides of a fast run; keyword arguments replace or add keys (``model__x`` is
    written ``model.x``)."""
    values: dict[str, object] = {
        **SMALL,
        "progress": "false",
        "write_plots": "false",
        "data_dir": str(DATA_DIR),
    }
    for k, v in kw.items():
        values[k.replace("__", ".")] = v
    out = []
    for k, v in values.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        out.append(f"{k}={v}")
    return out


@pytest.fixture(scope="session")
def small_cfg() -> Callable[..., Config]:
    """Factory: ``small_cfg(region="achterhoek", years=3, **{"model.llo.reach": 0})``."""

    def make(*extra: str, **kw) -> Config:
        return compose([*small_overrides(**kw), *extra])

    return make


@pytest.fixture(scope="session")
def zeeland_model(small_cfg):
    """A finished Zeeland model (scale 0.05, 4 years), shared read-only by many tests."""
    from sim.runner import simulate

    return simulate(small_cfg(region="zeeland"))


@pytest.fixture(scope="session")
def zeeland_frames(zeeland_model):
    return zeeland_model.results.frames()


def run_cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m sim.cli`` from the repository root, as a user would."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env["HYDRA_FULL_ERROR"] = "0"
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory) -> Path:
    """An experiment folder with three complete runs (read-only; copy it to change it): policy none
    (replicates 0 and 1, folders ``none-0``, ``none-1``) and pps (replicate 0, ``pps-0``)."""
    from sim.runner import run

    exp = tmp_path_factory.mktemp("experiment") / "exp"
    for name, policy, rep in (("none-0", "none", 0), ("none-1", "none", 1), ("pps-0", "pps", 0)):
        run(compose(small_overrides(scale=0.02, years=2, policy=policy, replicate=rep)), exp / "runs" / name)
    return exp


@pytest.fixture
def no_report_figures(monkeypatch) -> None:
    """The experiment report without its figures (slow; covered by test_experiments.py), for tests
    whose subject is what the report reads and how it writes."""
    from sim.analysis import report

    for name in ("plot_survival", "plot_intake", "plot_shortage_heatmaps", "plot_tightness_bands",
                 "plot_coverage_maps"):
        monkeypatch.setattr(report, name, lambda *a, **kw: [])
    monkeypatch.setattr(report, "plot_forest", lambda *a, **kw: None)
