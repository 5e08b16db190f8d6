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

PACKAGES = ("mbo-sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "hydra-core",
            "omegaconf", "networkx")
TABLES = ("labour", "education", "events", "population", "llo", "flows", "municipalities")


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


def summarise(frames: dict[str, pd.DataFrame], persons_start: float, persons_end: float) -> dict[str, Any]:
    """Headline figures of a run (real persons)."""
    lab, edu, ev = frames["labour"], frames["education"], frames["events"]
    first, last = lab["date"].min(), lab["date"].max()
    lab0, lab1 = lab[lab["date"] == first], lab[lab["date"] == last]
    years = sorted(edu["school_year"].unique())
    open_by_year = edu.groupby("school_year")["open"].sum()
    intake_by_year = edu.groupby("school_year")["intake"].sum()
    llo = frames["llo"]
    return {
        "persons_start": float(persons_start),
        "persons_end": float(persons_end),
        "programmes_open_start": int(open_by_year.iloc[0]),
        "programmes_open_end": int(open_by_year.iloc[-1]),
        "closures": int((ev["event"] == "closed").sum()),
        "intake_first_year": float(intake_by_year.loc[years[0]]),
        "intake_last_year": float(intake_by_year.loc[years[-1]]),
        "hard_to_fill_start": float(lab0["hard_to_fill"].sum()),
        "hard_to_fill_end": float(lab1["hard_to_fill"].sum()),
        "hard_to_fill_end_by_sector": {s: float(v) for s, v in zip(lab1["sector"], lab1["hard_to_fill"], strict=True)},
        "tightness_end_by_sector": {
            s: (None if pd.isna(v) else float(v)) for s, v in zip(lab1["sector"], lab1["tightness"], strict=True)
        },
        "llo_trajectories": float(llo["starts"].sum()),
    }


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer | np.floating):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_run(out_dir: Path, frames: dict[str, pd.DataFrame], summary: dict[str, Any],
              manifest: dict[str, Any], plot: bool) -> Path:
    """Write everything into ``out_dir`` atomically (temp folder, then rename)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
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
        "seed": cfg.seed,
        "config": asdict(cfg),
        "packages": package_versions(),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "data_sha256": checksums,
    }
