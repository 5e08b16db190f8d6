"""The registry of uncertain inputs (``configs/uncertainty.yaml``) and how a sample becomes config.

A :class:`Parameter` is one config key with a range and a mode: ``range`` sets the key to the sampled
value, ``multiply`` multiplies every number under the key by it, ``add`` adds it. Lever keys
(``policy.<lever>.…``) are sampled only in runs that select the lever. Sampling itself is SALib's
(:mod:`sim.sensitivity.design`); this module only maps a row of samples to config values.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config import ConfigError
from sim.hydra_config import CONFIG_DIR

REGISTRY = CONFIG_DIR / "uncertainty.yaml"
MODES = ("range", "multiply", "add")


@dataclass(frozen=True)
class Parameter:
    key: str  # config key as on the command line, e.g. model.education.viability_min_intake
    mode: str  # range | multiply | add
    low: float
    high: float
    source: str
    lever: str | None = None  # policy keys: the lever they belong to

    @property
    def label(self) -> str:
        """Short name for tables and figures: the key without its section, with the mode."""
        short = self.key.split(".", 1)[1] if self.key.startswith(("model.", "policy.")) else self.key
        return {"range": short, "multiply": f"{short} ×", "add": f"{short} +"}[self.mode]


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


def _numbers(node: Any, path: str) -> list[str]:
    """The paths of the numbers under ``node`` (a scalar, mapping or list)."""
    if isinstance(node, DictConfig):
        return [p for k in node.keys() for p in _numbers(node[k], f"{path}.{k}")]
    if isinstance(node, ListConfig):
        return [p for i in range(len(node)) for p in _numbers(node[i], f"{path}.{i}")]
    return [path] if isinstance(node, int | float) and not isinstance(node, bool) else []


def apply(cfg: DictConfig, param: Parameter, value: float) -> bool:
    """Set ``param`` to the sampled ``value`` in the composed ``cfg``; False where the key does not
    act in this run (a lever's key in a run without the lever). Whole-number keys are rounded."""
    if param.lever is not None and param.lever not in (cfg.get("policy") or {}):
        return False
    node = OmegaConf.select(cfg, param.key, default=None)
    if node is None:
        raise ConfigError(f"{param.key}: a registry key that is not in the config; check configs/uncertainty.yaml")
    if param.mode == "range":
        targets, new = [param.key], [value]
    else:
        targets = _numbers(node, param.key)
        olds = [OmegaConf.select(cfg, t) for t in targets]
        new = [o * value if param.mode == "multiply" else o + value for o in olds]
    for t, v in zip(targets, new, strict=True):
        old = OmegaConf.select(cfg, t)
        OmegaConf.update(cfg, t, round(v) if isinstance(old, int) and not isinstance(old, bool) else float(v))
    return True


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
