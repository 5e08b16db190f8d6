"""Reading the runs of an experiment: ``results/<experiment>/runs/<run>/`` as the runtime wrote them.

A run counts when its ``manifest.json`` says complete and its files are readable (a damaged run is
skipped with a warning naming it: :func:`sim.io.writer.damage`). Its headline metrics are read from the
``summary.json`` the runtime wrote; nothing here recomputes them.

Arms are the factors that vary across runs other than region and replicate (policy, demography,
economy, ...), joined by `` / `` (``all`` when none varies).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FACTORS = ("region", "demography", "economy", "policy", "scale", "years", "start_year")


def arm_factors(runs: pd.DataFrame) -> list[str]:
    """The factors other than region that take more than one value across ``runs``."""
    return [f for f in FACTORS if f != "region" and runs[f].nunique() > 1]


def complete_runs(exp_dir: Path, program: str = "mbo-sim-report") -> Iterator[tuple[Path, dict[str, Any]]]:
    """The complete run folders under ``exp_dir/runs`` with their manifests, in name order.

    A run folder whose manifest, summary or tables are unreadable or truncated (a disk that filled
    up, a copy cut short) is skipped, with a warning line on stderr naming the folder and why; an
    incomplete run (the manifest does not say complete) is skipped silently."""
    from sim.io.writer import NO_MANIFEST, NOT_COMPLETE, damage

    for folder in sorted(p for p in (Path(exp_dir) / "runs").glob("*") if p.is_dir() and not p.name.startswith(".")):
        problem = damage(folder)
        if problem in (NO_MANIFEST, NOT_COMPLETE):
            continue
        if problem is not None:
            print(f"{program}: warning: skipping run {folder}: {problem}", file=sys.stderr)
            continue
        yield folder, json.loads((folder / "manifest.json").read_text())


def load_runs(exp_dir: Path) -> pd.DataFrame:
    """One row per complete run: folder, factors, replicate, seed, arm and scalar headline metrics.

    A run folder whose manifest, summary or tables are unreadable or truncated (a disk that filled
    up, a copy cut short) is skipped, with a warning line on stderr naming the folder and why; an
    incomplete run (the manifest does not say complete) is skipped silently (:func:`complete_runs`)."""
    rows = []
    for folder, manifest in complete_runs(exp_dir):
        cfg = manifest.get("config")
        try:
            summary = json.loads((folder / "summary.json").read_text())
            policy = "+".join(sorted(cfg.get("policy") or {})) or "none"
            row: dict[str, Any] = {
                "run": folder.name, "region": cfg["region"]["name"],
                "demography": cfg["demography"]["name"], "economy": cfg["economy"]["name"], "policy": policy,
                "scale": cfg["scale"], "years": cfg["years"], "start_year": cfg["start_year"],
                "replicate": cfg.get("replicate", 0), "seed": manifest["seed"],
            }
        except (AttributeError, KeyError, TypeError) as exc:
            print(f"mbo-sim-report: warning: skipping run {folder}: manifest.json lacks {exc}", file=sys.stderr)
            continue
        row.update({k: v for k, v in summary.items() if not isinstance(v, dict)})
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"no complete runs under {Path(exp_dir) / 'runs'}")
    df = pd.DataFrame(rows)
    varying = arm_factors(df)
    df["arm"] = df[varying].astype(str).agg(" / ".join, axis=1) if varying else "all"
    return df


_shared: dict | None = None  # the tables read so far, inside `shared_tables()`


@contextmanager
def shared_tables() -> Iterator[None]:
    """Within the block, :func:`read_table` reads each table of the same runs once and hands every
    caller the same frame (the report's survival, closures and figures read the same tables;
    none of them changes a frame in place)."""
    global _shared
    _shared = {}
    try:
        yield
    finally:
        _shared = None


def read_table(exp_dir: Path, runs: pd.DataFrame, table: str) -> pd.DataFrame:
    """One results table (e.g. ``labour``) of every run in ``runs``, tagged with run, region, arm, replicate."""
    key = (str(exp_dir), table, tuple(runs[["run", "region", "arm", "replicate"]].itertuples(index=False)))
    if _shared is not None and key in _shared:
        return _shared[key]
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for r in runs.itertuples():
        t = pq.read_table(exp_dir / "runs" / r.run / f"{table}.parquet")
        zeros = pa.array(np.zeros(t.num_rows, dtype=np.int32))
        for name, value in (("run", r.run), ("region", r.region), ("arm", r.arm)):  # one code per run
            t = t.append_column(name, pa.DictionaryArray.from_arrays(zeros, pa.array([value])))
        parts.append(t.append_column("replicate", pa.array(np.full(t.num_rows, r.replicate, dtype=np.int64))))
    out = pa.concat_tables(parts, promote_options="permissive").to_pandas()  # as pd.concat: missing columns null
    # text columns (run, region, arm, sector, location, ...) as categories: the report's group-bys
    # over 180 runs' tables are several times faster on their integer codes
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) and not isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("category")
    if _shared is not None:
        _shared[key] = out
    return out


def reference_arm(runs: pd.DataFrame) -> str:
    """The arm the others are compared with: the first with policy ``none``, else the first arm."""
    arms = list(dict.fromkeys(runs["arm"]))
    for a in arms:
        if "none" in a.split(" / "):
            return a
    return arms[0]
