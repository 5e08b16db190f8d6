"""Writing one run's results: tables, summary, manifest and plots, all or nothing.

Everything is written into a temporary sibling folder that is renamed into place when complete,
so an interrupted or failed run never leaves a half-written results folder behind.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.io.loaders import resolve_data_dir

PACKAGES = ("mbo-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "hydra-core",
            "omegaconf", "networkx")
# config keys that do not change a run's results: a complete run is reused whatever their value
NOT_RESULTS = ("reps", "progress", "experiment_name")
TABLES = ("labour", "education", "events", "population", "llo", "flows", "municipalities", "institutions",
          "coverage", "access", "policy", "travel")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


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


def is_complete(out_dir: Path, cfg) -> bool:
    """True if ``out_dir`` holds a complete run of exactly this configuration (resume)."""
    path = Path(out_dir) / "manifest.json"
    if not path.is_file():
        return False
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    def identity(config: dict) -> dict:
        return {k: v for k, v in config.items() if k not in NOT_RESULTS}

    now = json.loads(json.dumps(asdict(cfg), default=_json_default))
    return manifest.get("status") == "complete" and identity(now) == identity(manifest.get("config") or {})


def remove_stale_temp(out_dir: Path) -> None:
    """Remove temp folders a killed earlier attempt at this run left behind."""
    for stale in Path(out_dir).parent.glob(f".{Path(out_dir).name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def write_run(out_dir: Path, frames: dict[str, pd.DataFrame], summary: dict[str, Any],
              manifest: dict[str, Any], plot: bool) -> Path:
    """Write everything into ``out_dir`` atomically (temp folder, then rename)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; results are for everyone who can read the folder
    try:
        for name in TABLES:
            frames[name].to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
        if plot:
            from sim.plots import plot_run

            plot_run(frames, tmp / "plots", title=manifest.get("run_name", ""))
        manifest = {**manifest, "status": "complete"}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def base_manifest(cfg, checksums: dict[str, str]) -> dict[str, Any]:
    return {
        "run_name": cfg.resolved_run_name,
        "seed": cfg.run_seed,
        "replicate": cfg.replicate,
        "config": asdict(cfg),
        "packages": package_versions(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "data_dir": str(resolve_data_dir(cfg.data_dir).resolve()),  # the folder actually read
        "data_sha256": checksums,
    }
