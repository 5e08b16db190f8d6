"""The shape of the code: no import cycles inside ``sim`` (late imports in functions count; only
imports under ``if TYPE_CHECKING:`` are free), the runtime does not depend on the tools that run
or read it, and processes do not import each other's internals."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SIM = Path(__file__).resolve().parents[1] / "sim"
TOOLS = ("sim.analysis", "sim.datatools", "sim.calibration", "sim.sensitivity", "sim.dashboard")


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (SIM.parent / rel).with_suffix(".py").is_file() or (SIM.parent / rel / "__init__.py").is_file()


def runtime_imports(path: Path) -> set[str]:
    """sim modules imported by ``path`` anywhere except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("sim"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            for a in node.names:  # `from pkg import submodule` depends on the submodule, not the package
                sub = f"{node.module}.{a.name}"
                out.add(sub if is_module(sub) else node.module)
    return out


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for path in SIM.rglob("*.py"):
        me = module_name(path)
        g.add_node(me)
        for other in runtime_imports(path):
            if other != me:
                g.add_edge(me, other)
    return g


def test_graph_sees_the_modules():
    g = graph()
    assert {"sim.model", "sim.config", "sim.hooks", "sim.processes.education.process"} <= set(g)
    assert g.has_edge("sim.model", "sim.hooks")


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(graph()))
    assert not cycles, f"import cycles: {cycles}"


def test_runtime_does_not_import_the_tools():
    g = graph()
    runtime = [n for n in g if not n.startswith(TOOLS) and n not in ("sim.cli",)]
    bad = [(a, b) for a in runtime for b in g.successors(a) if b.startswith(TOOLS)]
    assert not bad, f"runtime modules importing analysis/data tools: {bad}"


def test_config_imports_no_model_levers_or_agents():
    reach = nx.descendants(graph(), "sim.config")
    bad = sorted(n for n in reach if n.startswith(("sim.model", "sim.policies", "sim.agents", "sim.processes")))
    assert not bad, f"sim.config depends on {bad}"


def test_processes_do_not_import_each_other():
    """A process talks to another through the model, never by importing it (economy's pure
    functions and the education package's own modules excepted)."""
    g = graph()
    procs = [n for n in g if n.startswith("sim.processes.")]
    allowed = {"sim.processes.economy"}

    def family(n: str) -> str:
        return ".".join(n.split(".")[:3])

    bad = [(a, b) for a in procs for b in g.successors(a)
           if b.startswith("sim.processes.") and family(a) != family(b) and b not in allowed]
    assert not bad, f"processes importing other processes: {bad}"
