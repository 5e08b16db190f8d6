"""A run of a sensitivity design: its row of ``design.json`` set into the composed config.

The runtime side of :mod:`sim.sensitivity` (a tool): a :class:`Parameter` is one config key with a
range and a mode — ``range`` sets the key to the sampled value, ``multiply`` multiplies every number
under the key by it, ``add`` adds it; a lever's keys act only in runs that select the lever. A run
names the design with ``samples_file`` and its row with ``sample``; :func:`apply_sample` (called by
:func:`sim.hydra_config.to_config`) writes the row into the config before it is validated, so the
run's manifest records the values it ran with and resume compares them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config import ConfigError

GENERATOR = "mbo-sim-sensitivity"


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
    for target in [param.key] if param.mode == "range" else _numbers(node, param.key):
        old = OmegaConf.select(cfg, target)
        v = value if param.mode == "range" else old * value if param.mode == "multiply" else old + value
        OmegaConf.update(cfg, target, round(v) if isinstance(old, int) and not isinstance(old, bool) else float(v))
    return True


def read_design(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise ConfigError(f"samples_file = {str(path)!r}: no such file (a design.json written by "
                          "mbo-sim-sensitivity)") from None
    return _read(str(path.resolve()), mtime)


@lru_cache(maxsize=4)
def _read(path: str, mtime: int) -> dict[str, Any]:
    try:
        design = json.loads(Path(path).read_text())
        params = [Parameter(**p) for p in design["parameters"]]
        x = np.asarray(design["samples"], dtype=float)
        assert design.get("generator") == GENERATOR and x.ndim == 2 and x.shape[1] == len(params)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise ConfigError(f"samples_file = {path!r}: not a readable design.json of mbo-sim-sensitivity") from None
    return {**design, "params": params, "x": x}


def apply_sample(cfg: DictConfig) -> None:
    """If the composed ``cfg`` names a ``sample``, set its row of ``samples_file`` (in place)."""
    if cfg.get("sample") is None:
        return
    if not cfg.get("samples_file"):
        raise ConfigError(f"sample = {cfg.sample}: needs samples_file (the design.json of mbo-sim-sensitivity)")
    design = read_design(cfg.samples_file)
    x = design["x"]
    if not 0 <= cfg.sample < len(x):
        raise ConfigError(f"sample = {cfg.sample}: the design has samples 0 … {len(x) - 1}")
    for param, value in zip(design["params"], x[cfg.sample], strict=True):
        apply(cfg, param, float(value))
