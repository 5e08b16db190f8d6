"""Split each institutions.csv row over mbo qualifications: writes ``portfolio.csv``.

Usage (from the repository root)::

    python -m sim.datatools.portfolio              # rewrite sim/data/portfolio.csv (+ national_sizes.csv)
    python -m sim.datatools.portfolio --check      # write nothing; exit 1 if the files on disk differ
    python -m sim.datatools.portfolio --data-dir DIR

Inputs (all in the data folder):

- ``qualifications.csv``: the qualification structure (crebo, level, domain, routes, ``size_rank``);
  its ``sector`` column is re-derived from ``domain_sectors.csv`` (a qualification or dossier crebo
  line overrides its domain line), so changing one line there and re-running updates both files.
- ``institutions.csv``: the sourced totals per institution x site x sector (levels, bbl_share).
- ``programme_lists.csv``: qualifications a site is known to offer (institution, site, crebo, source).

Rules (every split is an *assumption*; parameters below):

1. National size of each qualification. Within a model sector the qualifications are ordered by
   ``size_rank`` (then price factor, then crebo). The qualification at position r of n gets the
   lognormal quantile ``exp(SIGMA * z)`` with ``z = Phi^-1(1 - (r - 0.5) / n)``, scaled so that the
   sector sums to its national total: ``NATIONAL_STUDENTS`` x the sector's share of the three
   regions' students in institutions.csv. Entree (level 1) gets ``ENTREE_STUDENTS`` (sourced) out of
   the ``other`` total. Written to ``national_sizes.csv``. Replace that file's numbers by DUO counts
   per crebo when they arrive.
2. Offer. For each institutions.csv row the eligible qualifications are those of its sector with
   a level in [min_level, max_level] and a route the row offers. The site offers every listed
   qualification of ``programme_lists.csv`` that is eligible, then the largest remaining ones
   (national size) until it has ``k = ceil(students_base / STUDENTS_PER_UNIT)`` (at least 1, at
   most all eligible), stopping early when the next one would get fewer than ``MIN_STUDENTS``.
3. Split. The row's students_base is divided over the offered qualifications in proportion to
   their national size; each qualification's students are split over BOL and BBL so that the row's
   BBL share equals its bbl_share (BBL-only qualifications all BBL, BOL-only all BOL, the others at
   a common rate). Routes with zero students are not written.

Pure pandas/numpy, deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

SIGMA = 1.2
"""Log-sd of national students per qualification (assumption), chosen from 1.0-1.6 as the value
that matches both published checks best: it puts mbo-verpleegkundige at ~38,500 students (CBS:
~10,100 entrants a year in 2018-21 over a 4-year programme) and 42 of 470 qualifications (9 %)
below 50 students nationally (Kamerstuk 31524-237: 28 of ~237 dossiers, 12 %, in 2013-14)."""
STUDENTS_PER_UNIT = 70
"""Students per qualification x site used to size a site's offer (assumption): Scalda had ~10,000
students and ~140 programmes (Inspectie, Staat van de instelling, 2014) = ~71."""
NATIONAL_STUDENTS = 501_904
"""mbo students 2019-20 (SBB, s-bb.nl/feiten-en-cijfers)."""
MIN_STUDENTS = 15
"""A site adds a qualification by the size rule only if it would keep at least this many students
(about 5 entrants a year over 3 years; assumption). Listed qualifications are always offered."""
ENTREE_STUDENTS = 13_159
"""Level-1 (Entree) students 2019-20 (SBB, s-bb.nl/feiten-en-cijfers)."""

SECTORS = ("care", "technical", "construction", "logistics", "retail", "hospitality",
           "business", "ict", "green", "education", "other")
PORTFOLIO_COLUMNS = ["region", "institution", "site", "crebo", "route", "students_base",
                     "split", "source"]


def _bool(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().map({"true": True, "false": False})


def load(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    quals = pd.read_csv(data_dir / "qualifications.csv")
    inst = pd.read_csv(data_dir / "institutions.csv", dtype={"brin": str})
    maps = pd.read_csv(data_dir / "domain_sectors.csv", dtype=str).fillna("")
    lists = pd.read_csv(data_dir / "programme_lists.csv")
    for frame, cols in ((quals, ("bol", "bbl")), (inst, ("bol", "bbl", "in_region"))):
        for col in cols:
            frame[col] = _bool(frame[col])
    return quals, inst, maps, lists


def assign_sectors(quals: pd.DataFrame, maps: pd.DataFrame) -> pd.Series:
    """Sector per qualification: qualification crebo line > dossier crebo line > domain line."""
    specific = {int(c): s for c, s in zip(maps["crebo"], maps["sector"], strict=True) if c}
    domain = {d: s for d, c, s in zip(maps["domain_code"], maps["crebo"], maps["sector"], strict=True) if not c}
    out = []
    for crebo, dossier, dom in zip(quals["crebo"], quals["dossier_crebo"], quals["domain_code"], strict=True):
        sector = specific.get(int(crebo), specific.get(int(dossier), domain.get(str(dom))))
        if sector not in SECTORS:
            raise ValueError(f"qualification {crebo}: no valid sector for domain {dom!r}")
        out.append(sector)
    return pd.Series(out, index=quals.index, name="sector")


def national_sizes(quals: pd.DataFrame, inst: pd.DataFrame) -> pd.DataFrame:
    regional = inst[inst["in_region"]].groupby("sector")["students_base"].sum()
    share = regional / regional.sum()
    groups = quals.assign(group=np.where(quals["level"] == 1, "entree", quals["sector"]))
    rows = []
    for group, sub in groups.groupby("group", sort=True):
        if group == "entree":
            total, basis = float(ENTREE_STUDENTS), f"Entree total {ENTREE_STUDENTS:,} (SBB 2019-20)"
        else:
            total = NATIONAL_STUDENTS * float(share.get(group, 0.0))
            basis = f"{NATIONAL_STUDENTS:,} (SBB 2019-20) x regional share {share.get(group, 0.0):.4f}"
            if group == "other":
                total -= ENTREE_STUDENTS
                basis += f" minus Entree {ENTREE_STUDENTS:,}"
        sub = sub.sort_values(["size_rank", "price_factor", "crebo"])
        n = len(sub)
        z = np.array([NormalDist().inv_cdf(1 - (r - 0.5) / n) for r in range(1, n + 1)])
        weight = np.exp(SIGMA * z)
        size = total * weight / weight.sum()
        for order, (crebo, sector, value) in enumerate(zip(sub["crebo"], sub["sector"], size, strict=True), 1):
            rows.append({
                "crebo": int(crebo), "sector": sector, "sector_order": order,
                "national_students": float(value), "split": "assumption",
                "source": (f"assumption: lognormal rank rule (sigma {SIGMA}), position {order} of {n} "
                           f"in group {group} by size_rank; group total {basis}"),
            })
    return pd.DataFrame(rows).sort_values("crebo").reset_index(drop=True)


def _offer(row, eligible: pd.DataFrame, listed: dict[int, str]) -> list[tuple[int, str]]:
    k = max(1, math.ceil(row.students_base / STUDENTS_PER_UNIT))
    chosen = [(c, "listed: " + listed[c]) for c in eligible["crebo"] if c in listed]
    rest = eligible[~eligible["crebo"].isin(listed)].sort_values(
        ["national_students", "crebo"], ascending=[False, True])
    weights = dict(zip(eligible["crebo"], eligible["national_students"], strict=True))
    total = sum(weights[c] for c, _ in chosen)
    for c in rest["crebo"]:
        if len(chosen) >= k:
            break
        if chosen and row.students_base * weights[c] / (total + weights[c]) < MIN_STUDENTS:
            break
        total += weights[c]
        chosen.append((int(c), f"rule: among the largest eligible, up to k = ceil({row.students_base:g}"
                               f"/{STUDENTS_PER_UNIT}) = {k}, each keeping >= {MIN_STUDENTS} students"))
    return chosen


def build(data_dir: Path = DATA_DIR) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    quals, inst, maps, lists = load(data_dir)
    quals["sector"] = assign_sectors(quals, maps)
    sizes = national_sizes(quals, inst)
    q = quals.merge(sizes[["crebo", "national_students"]], on="crebo")
    out = []
    for row in inst.itertuples(index=False):
        eligible = q[(q["sector"] == row.sector) & q["level"].between(row.min_level, row.max_level)
                     & ((q["bol"] & row.bol) | (q["bbl"] & row.bbl))]
        if eligible.empty:
            raise ValueError(f"{row.institution} {row.site} {row.sector}: no eligible qualification")
        here = lists[(lists["institution"] == row.institution) & (lists["site"] == row.site)]
        listed = dict(zip(here["crebo"].astype(int), here["source"], strict=True))
        offer = _offer(row, eligible, listed)
        sub = eligible.set_index("crebo").loc[[c for c, _ in offer]]
        students = row.students_base * sub["national_students"] / sub["national_students"].sum()
        both = sub["bol"] & sub["bbl"] & row.bol & row.bbl
        bbl_only = sub["bbl"] & ~(sub["bol"] & row.bol)
        target = row.students_base * (row.bbl_share if row.bbl else 0.0)
        rest = target - students[bbl_only].sum()
        rate = rest / students[both].sum() if students[both].sum() > 0 else 0.0
        if not -1e-12 <= rate <= 1 + 1e-12:
            raise ValueError(f"{row.institution} {row.site} {row.sector}: bbl_share not reachable")
        label = (f"{row.institution} {row.site} {row.sector} L{row.min_level}-{row.max_level} "
                 f"({row.students_base:g} students, bbl_share {row.bbl_share:g})")
        for (crebo, why), n in zip(offer, students, strict=True):
            bbl = n if bbl_only[crebo] else (n * rate if both[crebo] else 0.0)
            for route, value in (("BOL", n - bbl), ("BBL", bbl)):
                if value <= 0:
                    continue
                out.append({
                    "region": row.region, "institution": row.institution, "site": row.site,
                    "crebo": int(crebo), "route": route, "students_base": float(value),
                    "split": "assumption",
                    "source": (f"assumption: students_base of institutions.csv row {label} split over "
                               f"its {len(offer)} offered qualifications in proportion to "
                               f"national_sizes.csv, routes by bbl_share; offered because {why}"),
                })
    portfolio = pd.DataFrame(out, columns=PORTFOLIO_COLUMNS)
    return quals, sizes, portfolio


def _write(frame: pd.DataFrame, path: Path) -> str:
    text = frame.to_csv(index=False, lineterminator="\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.datatools.portfolio",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the generated files differ from those on disk")
    args = parser.parse_args(argv)
    quals, sizes, portfolio = build(args.data_dir)
    files = {"qualifications.csv": quals, "national_sizes.csv": sizes, "portfolio.csv": portfolio}
    stale = []
    for name, frame in files.items():
        path = args.data_dir / name
        text = _write(frame, path)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            stale.append(name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    units = portfolio.groupby(["region"])[["institution", "site", "crebo"]].apply(
        lambda f: len(f.drop_duplicates()))
    print("opleidingen (qualification x site) per region: "
          + ", ".join(f"{r} {n}" for r, n in units.items()))
    if args.check and stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
