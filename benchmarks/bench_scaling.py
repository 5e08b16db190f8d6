"""Show that wall time grows at most linearly with population and with years; one JSON line per point.

    python benchmarks/bench_scaling.py [--region zuid_limburg] [--scales 0.25 0.5 1.0] [--years 5 10 20] [--repeats 3]

Two series: the scales at 20 years, and the horizons at scale 1.0 (the point scale 1.0 / 20 years
is shared and timed once). Wall time covers building ``RegionModel(cfg, data)`` and ``model.run()``
(data are loaded once, outside the timing); the median over the repeats is reported. The last
line gives the log-log slopes fitted with numpy.polyfit: wall time vs persons at the start, and
wall time vs years. A slope <= 1.1 means at most linear growth (a fixed start-up cost pulls the
slope below 1). Peak resident memory is the process's peak so far (resource.getrusage): points
run from small to large, so it is close to that of the largest run up to that point.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import numpy as np

from sim.hydra_config import compose
from sim.io.loaders import load_region
from sim.model import RegionModel

LINEAR_SLOPE_LIMIT = 1.1


def time_run(region: str, scale: float, years: int, seed: int, data) -> tuple[float, int, int]:
    cfg = compose([f"region={region}", f"scale={scale}", f"years={years}", f"seed={seed}", "progress=false"])
    t0 = time.perf_counter()
    model = RegionModel(cfg, data)
    model.run()
    wall = time.perf_counter() - t0
    return wall, model.persons_start, int(model.demography.persons[:-1].sum())


def measure(region: str, scale: float, years: int, repeats: int, data) -> dict:
    walls, persons, pm = [], 0, 0
    for rep in range(repeats):
        wall, persons, pm = time_run(region, scale, years, seed=rep + 1, data=data)
        walls.append(wall)
    wall = statistics.median(walls)
    point = {
        "region": region, "scale": scale, "years": years, "persons": persons, "repeats": repeats,
        "wall_s": round(wall, 3), "wall_s_all": [round(w, 3) for w in walls],
        "person_months_per_s": round(pm / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(point), flush=True)
    return point


def slope(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default="zuid_limburg")
    ap.add_argument("--scales", nargs="+", type=float, default=[0.25, 0.5, 1.0], help="population series (at 20 yr)")
    ap.add_argument("--years", nargs="+", type=int, default=[5, 10, 20], help="horizon series (at scale 1.0)")
    ap.add_argument("--scale-years", type=int, default=20, help="horizon of the population series")
    ap.add_argument("--years-scale", type=float, default=1.0, help="scale of the horizon series")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    data = load_region(args.region, compose([f"region={args.region}"]).data_dir)
    # warm-up (imports, caches), untimed
    time_run(args.region, min(args.scales), min(args.years), seed=1, data=data)

    done: dict[tuple[float, int], dict] = {}
    points = [(s, args.scale_years) for s in sorted(args.scales)] + [(args.years_scale, y) for y in sorted(args.years)]
    for scale, years in sorted(set(points), key=lambda p: (p[0] * p[1], p)):
        done[(scale, years)] = measure(args.region, scale, years, args.repeats, data)

    by_scale = [done[(s, args.scale_years)] for s in sorted(args.scales)]
    by_years = [done[(args.years_scale, y)] for y in sorted(args.years)]
    s_pop = slope([p["persons"] for p in by_scale], [p["wall_s"] for p in by_scale])
    s_yrs = slope([p["years"] for p in by_years], [p["wall_s"] for p in by_years])
    print(json.dumps({
        "region": args.region, "fit": "log(wall_s) = slope * log(x) + c",
        "slope_time_vs_persons": round(s_pop, 3), "slope_time_vs_years": round(s_yrs, 3),
        "at_most_linear": bool(s_pop <= LINEAR_SLOPE_LIMIT and s_yrs <= LINEAR_SLOPE_LIMIT),
        "limit": LINEAR_SLOPE_LIMIT,
    }), flush=True)


if __name__ == "__main__":
    main()
