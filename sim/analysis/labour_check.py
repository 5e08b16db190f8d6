"""The labour market over the horizon, per region: the figures issues 13 and 16 are judged by.

``python -m sim.analysis.labour_check`` runs each region (20 years, given seeds and scale) and
prints, as Markdown:

- the yearly table: employed, unemployed, unemployment rate, vacancies, vacancies per unemployed
  (V/U), and the within-year swing of the monthly V/U;
- the base-year UWV tightness class per sector;
- hard-to-fill vacancies and unmet demand in care and technical in chosen years.

Only the public results tables are read (``labour`` and ``population``), so the figures are the
ones a user sees.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from sim.io.writer import markdown_table
from sim.regions import REGIONS
from sim.results import uwv_class

YEARS = (2025, 2029, 2033, 2043)
DETAIL_YEARS = (2030, 2044)  # the horizon of a 20-year run from 2025 ends in 2044


def yearly(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per year: employed and unemployed persons (population, mid-run snapshot), the yearly means
    of vacancies and job seekers, V/U, and the ratio of the highest to the lowest monthly V/U."""
    pop = frames["population"]
    status = pop.groupby(["year", "status"])["persons"].sum().unstack(fill_value=0.0)
    lab = frames["labour"].copy()
    lab["year"] = lab["date"].dt.year
    monthly = lab.groupby(["year", "date"])[["vacancies", "job_seekers", "hard_to_fill"]].sum()
    if "unmet_demand" in lab:
        monthly["unmet_demand"] = lab.groupby(["year", "date"])["unmet_demand"].sum()
    monthly["vu"] = monthly["vacancies"] / monthly["job_seekers"].clip(lower=1)
    by_year = monthly.groupby("year")
    out = pd.DataFrame({
        "employed": status["employed"],
        "unemployed": status["unemployed"],
        "unemployment_rate": status["unemployed"] / (status["employed"] + status["unemployed"]),
        "vacancies": by_year["vacancies"].mean(),
        "vu": by_year["vacancies"].mean() / by_year["job_seekers"].mean().clip(lower=1),
        "vu_swing": by_year["vu"].max() / by_year["vu"].min().clip(lower=1e-9),
    })
    return out


def base_year_classes(frames: dict[str, pd.DataFrame]) -> pd.Series:
    """UWV indicator per sector over the first 12 months: vacancies ÷ short-WW seekers."""
    lab = frames["labour"]
    first = lab[lab["date"] < lab["date"].min() + pd.DateOffset(years=1)]
    g = first.groupby("sector", sort=False)[["vacancies", "ww_short"]].sum()
    return g["vacancies"] / g["ww_short"].clip(lower=1e-9)


def sector_detail(frames: dict[str, pd.DataFrame], sectors=("care", "technical"), years=DETAIL_YEARS) -> pd.DataFrame:
    lab = frames["labour"].copy()
    lab["year"] = lab["date"].dt.year
    cols = ["hard_to_fill"] + (["unmet_demand"] if "unmet_demand" in lab else [])
    sel = lab[lab["sector"].isin(sectors) & lab["year"].isin(years)]
    return sel.groupby(["year", "sector"])[cols].mean()


def _run(args: tuple[str, int, float, list[str]]) -> dict[str, pd.DataFrame]:
    from sim.hydra_config import compose
    from sim.runner import simulate, tables_and_summary

    region, seed, scale, overrides = args
    cfg = compose([f"region={region}", f"seed={seed}", f"scale={scale}", "progress=false", "write_plots=false",
                   *overrides])
    frames, _ = tables_and_summary(simulate(cfg))
    return {k: frames[k] for k in ("labour", "population")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.analysis.labour_check", description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="+", default=list(REGIONS), choices=list(REGIONS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("overrides", nargs="*", help="config overrides, e.g. economy=recession")
    a = ap.parse_args(argv)
    jobs = [(r, s, a.scale, a.overrides) for r in a.regions for s in a.seeds]
    with ProcessPoolExecutor(a.jobs) as pool:
        runs = list(pool.map(_run, jobs))
    for region in a.regions:
        mine = [f for (r, _, _, _), f in zip(jobs, runs, strict=True) if r == region]
        tab = sum(yearly(f) for f in mine) / len(mine)
        print(f"\n## {region} (seeds {a.seeds}, scale {a.scale}, {' '.join(a.overrides) or 'baseline'})\n")
        print("| year | employed | unemployed | unemployment rate | vacancies | V/U | monthly V/U max÷min |")
        print("|---|---|---|---|---|---|---|")
        for y in YEARS:
            if y in tab.index:
                t = tab.loc[y]
                print(f"| {y} | {t.employed:,.0f} | {t.unemployed:,.0f} | {t.unemployment_rate:.1%} | "
                      f"{t.vacancies:,.0f} | {t.vu:.2f} | {t.vu_swing:.1f} |")
        ind = sum(base_year_classes(f) for f in mine) / len(mine)
        tight = sum(uwv_class(v) in ("tight", "very tight") for v in ind)
        print(f"\nbase-year UWV indicator (tight or very tight in {tight}/{len(ind)}): "
              + ", ".join(f"{s} {v:.2f} ({uwv_class(v)})" for s, v in ind.items()))
        det = sum(sector_detail(f) for f in mine) / len(mine)
        print("\n" + markdown_table(det.round(0).reset_index()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
