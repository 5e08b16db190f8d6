"""The labour market over the horizon, per region: the figures issues 13 and 16 are judged by.

``python -m sim.analysis.labour_check`` runs each region (20 years from 2025, ``--seeds`` seeds at
``--scale``) under the baseline and under the recession, and prints (or with ``--write PATH``
writes, atomically) a Markdown report:

- the yearly table: employed, unemployed, unemployment rate, vacancies, vacancies per job
  seeker (V/U), and the seasonal swing of V/U (highest ÷ lowest quarter of the year);
- the base-year UWV tightness class per sector against the sourced class;
- hard-to-fill vacancies and unmet demand in care and technical;
- the replacement share of job openings (ROA: about 90 %);
- the Beveridge curve under the recession (vacancy rate against unemployment rate).

Only the public results tables are read (``labour`` and ``population``).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from sim.codes import SECTORS
from sim.io.safe import atomic_file
from sim.io.writer import markdown_table
from sim.regions import REGIONS
from sim.results import class_matches, uwv_class

YEARS = (2025, 2029, 2033, 2043)
DETAIL_YEARS = (2030, 2044)  # a 20-year run from 2025 ends in 2044
# highest ÷ lowest quarter of V/U: CBS vacancies 1.05-1.10 (2018-19) × unemployment ~1.1 (July 2010: 5 % above
# the seasonally corrected figure, so peak ÷ trough about 1.1), ≈ 1.2, and room for sampling noise
SEASONAL_BOUND = 1.3
TITLE = "# The labour market over 20 years"
REPLACEMENT_SHARE = 0.90  # ROA: about 90 % of job openings are replacement demand (data/labour_force.csv)


def report_is_ours(path: Path) -> bool:
    """A report this module wrote (so it may be replaced): it starts with the title."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readline().rstrip("\n") == TITLE


def monthly(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    lab = frames["labour"]
    cols = [c for c in ("employed", "vacancies", "job_seekers", "hard_to_fill", "unmet_demand", "posted", "exits")
            if c in lab]
    out = lab.groupby("date")[cols].sum()
    out["vu"] = out["vacancies"] / out["job_seekers"].clip(lower=1)
    return out


def seasonal_swing(vu: pd.Series) -> pd.Series:
    """Per year, highest ÷ lowest quarter of V/U's seasonal factor: monthly V/U ÷ its centred
    12-month (2×12) moving average, the classical decomposition's first step (as in X-11), so that
    a trend within the year does not count as season. Years at the ends use the months that have a
    centred average."""
    weights = np.r_[0.5, np.ones(11), 0.5] / 12
    trend = np.convolve(vu.to_numpy(float), weights, mode="same")
    valid = np.zeros(len(vu), bool)
    valid[6 : len(vu) - 6] = True
    factor = pd.Series(vu.to_numpy(float) / np.where(valid, trend, np.nan), index=vu.index).dropna()
    q = factor.groupby([factor.index.year, factor.index.quarter]).mean().groupby(level=0)
    return (q.max() / q.min())[q.size() >= 2]


def yearly(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per year: employed and unemployed persons (population table, January), yearly means of
    vacancies and job seekers, V/U, the seasonal swing (quarters) and the replacement share."""
    status = frames["population"].groupby(["year", "status"])["persons"].sum().unstack(fill_value=0.0)
    m = monthly(frames)
    year = m.index.year
    by_year = m.groupby(year)
    q = m.groupby([year, m.index.quarter])[["vacancies", "job_seekers"]].mean()
    q_vu = (q["vacancies"] / q["job_seekers"].clip(lower=1)).groupby(level=0)
    demand = (m["employed"] + m["vacancies"]).groupby(year).mean()
    lab = frames["labour"].copy()
    lab["year"] = lab["date"].dt.year
    by_sector = lab.groupby(["year", "sector"])[["employed", "vacancies"]].mean().sum(axis=1).unstack()
    expansion = by_sector.diff().clip(lower=0).sum(axis=1)  # growth of demand (filled + open) per sector
    out = pd.DataFrame({
        "employed": status["employed"],
        "unemployed": status["unemployed"],
        "unemployment_rate": status["unemployed"] / (status["employed"] + status["unemployed"]),
        "vacancies": by_year["vacancies"].mean(),
        "vu": by_year["vacancies"].mean() / by_year["job_seekers"].mean().clip(lower=1),
        "vu_swing": q_vu.max() / q_vu.min().clip(lower=1e-9),
        "vu_seasonal": seasonal_swing(m["vu"]),
        "vacancy_rate": by_year["vacancies"].mean() / demand,
        "job_seeker_rate": by_year["job_seekers"].mean() / (by_year["employed"].mean() + by_year["job_seekers"].mean()),
    })
    if "exits" in m:  # ROA's openings: replacement (exits from the labour force) + expansion demand
        exits = by_year["exits"].sum()
        out["replacement_share"] = exits / (exits + expansion).clip(lower=1)
    return out


def base_year_indicator(frames: dict[str, pd.DataFrame]) -> pd.Series:
    """UWV indicator per sector over the first 12 months: vacancies ÷ short-WW job seekers."""
    lab = frames["labour"]
    first = lab[lab["date"] < lab["date"].min() + pd.DateOffset(years=1)]
    g = first.groupby("sector", sort=False)[["vacancies", "ww_short"]].sum()
    return g["vacancies"] / g["ww_short"].clip(lower=1e-9)


def sector_detail(frames: dict[str, pd.DataFrame], sectors=SECTORS, years=DETAIL_YEARS) -> pd.DataFrame:
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


def _mean(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return sum(frames) / len(frames)


def region_section(region: str, runs: list[dict], recession: list[dict] | None, targets: dict[str, str]) -> list[str]:
    tab = _mean([yearly(f) for f in runs])
    out = [f"## {region}", "",
           "| year | employed | unemployed | unemployment rate | vacancies | V/U | V/U highest ÷ lowest quarter "
           "| of which seasonal |",
           "|---|---|---|---|---|---|---|---|"]
    for y in YEARS:
        if y in tab.index:
            t = tab.loc[y]
            out.append(f"| {y} | {t.employed:,.0f} | {t.unemployed:,.0f} | {t.unemployment_rate:.1%} | "
                       f"{t.vacancies:,.0f} | {t.vu:.2f} | {t.vu_swing:.2f} | {t.vu_seasonal:.2f} |")
    later = tab.iloc[1:]
    out += ["", f"Over 2026–{tab.index.max()}: unemployment rate {later.unemployment_rate.min():.1%}–"
                f"{later.unemployment_rate.max():.1%}, V/U {later.vu.min():.2f}–{later.vu.max():.2f}, seasonal "
                f"swing of V/U at most {later.vu_seasonal.max():.2f} (in {later.vu_seasonal.idxmax()}; bound "
                f"{SEASONAL_BOUND}); with the trend within the year, at most {later.vu_swing.max():.2f} "
                f"(in {later.vu_swing.idxmax()})."]
    if "replacement_share" in tab:
        share = tab["replacement_share"].iloc[1:6].mean()
        out.append(f"Replacement share of job openings, 2026–2030: {share:.0%} (ROA: about "
                   f"{REPLACEMENT_SHARE:.0%}).")
    ind = _mean([base_year_indicator(f) for f in runs])
    rows = []
    for s, v in ind.items():
        want = targets.get(s, "")
        rows.append({"sector": s, "UWV indicator": f"{v:.2f}", "model class": uwv_class(v), "source class": want,
                     "match": "yes" if class_matches(uwv_class(v), want) else "no"})
    hits = sum(r["match"] == "yes" for r in rows)
    out += ["", f"Base-year UWV class: {hits}/{len(rows)} sectors match the sourced class "
                "(data/uwv_tightness_targets.csv).", "", markdown_table(pd.DataFrame(rows))]
    det = _mean([sector_detail(f) for f in runs]).round(0).reset_index()
    out += ["", "Hard-to-fill vacancies and unmet demand (monthly mean, persons):", "", markdown_table(det)]
    if recession:
        rec = _mean([yearly(f) for f in recession])
        years = [y for y in rec.index if 2026 <= y <= 2030]
        du = np.array([rec.job_seeker_rate[y] - tab.job_seeker_rate[y] for y in years])
        dv = np.array([rec.vacancy_rate[y] - tab.vacancy_rate[y] for y in years])
        rows = [{"year": y, "unemployment rate (recession − baseline, pp)": f"{u * 100:+.2f}",
                 "vacancy rate (recession − baseline, pp)": f"{v * 100:+.2f}"}
                for y, u, v in zip(years, du, dv, strict=True)]
        slope = np.polyfit(du, dv, 1)[0] if np.ptp(du) > 0 else float("nan")
        out += ["", f"Beveridge curve under the recession (2027–28, demand −4 %): slope of the vacancy rate on the "
                    f"unemployment rate {slope:+.2f} ({'downward' if slope < 0 else 'NOT downward'}).", "",
                markdown_table(pd.DataFrame(rows))]
    return out + [""]


def effects_section(exp_dir: Path) -> list[str]:
    """The paired shortage effects (care and technical hard-to-fill vacancies and unmet demand from
    2030 on) of an experiment's report, as a Markdown section."""
    path = Path(exp_dir) / "report" / "policy_effects.csv"
    if not path.is_file():
        raise SystemExit(f"labour_check: error: {path} not found; run "
                         f"`make experiment NAME={Path(exp_dir).name}` first")
    df = pd.read_csv(path)
    df = df[df["metric"].str.startswith(("hard_to_fill_", "unmet_demand_")) & (df["metric"] != "hard_to_fill_end")]
    rows = [{"region": r.region, "arm": r.arm, "metric": r.metric, "difference": f"{r.diff_mean:+.0f}",
             "95 % CI": f"{r.ci_low:+.0f} to {r.ci_high:+.0f}", "pairs": int(r.n)} for r in df.itertuples()]
    return [f"## Shortage effects: {Path(exp_dir).name}", "",
            f"Paired differences against no policy (same seeds), from `{path}`: mean monthly hard-to-fill "
            "vacancies and unmet demand (person-years a year) from 2030 to the end of the run.", "",
            markdown_table(pd.DataFrame(rows)), ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.analysis.labour_check", description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="+", default=list(REGIONS), choices=list(REGIONS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-recession", action="store_true", help="skip the recession runs (Beveridge curve)")
    ap.add_argument("--write", type=Path, default=None, help="write the report here (e.g. docs/labour.md)")
    ap.add_argument("--effects", nargs="*", type=Path, default=[],
                    help="experiment folders whose paired shortage effects to include "
                         "(their report/policy_effects.csv)")
    ap.add_argument("overrides", nargs="*", help="config overrides, e.g. demography=strong_decline")
    a = ap.parse_args(argv)
    econ = [[]] if a.no_recession else [[], ["economy=recession"]]
    jobs = [(r, s, a.scale, [*a.overrides, *e]) for e in econ for r in a.regions for s in a.seeds]
    with ProcessPoolExecutor(a.jobs) as pool:
        runs = list(pool.map(_run, jobs))
    targets = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "uwv_tightness_targets.csv")
    lines = [TITLE, "",
             f"Generated by `python -m sim.analysis.labour_check` (seeds {a.seeds}, scale {a.scale}, "
             f"{' '.join(a.overrides) or 'baseline demography'}); means over seeds. Unemployment and employment "
             "from the population table (January), vacancies and job seekers as yearly means of the monthly "
             "labour table. Seasonal bound: CBS open vacancies, highest ÷ lowest quarter 1.05–1.10 (2018–19), "
             "times about 1.1 for unemployment (July 2010: 5 % above the seasonally corrected figure), ≈ 1.2, "
             "with room for sampling noise: 1.3 (data/labour_force.csv); it bounds the seasonal part (V/U ÷ its "
             "centred 12-month average, highest ÷ lowest quarter), since a trend within the year is not "
             "season. V/U in the Netherlands "
             "since 2000: about 0.14 (end 2013) to 1.43 (Q2 2022) (CBS, data/labour_force.csv).", ""]
    for region in a.regions:
        mine = [f for (r, _, _, o), f in zip(jobs, runs, strict=True) if r == region and "economy=recession" not in o]
        rec = [f for (r, _, _, o), f in zip(jobs, runs, strict=True) if r == region and "economy=recession" in o]
        t = targets[targets["region"] == region]
        lines += region_section(region, mine, rec or None, dict(zip(t["sector"], t["target_class"], strict=True)))
    for exp in a.effects:
        lines += effects_section(exp)
    text = "\n".join(lines)
    if a.write:
        atomic_file(a.write, lambda tmp: tmp.write_text(text + "\n"), report_is_ours)
        print(f"wrote {a.write}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
