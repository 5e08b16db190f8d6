"""The registry of uncertain inputs (``configs/uncertainty.yaml``): its parameters
(:class:`sim.samples.Parameter`), its excluded keys, and which values ``configs/`` marks as
assumptions. Sampling is SALib's (:mod:`sim.sensitivity.design`); how a sample becomes config is
:mod:`sim.samples`.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from sim.config import ConfigError
from sim.samples import Parameter

CONFIG_DIR = Path(str(files("sim") / "configs"))
REGISTRY = CONFIG_DIR / "uncertainty.yaml"
MODES = ("range", "multiply", "add")


def load_registry(path: str | Path = REGISTRY) -> tuple[list[Parameter], dict[str, str]]:
    """The registry's parameters and its excluded keys (key -> reason); a malformed entry is a
    ConfigError naming the entry and what is allowed."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the registry of uncertain inputs: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise ConfigError(f"{path}: must be a mapping with 'parameters' (and 'excluded')")
    params = []
    for key, spec in doc["parameters"].items():
        where = f"{path.name}: parameters.{key}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: must be a mapping with one of {list(MODES)} and 'source'")
        unknown = sorted(set(spec) - {*MODES, "source", "lever"})
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {unknown}; allowed: {[*MODES, 'source', 'lever']}")
        modes = [m for m in MODES if m in spec]
        if len(modes) != 1:
            raise ConfigError(f"{where}: needs exactly one of {list(MODES)}")
        bounds = spec[modes[0]]
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
                or not bounds[0] < bounds[1]):
            raise ConfigError(f"{where}.{modes[0]} = {bounds!r}: must be [low, high] with low < high")
        if not str(spec.get("source", "")).strip():
            raise ConfigError(f"{where}: needs a 'source' (a source, or 'assumption: ...' with the reason)")
        lever = spec.get("lever")
        if key.startswith("policy.") and lever != key.split(".")[1]:
            raise ConfigError(f"{where}: a lever's key needs lever: {key.split('.')[1]}")
        params.append(Parameter(key, modes[0], float(bounds[0]), float(bounds[1]), str(spec["source"]), lever))
    excluded = {str(k): str(v) for k, v in (doc.get("excluded") or {}).items()}
    return params, excluded


def select(params: list[Parameter], levers: set[str], keys: list[str] | None = None) -> list[Parameter]:
    """The parameters that act in a sweep over ``levers`` (lever keys of other levers are left
    out: they would have no effect), limited to ``keys`` (registry keys or labels) if given."""
    out = [p for p in params if p.lever is None or p.lever in levers]
    if keys is None:
        return out
    by_name = {p.key: p for p in out} | {p.label: p for p in out}
    missing = [k for k in keys if k not in by_name]
    if missing:
        raise ConfigError(f"--params: {missing} not in the registry for this sweep; allowed: {[p.key for p in out]}")
    return [by_name[k] for k in dict.fromkeys(keys)]


# --- which values configs/ marks as assumptions (for the registry's completeness test) -----------------
_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w-]*):(?P<rest>.*)$")


def _prefix(path: Path, config_dir: Path) -> str | None:
    rel = path.relative_to(config_dir)
    group = rel.parts[0] if len(rel.parts) > 1 else ""
    if group in ("model", "economy", "region", "demography"):
        return group
    if group == "policy":
        return f"policy.{path.stem}"
    return None  # experiments, calibration (fitted), hydra, the registry itself, config.yaml


def assumption_keys(config_dir: str | Path = CONFIG_DIR) -> dict[str, str]:
    """Every config value that ``configs/`` marks as an assumption (an inline comment with the word),
    as full key -> file; a marked mapping counts with each of its leaves."""
    config_dir = Path(config_dir)
    out: dict[str, str] = {}
    for path in sorted(config_dir.rglob("*.yaml")):
        prefix = _prefix(path, config_dir)
        if prefix is None:
            continue
        stack: list[tuple[int, str, bool]] = []  # (indent, key, marked)
        for line in path.read_text().splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            indent = len(m["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            value, _, comment = m["rest"].partition("#")
            marked = "assumption" in comment.lower() or any(s[2] for s in stack)
            stack.append((indent, m["key"], marked))
            if marked and value.strip():  # a leaf (a value on the line)
                out[".".join([prefix, *(s[1] for s in stack)])] = str(path.relative_to(config_dir))
    return out


def covered(key: str, names: set[str]) -> bool:
    """True if ``key`` or one of its ancestors is in ``names``."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in names for i in range(1, len(parts) + 1))


def as_dict(params: list[Parameter]) -> list[dict[str, Any]]:
    return [asdict(p) for p in params]
