"""A national-style sweep: the three regions, each copied K times, run as independent jobs.

    python benchmarks/bench_national.py [--copies 4] [--scale 1.0] [--years 20] [--launchers joblib slurm]
                                        [--n-jobs N] [--out DIR] [--keep]

One Hydra multirun per launcher (``hydra/launcher=joblib`` with ``n_jobs`` workers, and
``hydra/launcher=slurm`` on the real one-node SLURM cluster: ``bash .ci/slurm_setup.sh``; without it
the SLURM line says ``skipped: <reason>``). The sweep is ``region=achterhoek,zeeland,zuid_limburg
replicate=range(0,K)``; copy r of a region is named ``<region>-copy<r>`` and runs with seed + r, so
the copies are distinct stochastic regions. One JSON line per launcher:

- ``total_wall_s``: the whole sweep, from starting ``mbo-sim -m`` to its end (start-up, launcher,
  writing included); ``sum_run_wall_s``: the runs' own ``wall_seconds`` (manifest.json), summed.
- ``person_years``: Σ simulated persons at the start (``persons_start`` × scale) × years.
- ``person_years_per_s_per_core`` = person_years / (total_wall_s × cores), the conservative figure;
  ``person_years_per_s_per_core_runs`` = person_years / sum_run_wall_s, without launcher overhead.
  ``cores``: ``n_jobs``, or for SLURM the node's CPUs limited by ``array_parallelism`` (= n_jobs).
- ``extrapolation``: the hours for ``--persons-national`` persons over the same years on
  ``--cores-cluster`` cores at the conservative throughput, with the arithmetic written out.

Small scales overstate the cost per person (start-up and writing dominate); use scale 1 for the
figure. Tiny check: ``--copies 1 --scale 0.02 --years 1 --n-jobs 2``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGIONS = "achterhoek,zeeland,zuid_limburg"
TIMEOUT_MIN = 60  # per SLURM job; a 1:1 Zuid-Limburg run of 20 years takes seconds
ASSUMPTION = ("regions independent (uncoupled), perfectly parallel over {cores} cores, "
              "the largest single region fits one process")


def slurm_cores() -> tuple[int | None, str]:
    """CPUs of an idle node in partition debug, or None and why SLURM cannot be used."""
    missing = [c for c in ("sbatch", "sinfo", "srun") if shutil.which(c) is None]
    if missing:
        return None, f"{', '.join(missing)} not on PATH (run bash .ci/slurm_setup.sh)"
    try:
        res = subprocess.run(["sinfo", "-h", "-p", "debug", "-o", "%T %c"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return None, "sinfo did not answer within 20 s"
    if res.returncode != 0:
        return None, f"sinfo failed: {(res.stderr or res.stdout).strip()[:200]} (run bash .ci/slurm_setup.sh)"
    nodes = [line.split() for line in res.stdout.splitlines() if line.strip()]
    cpus = [int(c) for state, c in nodes if state in ("idle", "mixed")]
    if not cpus:
        return None, f"no idle node in partition debug (states: {[s for s, _ in nodes] or 'none'})"
    return max(cpus), ""


def sweep(folder: Path, args: argparse.Namespace, launcher: list[str]) -> float:
    """Run the sweep into ``folder``; its wall seconds. Exits non-zero with the output's tail on failure."""
    folder.mkdir(parents=True)
    cmd = [str(Path(sys.executable).parent / "mbo-sim"), "-m", f"region={REGIONS}",
           f"replicate=range(0,{args.copies})", "run_name=${region.name}-copy${replicate}",
           f"scale={args.scale}", f"years={args.years}", "write_plots=false", "progress=false",
           f"output_dir={folder / 'runs'}", f"hydra.sweep.dir={folder / '.hydra'}", *launcher]
    timeout = TIMEOUT_MIN * 60 * (math.ceil(3 * args.copies / args.n_jobs) + 1)
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, cwd=folder, env={**os.environ, "HYDRA_FULL_ERROR": "1"}, capture_output=True,
                             text=True, timeout=timeout)
        failed = f"exit code {res.returncode}" if res.returncode else ""
        tail = f"{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    except subprocess.TimeoutExpired as exc:
        text = [x.decode(errors="replace") if isinstance(x, bytes) else x or "" for x in (exc.stdout, exc.stderr)]
        failed, tail = f"no end within {timeout} s", "\n".join(text)[-5000:]
    wall = time.perf_counter() - t0
    if failed:
        for job in (folder / ".hydra" / ".submitit").glob("[0-9]*"):  # leave no SLURM job behind
            if job.name.isdigit():
                subprocess.run(["scancel", job.name], capture_output=True, timeout=20)
        sys.exit(f"sweep failed ({failed}): {' '.join(cmd)}\n{tail}")
    return wall


def measure(runs: Path, jobs: int) -> tuple[float, float]:
    """Σ persons × years and Σ wall seconds of the runs in ``runs``, each checked complete."""
    person_years = run_wall = 0.0
    manifests = sorted(runs.glob("*/manifest.json"))
    if len(manifests) != jobs:
        sys.exit(f"expected {jobs} runs in {runs}, found {len(manifests)}")
    for path in manifests:
        manifest = json.loads(path.read_text())
        if manifest.get("status") != "complete":
            sys.exit(f"run not complete: {path.parent}")
        cfg = manifest["config"]
        persons = json.loads((path.parent / "summary.json").read_text())["persons_start"] * cfg["scale"]
        person_years += persons * cfg["years"]
        run_wall += manifest["wall_seconds"]
    return person_years, run_wall


def report(launcher: str, cores: int, wall: float, person_years: float, run_wall: float,
           args: argparse.Namespace) -> dict:
    jobs = 3 * args.copies
    throughput = person_years / (wall * cores)
    seconds = args.persons_national * args.years / (throughput * args.cores_cluster)
    arithmetic = (f"{args.persons_national:,.0f} persons × {args.years} years / ({throughput:,.0f} person-years/s/core"
                  f" × {args.cores_cluster} cores) = {seconds:,.0f} s = {seconds / 60:,.1f} min")
    return {"launcher": launcher, "jobs": jobs, "cores": cores, "scale": args.scale, "years": args.years,
            "total_wall_s": round(wall, 2), "sum_run_wall_s": round(run_wall, 2), "person_years": round(person_years),
            "person_years_per_s_per_core": round(throughput),
            "person_years_per_s_per_core_runs": round(person_years / run_wall),
            "extrapolation": {"persons": args.persons_national, "years": args.years, "cores": args.cores_cluster,
                              "hours": round(seconds / 3600, 3), "arithmetic": arithmetic,
                              "assumption": ASSUMPTION.format(cores=args.cores_cluster)}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=4, help="copies of each region (3 × copies jobs)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--launchers", nargs="+", default=["joblib", "slurm"], choices=["joblib", "slurm"])
    ap.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1, help="joblib workers, SLURM array_parallelism")
    ap.add_argument("--out", type=Path, help="folder for the runs (default: a new temporary one, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--persons-national", type=float, default=11e6)
    ap.add_argument("--cores-cluster", type=int, default=64)
    args = ap.parse_args(argv)
    if args.copies < 1 or args.n_jobs < 1:
        ap.error("--copies and --n-jobs must be >= 1")
    made = None if args.out else Path(tempfile.mkdtemp(prefix="bench_national-"))
    out = (args.out or made).resolve()
    try:
        for launcher in args.launchers:
            if (out / launcher).exists():
                sys.exit(f"{out / launcher} exists: its complete runs would be skipped; choose another --out")
            if launcher == "joblib":
                extra, cores = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.n_jobs}"], args.n_jobs
            else:
                node_cpus, reason = slurm_cores()
                if node_cpus is None:
                    skipped = {"launcher": "slurm", "status": f"skipped: SLURM not available: {reason}"}
                    print(json.dumps(skipped), flush=True)
                    continue
                cores = min(node_cpus, args.n_jobs)
                extra = ["hydra/launcher=slurm", "hydra.launcher.partition=debug", "hydra.launcher.mem_gb=2",
                         f"hydra.launcher.timeout_min={TIMEOUT_MIN}", "hydra.launcher.cpus_per_task=1",
                         f"hydra.launcher.array_parallelism={args.n_jobs}"]
            wall = sweep(out / launcher, args, extra)
            person_years, run_wall = measure(out / launcher / "runs", 3 * args.copies)
            line = report(launcher, cores, wall, person_years, run_wall, args)
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        if made and not args.keep:
            shutil.rmtree(made, ignore_errors=True)
        elif made:
            print(f"kept: {made}", file=sys.stderr)


if __name__ == "__main__":
    main()
