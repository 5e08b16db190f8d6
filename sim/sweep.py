"""Resuming sweeps without composing their finished jobs: each run's *recipe*.

A job's composed config is a function of the config files, the job's overrides and (for a
sensitivity design) the ``samples_file`` it reads. The recipe is a hash of exactly these, written
into the run's manifest. The named experiments' sweeper (``hydra/sweeper=mbo``, see
``hydra_plugins/mbo_sim_sweeper``) finds a job's folder from its overrides alone
(``run_name=${hydra:job.override_dirname}``), and skips the job when that folder is a complete,
undamaged run with the same recipe: a finished sweep of 180 runs is checked in about a second
instead of composing 360 configs. When the recipe differs (a config file was edited, another
launcher setting) nothing is lost: the job is composed and checked config against config, as before
(:func:`sim.io.writer.is_complete`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

# Hydra overrides that change how or where jobs run, never what a job computes
_HYDRA_NOT_RECIPE = ("hydra/launcher", "hydra.launcher", "hydra.sweep.dir", "hydra.verbose", "hydra/job_logging",
                     "hydra/hydra_logging", "hydra.job_logging", "hydra.hydra_logging")
# overrides that name a replicate of the same configuration (composable if one of them is)
REPLICATE_KEYS = ("replicate", "seed")
# in a sweep's folder (``hydra.sweep.dir``): the sweeper's list of its jobs' run folders
SWEEP_JOBS_FILE = "mbo_sim_sweep_jobs.json"
_SWEEP_JOBS_TAG = "mbo-sim sweeper"


@cache
def config_files_digest(folders: tuple[str, ...]) -> str:
    """sha256 over every YAML file under ``folders`` (their relative paths and bytes), and Hydra's version."""
    import hydra

    h = hashlib.sha256(hydra.__version__.encode())
    for folder in folders:
        root = Path(folder)
        for path in sorted(root.rglob("*.yaml")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_sources(config_sources: Sequence) -> tuple[str, ...]:
    """The folders of the ``file://`` config sources (Hydra's ``hydra.runtime.config_sources``)."""
    return tuple(str(s["path"]) for s in config_sources if s["schema"] == "file")


def _key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def recipe(task_overrides: Sequence[str], hydra_overrides: Sequence[str], config_sources: Sequence,
           samples_file: str | None) -> str:
    """The hash of what a job's config is composed from (see the module's docstring)."""
    hydra_part = [o for o in hydra_overrides if not _key(o).startswith(_HYDRA_NOT_RECIPE)]
    h = hashlib.sha256(json.dumps({"files": config_files_digest(file_sources(config_sources)),
                                   "task": list(task_overrides), "hydra": hydra_part}).encode())
    if samples_file:
        try:
            h.update(Path(samples_file).read_bytes())
        except OSError:
            h.update(b"<unreadable samples_file>")
    return h.hexdigest()


def samples_file_of(task_overrides: Sequence[str], default: str | None) -> str | None:
    """The job's ``samples_file``: its override, else the sweep's value."""
    for o in task_overrides:
        if _key(o) == "samples_file":
            return o.partition("=")[2] or None
    return default


def complete_with_recipe(folder: Path, wanted: str) -> bool:
    """True if ``folder`` is a complete, undamaged run whose manifest carries recipe ``wanted``,
    made by this code from unchanged data (:func:`sim.io.writer.same_model`)."""
    from sim.io.writer import damage, same_model

    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and manifest.get("status") == "complete"
            and manifest.get("recipe") == wanted and same_model(manifest) and damage(folder) is None)


def without_replicate(overrides: Sequence[str]) -> tuple[str, ...]:
    """A job's overrides without those that only name its replicate."""
    return tuple(o for o in overrides if _key(o) not in REPLICATE_KEYS)


def composes_like(job: Sequence[str]) -> tuple[str, ...]:
    """Jobs with the same key compose alike, so one of them is checked for all: they differ only in
    their replicate or in their row of a sensitivity design (``sample=<n>``: the row's values are
    set, and checked, when the run validates its config, :func:`sim.samples.apply_sample`). A
    ``sample`` that is not a whole number stays in the key and is composed on its own."""
    return tuple(o for o in without_replicate(job)
                 if not (_key(o) == "sample" and o.partition("=")[2].isdigit()))


def _by_this_code(manifest: Path) -> bool:
    """A run folder's manifest is by this code (``model_sha256``): a run of an older model is still
    to be redone."""
    from sim.io.writer import model_digest

    try:
        return model_digest() in manifest.read_text()
    except OSError:
        return False


def _sweep_jobs(sweep_dir: Path) -> list[str] | None:
    """The sweeper's list of its jobs' run folder names, if ``sweep_dir`` holds one (None otherwise)."""
    try:
        note = json.loads((Path(sweep_dir) / SWEEP_JOBS_FILE).read_text())
        if note["generator"] == _SWEEP_JOBS_TAG:
            return [str(name) for name in note["jobs"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def write_sweep_jobs(sweep_dir: Path, names: Sequence[str] | None) -> None:
    """The sweeper's note for the jobs' progress line: the run folder names of this sweep's jobs;
    ``None`` (the sweeper cannot list them) removes an earlier sweep's note, and only such a note."""
    path = Path(sweep_dir) / SWEEP_JOBS_FILE
    if names is not None:
        path.write_text(json.dumps({"generator": _SWEEP_JOBS_TAG, "jobs": list(names)}))
    elif _sweep_jobs(sweep_dir) is not None:
        path.unlink(missing_ok=True)


def jobs_done(runs_dir: Path, sweep_dir: Path) -> int:
    """How many of a sweep's jobs are complete, by this code: with the sweeper's note, only this
    sweep's run folders count, not other runs in the same folder (a sensitivity design's noise
    runs beside its design, the replicates of an earlier run with more); without it (Hydra's basic
    sweeper), every run folder by this code."""
    runs_dir = Path(runs_dir)
    names = _sweep_jobs(sweep_dir)
    manifests = (runs_dir.glob("*/manifest.json") if names is None
                 else [runs_dir / name / "manifest.json" for name in names])
    return sum(map(_by_this_code, manifests))
