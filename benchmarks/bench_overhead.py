"""Per-run overhead: a run's wall time minus its simulation time; print one JSON line per case.

    python benchmarks/bench_overhead.py [--region zuid_limburg] [--scale 1.0] [--years 20] [--repeats 3]

Simulation time is the manifest's ``simulate_seconds`` (loading the data, building and running the
model). Two cases, plots off:

- ``cold``: the ``mbo-sim`` command in a fresh process, as a user runs one scenario. Its overhead
  is Python's start-up and imports (numpy, pandas and pyarrow for the tables, mesa, Hydra), composing
  the config, building the results tables and writing them with the manifest.
- ``in_sweep``: runs after the first in one process, as a sweep's workers (joblib, SLURM arrays of
  several jobs) run them: composing, tables and writing, the imports already paid for.

The imports alone are measured too (``python -c "import sim.cli, sim.runner, pyarrow.parquet"``), to
show what is left to cut: ``import_s`` inside the process, ``wall_s`` the whole process (with
Python's start-up and exit).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def cold(args: list[str], out: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "mbo-sim"), *args, f"output_dir={out}", "run_name=r"], check=True,
                   capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return wall, json.loads((out / "r" / "manifest.json").read_text())["simulate_seconds"]


def in_sweep(args: list[str], out: Path, n: int) -> list[tuple[float, float]]:
    from sim.hydra_config import compose
    from sim.runner import run

    times = []
    for i in range(n + 1):
        t0 = time.perf_counter()
        folder = run(compose([*args, f"seed={i + 1}"]), out / f"r{i}")
        wall = time.perf_counter() - t0
        if i:  # the first pays for imports done lazily at the first run
            times.append((wall, json.loads((folder / "manifest.json").read_text())["simulate_seconds"]))
    return times


#: What a run imports, in the order it does (sim first: ``sim._mesa`` decides how Mesa loads).
IMPORTS = "import sim.cli, sim.runner, pyarrow.parquet"


def imports() -> tuple[float, float]:
    """The imports' own time (inside the process) and the process's wall time (start-up, the
    imports and the interpreter's exit)."""
    code = f"import time; t0 = time.perf_counter(); {IMPORTS}; print(time.perf_counter() - t0)"
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(res.stdout), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default="zuid_limburg")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    args = [f"region={a.region}", f"scale={a.scale}", f"years={a.years}", "write_plots=false", "progress=false"]
    with tempfile.TemporaryDirectory(prefix="mbo-sim-overhead-") as tmp:
        runs = [cold(args, Path(tmp) / f"cold{i}") for i in range(a.repeats)]
        warm = in_sweep(args, Path(tmp) / "sweep", a.repeats)
    for case, times in (("cold", runs), ("in_sweep", warm)):
        print(json.dumps({
            "case": case, "region": a.region, "scale": a.scale, "years": a.years, "repeats": a.repeats,
            "wall_s": round(statistics.median(w for w, _ in times), 3),
            "simulate_s": round(statistics.median(s for _, s in times), 3),
            "overhead_s": round(statistics.median(w - s for w, s in times), 3),
        }), flush=True)
    imp = [imports() for _ in range(3)]
    print(json.dumps({"case": "imports_only", "code": IMPORTS,
                      "import_s": round(statistics.median(i for i, _ in imp), 3),
                      "wall_s": round(statistics.median(w for _, w in imp), 3)}))


if __name__ == "__main__":
    main()
