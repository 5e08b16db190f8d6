"""What a run imports (issue 17: per-run overhead). ``mbo-sim`` loads none of the large libraries a
run does not use: Mesa's cell spaces and grids (scipy.spatial, networkx) are lazy through
``sim._mesa``, plotting (matplotlib) is imported only when plots are written. Each check starts a
fresh interpreter: what is already imported in the test process says nothing."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SIM = REPO_ROOT / "sim"
#: imported by none of ``import sim.cli, sim.runner`` nor a run without plots
NOT_LOADED = ("scipy", "networkx", "matplotlib", "mesa.discrete_space.grid",
              "mesa.experimental.continuous_space.continuous_space")


def fresh(code: str, timeout: float = 120) -> dict:
    """Run ``code`` in a new interpreter (from the repository root); it prints one JSON line last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_cli_and_runner_do_not_import_what_a_run_does_not_use():
    out = fresh(f"""
        import json, sys
        import sim.cli, sim.runner
        print(json.dumps({{m: m in sys.modules for m in {NOT_LOADED!r}}}))
    """)
    assert not any(out.values()), f"imported at start-up: {[m for m, v in out.items() if v]}"


def test_a_run_without_plots_does_not_load_them(tmp_path):
    out = fresh(f"""
        import json, sys
        from sim.hydra_config import compose
        from sim.runner import run
        run(compose(["region=achterhoek", "scale=0.02", "years=1", "write_plots=false", "progress=false",
                     "output_dir={tmp_path}", "run_name=r"]))
        print(json.dumps({{m: m in sys.modules for m in {NOT_LOADED!r}}}))
    """)
    assert not any(out.values()), f"imported by a run: {[m for m, v in out.items() if v]}"
    assert (tmp_path / "r" / "manifest.json").is_file()


def test_mesa_works_and_its_lazy_subpackages_load_when_used():
    out = fresh("""
        import inspect, json, sys
        from sim._mesa import LAZY, Priority, Schedule, mesa

        lazy_before = {m: type(sys.modules[m]).__name__ for m in sorted(LAZY)}
        model = mesa.Model(rng=3)
        agent = mesa.Agent(model)
        import mesa.discrete_space
        from mesa.discrete_space import OrthogonalMooreGrid
        grid = OrthogonalMooreGrid((3, 3), torus=False, random=model.random)
        import mesa.mesa_logging as ml
        print(json.dumps({
            "lazy_before": lazy_before,
            "agents": len(model.agents), "unique_id": agent.unique_id,
            "cells": len(grid.all_cells), "scipy": "scipy.spatial" in sys.modules,
            "multigrid": mesa.space.MultiGrid.__name__,
            "continuous": mesa.experimental.continuous_space.ContinuousSpace.__name__,
            "lazy_after": {m: type(sys.modules[m]).__name__ for m in sorted(LAZY)},
            "priority": Priority is mesa.time.Priority, "schedule": Schedule is mesa.time.Schedule,
            "loggers": sorted(ml._module_loggers), "inspect_back": ml.inspect is inspect,
            "finder_gone": not any(type(f).__module__ == "sim._mesa" for f in sys.meta_path),
        }))
    """)
    assert set(out["lazy_before"].values()) == {"_LazyModule"}
    assert out["agents"] == 1 and out["unique_id"] == 1
    assert out["cells"] == 9 and out["scipy"]  # loaded on use, and it works
    assert out["multigrid"] == "MultiGrid" and out["continuous"] == "ContinuousSpace"
    assert set(out["lazy_after"].values()) == {"module"}
    assert out["priority"] and out["schedule"]
    assert out["loggers"] == ["mesa.mesa_logging", "mesa.model"]  # as `import mesa` names them
    assert out["inspect_back"] and out["finder_gone"]


def test_mesa_imported_first_is_used_as_it_is():
    out = fresh("""
        import json, sys
        import mesa
        from sim._mesa import mesa as via_sim
        print(json.dumps({"same": via_sim is mesa, "scipy": "scipy.spatial" in sys.modules,
                          "space": type(sys.modules["mesa.discrete_space"]).__name__}))
    """)
    assert out == {"same": True, "scipy": True, "space": "module"}


def test_a_lazy_module_that_fails_raises_at_first_use_and_is_not_kept(tmp_path, monkeypatch):
    from sim._mesa import _Finder

    (tmp_path / "broken_pkg").mkdir()
    (tmp_path / "broken_pkg" / "__init__.py").write_text("raise ImportError('needs a missing library')\n")
    monkeypatch.setattr("sim._mesa.LAZY", frozenset({"broken_pkg"}))
    spec = _Finder.find_spec("broken_pkg", [str(tmp_path)])
    assert spec is not None
    assert _Finder.find_spec("not_there_at_all", [str(tmp_path)]) is None  # not found: the other finders' turn
    assert _Finder.find_spec("json", None) is None  # not a lazy name
    import importlib.util

    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "broken_pkg", module)
    spec.loader.exec_module(module)  # lazy: nothing has run yet
    assert module.__name__ == "broken_pkg" and module.__file__.endswith("__init__.py")  # metadata: still lazy
    with pytest.raises(ImportError, match="missing library"):
        module.anything  # noqa: B018
    assert "broken_pkg" not in sys.modules


def test_sim_imports_mesa_only_through_sim_mesa():
    """The first import of Mesa decides what it loads: every module of ``sim`` takes it from
    ``sim._mesa``."""
    offenders = []
    for path in SIM.rglob("*.py"):
        if path.name == "_mesa.py" and path.parent == SIM:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(n == "mesa" or n.startswith("mesa.") for n in names):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not offenders, f"import Mesa from sim._mesa instead: {offenders}"
