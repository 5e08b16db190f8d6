"""A sweep through SLURM (``hydra/launcher=slurm``, submitit) gives the same runs as the joblib launcher.

Needs a SLURM cluster that this machine submits to: ``bash .ci/slurm_setup.sh`` (apt, root) installs
and starts a one-node one; without one the test skips with the reason. Select it with
``pytest -m slurm``. The sweep is tiny (Zeeland, 2 % of residents, 2 years, two replicates): it runs
once as a SLURM array job and once with joblib, each into its own temporary folder, and every run's
summary and tables must be identical. Jobs are named like the named experiments' runs
(``sim/configs/experiment/_common.yaml``): from the overrides, one folder per job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slurm

BIN = Path(sys.executable).parent
TIMEOUT = 180  # a job that dies without a result is only noticed through sacct, which a cluster
#                without accounting (the one-node test cluster) lacks: the sweep then waits; stop it
SWEEP = ["region=zeeland", "scale=0.02", "years=2", "seed=1", "replicate=0,1", "write_plots=false", "progress=false",
         "run_name=${hydra:job.override_dirname}", "hydra.sweep.subdir=${hydra:job.override_dirname}",
         "hydra.job.config.override_dirname.exclude_keys=[output_dir,progress,write_plots,run_name]"]
SLURM = ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.mem_gb=1",
         "hydra.launcher.timeout_min=5", "hydra.launcher.cpus_per_task=1"]
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
JOBS = [f"region=zeeland,replicate={r},scale=0.02,seed=1,years=2" for r in (0, 1)]
NOT_AVAILABLE = "SLURM not available: run .ci/slurm_setup.sh (needs apt and root)"


@pytest.fixture(scope="module")
def slurm_node() -> str:
    """Skip unless sbatch/sinfo are installed and the default partition has an idle node."""
    missing = [c for c in ("sbatch", "sinfo", "srun") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"{NOT_AVAILABLE}; {', '.join(missing)} not on PATH")
    try:
        res = subprocess.run(["sinfo", "-h", "-p", "debug", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.skip(f"{NOT_AVAILABLE}; sinfo did not answer within 20 s")
    if res.returncode != 0:
        pytest.skip(f"{NOT_AVAILABLE}; sinfo failed: {(res.stderr or res.stdout).strip()[:200]}")
    states = res.stdout.split()
    if not {"idle", "mixed"} & set(states):
        pytest.skip(f"{NOT_AVAILABLE}; no idle node in partition debug (states: {states or 'none'})")
    return states[0]


def _sweep(tmp: Path, launcher: list[str]) -> subprocess.CompletedProcess:
    tmp.mkdir(parents=True)
    args = [*SWEEP, f"output_dir={tmp / 'runs'}", f"hydra.sweep.dir={tmp / '.hydra'}", *launcher]
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    try:
        res = subprocess.run([str(BIN / "mbo-sim"), "-m", *args], cwd=tmp, env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _cancel(tmp)
        raise
    if res.returncode != 0:
        _cancel(tmp)
    assert res.returncode == 0, f"mbo-sim failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _cancel(tmp: Path) -> None:
    """Leave no job of a failed sweep behind on the cluster."""
    for job in _array_jobs(tmp):
        subprocess.run(["scancel", job], capture_output=True, timeout=20)


def _array_jobs(tmp: Path) -> list[str]:
    """Ids of the jobs submitit submitted (``.submitit/<job id>/<job id>_submission.sh``)."""
    folder = tmp / ".hydra" / ".submitit"
    return sorted(p.name for p in folder.glob("*") if p.is_dir() and re.fullmatch(r"\d+", p.name))


def _runs(tmp: Path) -> list[str]:
    return sorted(p.name for p in (tmp / "runs").iterdir() if p.is_dir() and not p.name.startswith("."))


def test_slurm_sweep_equals_joblib_sweep(slurm_node, tmp_path):
    slurm, joblib = tmp_path / "slurm", tmp_path / "joblib"
    _sweep(slurm, SLURM)
    _sweep(joblib, JOBLIB)

    # it went through SLURM: one array job of two tasks, each run by submitit inside a SLURM job
    jobs = _array_jobs(slurm)
    assert len(jobs) == 1, f"expected one array job in {slurm / '.hydra' / '.submitit'}: {jobs}"
    job = jobs[0]
    submitit = slurm / ".hydra" / ".submitit"
    script = (submitit / job / f"{job}_submission.sh").read_text()
    assert "#SBATCH --array=0-1" in script and "#SBATCH --partition=debug" in script, script
    for task in (0, 1):
        folder = submitit / f"{job}_{task}"
        log = "".join((folder / f"{job}_{task}_0_log.{ext}").read_text() for ext in ("out", "err"))
        assert f"JobEnvironment(job_id={job}_{task}," in log, log
        assert (folder / f"{job}_{task}_0_result.pkl").is_file()
    assert not (joblib / ".hydra" / ".submitit").exists()

    # same run folders, each complete, with identical summaries and tables
    assert _runs(slurm) == _runs(joblib) == JOBS
    for name in JOBS:
        a, b = slurm / "runs" / name, joblib / "runs" / name
        for run in (a, b):
            assert json.loads((run / "manifest.json").read_text())["status"] == "complete", run
        assert json.loads((a / "summary.json").read_text()) == json.loads((b / "summary.json").read_text()), name
        tables = sorted(p.name for p in a.glob("*.parquet"))
        assert tables and tables == sorted(p.name for p in b.glob("*.parquet")), name
        for table in tables:
            pd.testing.assert_frame_equal(pd.read_parquet(a / table), pd.read_parquet(b / table), check_exact=True,
                                          obj=f"{name}/{table}")


def _sensitivity(tmp: Path, launcher: list[str]) -> Path:
    """A small Morris design (2 parameters, 2 trajectories, both arms: 12 runs) through ``launcher``."""
    tmp.mkdir(parents=True)
    args = ["morris", "--region", "zeeland", "--scale", "0.02", "--years", "4", "--trajectories", "2",
            "--noise-reps", "0", "--params", "model.labour.layoff_rate,policy.minimal_coverage.share",
            "--output", str(tmp), "--name", "m", *launcher]
    try:
        res = subprocess.run([str(BIN / "mbo-sim-sensitivity"), *args], cwd=tmp, capture_output=True, text=True,
                             timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _cancel(tmp / "m")
        raise
    if res.returncode != 0:
        _cancel(tmp / "m")
    assert res.returncode == 0, f"mbo-sim-sensitivity failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return tmp / "m"


def test_a_sensitivity_design_through_slurm_equals_joblib(slurm_node, tmp_path):
    slurm = _sensitivity(tmp_path / "slurm", ["--launcher", "slurm", "--", *SLURM[1:]])
    joblib = _sensitivity(tmp_path / "joblib", ["--launcher", "joblib", "--jobs", "2"])
    jobs = _array_jobs(slurm)
    assert len(jobs) == 1
    assert "#SBATCH --array=0-11" in (slurm / ".hydra" / ".submitit" / jobs[0] / f"{jobs[0]}_submission.sh").read_text()
    assert _runs(slurm) == _runs(joblib) and len(_runs(slurm)) == 12
    for name in _runs(slurm):
        a, b = slurm / "runs" / name, joblib / "runs" / name
        assert json.loads((a / "summary.json").read_text()) == json.loads((b / "summary.json").read_text()), name
    # the same design, outputs and indices
    assert (slurm / "design" / "design.json").read_text() == (joblib / "design" / "design.json").read_text()
    for table in ("outputs.csv", "morris_indices.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(slurm / "analysis" / table), pd.read_csv(joblib / "analysis" / table))
