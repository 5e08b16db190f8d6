"""Time a full-scale (1:1) 20-year run of each region; print one JSON line per region.

    python benchmarks/bench_full_scale.py [--regions zuid_limburg ...] [--repeats 3] [--scale 1.0]
    python benchmarks/bench_full_scale.py --regions zuid_limburg --scale 5.4 --synthetic --repeats 1

``--synthetic`` allows a scale above 1: each resident simulated ``scale`` times (the config's test
option ``synthetic=true``), a synthetic large region; Zuid-Limburg at 5.4 has about 2 million persons.

Wall time covers building the state and simulating (Python start-up and writing files
excluded); the median over the repeats is reported. Peak resident memory is that of the whole
process (resource.getrusage), so run one region per process for a clean memory figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

from sim.hydra_config import compose
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.regions import REGIONS


def time_run(region: str, scale: float, years: int, seed: int, synthetic: bool = False) -> tuple[float, int, int]:
    cfg = compose([f"region={region}", f"scale={scale}", f"years={years}", f"seed={seed}", "progress=false",
                   *(["synthetic=true"] if synthetic else [])])
    data = load_region(region, cfg.data_dir)
    t0 = time.perf_counter()
    model = RegionModel(cfg, data)
    model.run()
    wall = time.perf_counter() - t0
    person_months = int(model.demography.persons[:-1].sum())
    return wall, model.persons_start, person_months


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="+", default=list(REGIONS), choices=REGIONS)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--synthetic", action="store_true", help="allow --scale > 1 (residents replicated)")
    args = ap.parse_args(argv)
    for region in args.regions:
        walls, persons, pm = [], 0, 0
        for rep in range(args.repeats):
            wall, persons, pm = time_run(region, args.scale, args.years, seed=rep + 1, synthetic=args.synthetic)
            walls.append(wall)
        wall = statistics.median(walls)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "region": region, "scale": args.scale, "years": args.years, "persons": persons,
            "repeats": args.repeats, "wall_s": round(wall, 3), "wall_s_min": round(min(walls), 3),
            "wall_s_all": [round(w, 3) for w in walls],
            "person_months_per_s": round(pm / wall),
            "peak_rss_mb": round(peak_mb, 1), "kb_per_person": round(peak_mb * 1024 / persons, 2),
        }), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
