"""A sensitivity design: SALib's samples of the registry, written once, read by every run.

``results/<name>/design/design.json`` holds the method, its settings, the parameters (key, mode,
bounds, source) and the sample matrix. A run of the sweep names it with ``samples_file`` and picks
its row with ``sample`` (:func:`sim.samples.apply_sample`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ConfigError
from sim.samples import GENERATOR, Parameter
from sim.sensitivity.registry import as_dict

METHODS = ("morris", "sobol", "lhs")


def problem(params: list[Parameter]) -> dict[str, Any]:
    """SALib's problem dict."""
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[p.low, p.high] for p in params]}


def sample(method: str, params: list[Parameter], n: int, seed: int, levels: int = 4) -> np.ndarray:
    """The sample matrix (rows × parameters): Morris trajectories (``n`` of them, ``levels`` grid
    levels), Saltelli/Sobol' (base ``n``, first and total order), or a Latin hypercube of ``n``."""
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: allowed: {list(METHODS)}")
    prob = problem(params)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, n, num_levels=levels, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise ConfigError(f"--n = {n}: Sobol' sampling needs a power of 2 (e.g. 256)")
        return sobol.sample(prob, n, calc_second_order=False, seed=seed)
    from SALib.sample import latin

    return latin.sample(prob, n, seed=seed)


def design_dict(method: str, params: list[Parameter], x: np.ndarray, settings: dict[str, Any]) -> dict[str, Any]:
    return {"generator": GENERATOR, "method": method, "settings": settings, "parameters": as_dict(params),
            "samples": x.tolist()}


def write_design(folder: Path, design: dict[str, Any]) -> None:
    """Write ``design.json`` and a readable ``samples.csv`` into ``folder``."""
    (folder / "design.json").write_text(json.dumps(design, indent=1))
    samples_frame(design).to_csv(folder / "samples.csv", index_label="sample")


def samples_frame(design: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(design["samples"], columns=[p["key"] for p in design["parameters"]])


