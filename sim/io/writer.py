"""Writing one run's results: tables, summary, manifest and plots, all or nothing.

Everything is written into a temporary sibling folder that is swapped into place when complete
(:mod:`sim.io.safe`), so an interrupted or failed run never leaves a half-written results folder
behind, an earlier complete folder stays until the new one is in place, and a folder that is not
an mbo-sim folder is never replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import asdict
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.io.loaders import resolve_data_dir, sha256
from sim.io.safe import atomic_file, atomic_folder

PACKAGES = ("mbo-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "hydra-core",
            "omegaconf", "networkx")
# config keys that do not change a run's results: a complete run is reused whatever their value
NOT_RESULTS = ("reps", "progress", "experiment_name", "samples_file")  # samples_file: its values are in the config
TABLES = ("labour", "education", "events", "population", "llo", "flows", "municipalities", "institutions",
          "coverage", "access", "reach", "policy", "travel", "teachers", "choice_outcomes", "participation")


@cache  # the code a process runs does not change while it runs (a sweep's worker: 15 ms a run)
def _package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def package_versions() -> dict[str, str | None]:
    return dict(_package_versions())


@cache  # the code a process runs does not change while it runs
def model_digest() -> str:
    """sha256 over the files of the ``sim`` package (code and packaged data; their relative paths
    and bytes): the model a run was made with. A run made by other code is not reused on resume,
    even with the same configuration (:func:`same_model`). The config files (``sim/configs``) are
    left out: what they say is in the run's resolved configuration, which resume compares."""
    root = Path(__file__).resolve().parents[1]
    configs = root / "configs"
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if (path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
                and not path.is_relative_to(configs)):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256(Path(path))


def same_model(manifest: dict) -> bool:
    """True if the run of ``manifest`` was made by this code (``model_sha256``) from data files
    that are unchanged (``data_sha256``, each file hashed again; once per process while its size
    and time stamp stay). A manifest of an older mbo-sim without ``model_sha256`` is not."""
    if manifest.get("model_sha256") != model_digest():
        return False
    files = manifest.get("data_sha256")
    if not isinstance(files, dict):
        return False
    for name, digest in files.items():
        try:
            st = os.stat(name)
        except OSError:
            return False
        if _file_sha256(str(name), st.st_size, st.st_mtime_ns) != digest:
            return False
    return True


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        commit = res.stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{commit}+dirty" if commit and dirty else commit
    except (OSError, subprocess.SubprocessError):
        return None


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(map(str, r)) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


NO_MANIFEST = "no manifest.json"
NOT_COMPLETE = "manifest.json does not say complete"


def damage(out_dir: Path) -> str | None:
    """Why ``out_dir`` is not a complete, readable run folder, or None if it is one: the manifest
    parses and says complete, ``summary.json`` parses, and every table is a readable parquet file
    (its footer is read, which a truncated file lacks)."""
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text())
    except FileNotFoundError:
        return NO_MANIFEST
    except (OSError, ValueError) as exc:
        return f"manifest.json is unreadable or truncated ({exc})"
    if not isinstance(manifest, dict) or manifest.get("status") != "complete":
        return NOT_COMPLETE
    try:
        json.loads((out_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        return f"summary.json is missing, unreadable or truncated ({exc})"
    for name in TABLES:
        try:
            pq.read_metadata(out_dir / f"{name}.parquet")
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            return f"{name}.parquet is missing, unreadable or truncated ({exc})"
    return None


def is_complete(out_dir: Path, cfg) -> bool:
    """True if ``out_dir`` holds a complete run of exactly this configuration (resume): the
    manifest parses and matches, the run was made by this code from unchanged data
    (:func:`same_model`), and every table file is a readable parquet (:func:`damage`). A damaged
    or outdated folder is not complete, so the run is redone and the folder replaced."""
    path = Path(out_dir) / "manifest.json"
    if not path.is_file():
        return False
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False

    def identity(config: dict) -> dict:
        return {k: v for k, v in config.items() if k not in NOT_RESULTS}

    then = manifest.get("config")
    if not isinstance(then, dict):
        return False
    now = json.loads(json.dumps(asdict(cfg), default=_json_default))
    same = manifest.get("status") == "complete" and identity(now) == identity(then)
    return same and same_model(manifest) and damage(out_dir) is None


def stamp_recipe(out_dir: Path, recipe: str) -> None:
    """Record ``recipe`` in the manifest of the complete run ``out_dir`` (found complete by comparing
    configs), so that the next rerun of its sweep skips it without composing (:mod:`sim.sweep`)."""
    path = Path(out_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    if manifest.get("recipe") == recipe:
        return
    text = json.dumps({**manifest, "recipe": recipe}, indent=2, default=_json_default)
    atomic_file(path, lambda tmp: tmp.write_text(text), owned_file=lambda p: damage(p.parent) is None)


def write_run(out_dir: Path, frames: dict[str, pd.DataFrame], summary: dict[str, Any],
              manifest: dict[str, Any], plot: bool, skip: Callable[[], bool] | None = None) -> bool:
    """Write everything into ``out_dir`` atomically; False if ``skip()`` said, at the last moment,
    that another process had meanwhile written this run."""

    def fill(tmp: Path) -> None:
        for name in TABLES:
            frames[name].to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
        if plot:
            from sim.plots import plot_run

            plot_run(frames, tmp / "plots", title=manifest.get("run_name", ""))
        done = {**manifest, "generator": "mbo-sim", "status": "complete"}
        (tmp / "manifest.json").write_text(json.dumps(done, indent=2, default=_json_default))

    return atomic_folder(Path(out_dir), fill, skip=skip)


def base_manifest(cfg, checksums: dict[str, str]) -> dict[str, Any]:
    return {
        "run_name": cfg.resolved_run_name,
        "seed": cfg.run_seed,
        "replicate": cfg.replicate,
        "config": asdict(cfg),
        "packages": package_versions(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "model_sha256": model_digest(),
        "data_dir": str(resolve_data_dir(cfg.data_dir).resolve()),  # the folder actually read
        "data_sha256": checksums,
    }
