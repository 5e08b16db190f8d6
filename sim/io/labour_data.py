"""The labour-market data of one region, read and checked: search by field, the sector profile of
vacancies, cross-border commuting, labour migrants and the municipalities on the border.

Each file has a ``source`` column (SOURCES.md describes the files); see ``load_labour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.codes import N_SECTORS, SECTOR_INDEX, SECTORS

LABOUR_FILES = {
    "field_mobility": "field_mobility.csv",
    "vacancy_rates": "sector_vacancy_rates.csv",
    "cross_border": "cross_border_commuting.csv",
    "labour_migration": "labour_migration.csv",
    "border": "border_municipalities.csv",
}
NATIONAL = "nl"  # rows for the Netherlands as a whole: reference figures, not read by the model
ALL = "all"  # a row for every sector together: split by the region's employment shares


@dataclass
class LabourData:
    field_search: np.ndarray  # (field, sector): share of a seeker's search in each sector; rows sum to 1
    vacancy_profile: np.ndarray  # (sector,) vacancies per 100 jobs (CBS), relative to its job-weighted mean
    commuters_in: np.ndarray  # (sector,) persons living abroad who work in the region (real persons)
    commuters_out: np.ndarray  # (sector,) residents who work abroad (real persons)
    labour_migrants: np.ndarray  # (sector,) labour migrants working in the region in the base year
    border_weight: np.ndarray  # (municipality,) share of the region's cross-border workers (sums to 1, or all 0)


def load_labour(paths: dict[str, Path], region: str, municipalities: list[str], employment: np.ndarray,
                read_csv, error: type[Exception]) -> LabourData:
    """Read the labour files for ``region``; ``read_csv(path, columns)`` and ``error`` are the
    loader's (one clear message per problem)."""

    def sectors_of(path: Path, col: pd.Series, extra: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(col) - set(SECTORS) - set(extra))
        if unknown:
            raise error(f"data file {path}: unknown sector(s) {unknown}; allowed: {[*SECTORS, *extra]}")

    # search by field
    p = paths["field_mobility"]
    fm = read_csv(p, {"field": "str", "sector": "str", "weight": "float"})
    sectors_of(p, fm["field"])
    sectors_of(p, fm["sector"])
    if fm.duplicated(["field", "sector"]).any():
        raise error(f"data file {p}: a (field, sector) pair appears twice")
    if ((fm["weight"] < 0) | ~np.isfinite(fm["weight"])).any():
        raise error(f"data file {p}: column 'weight' must be finite and >= 0")
    search = np.zeros((N_SECTORS, N_SECTORS))
    for f, s, w in zip(fm["field"], fm["sector"], fm["weight"], strict=True):
        search[SECTOR_INDEX[f], SECTOR_INDEX[s]] = w
    sums = search.sum(1)
    bad = [SECTORS[i] for i in np.flatnonzero(np.abs(sums - 1) > 0.01)]
    if bad:
        raise error(f"data file {p}: the weights of field(s) {bad} sum to "
                    f"{[round(float(sums[SECTOR_INDEX[b]]), 3) for b in bad]}, not 1")
    search /= sums[:, None]

    # vacancy profile
    p = paths["vacancy_rates"]
    vr = read_csv(p, {"sector": "str", "vacancies_per_100_jobs": "float"})
    sectors_of(p, vr["sector"])
    if sorted(vr["sector"]) != sorted(SECTORS):
        raise error(f"data file {p}: needs exactly one row per sector {list(SECTORS)}")
    if (vr["vacancies_per_100_jobs"] <= 0).any() or not np.isfinite(vr["vacancies_per_100_jobs"]).all():
        raise error(f"data file {p}: column 'vacancies_per_100_jobs' must be finite and > 0")
    rate = np.zeros(N_SECTORS)
    for s, v in zip(vr["sector"], vr["vacancies_per_100_jobs"], strict=True):
        rate[SECTOR_INDEX[s]] = v
    profile = rate / float(rate @ employment)

    def by_sector(path: Path, df: pd.DataFrame, value: str) -> np.ndarray:
        sectors_of(path, df["sector"], (ALL,))
        if (df[value] < 0).any() or not np.isfinite(df[value]).all():
            raise error(f"data file {path}: column {value!r} must be finite and >= 0")
        out = np.zeros(N_SECTORS)
        for s, v in zip(df["sector"], df[value], strict=True):
            if s == ALL:
                out += v * employment
            else:
                out[SECTOR_INDEX[s]] += v
        return out

    def region_rows(path: Path, df: pd.DataFrame) -> pd.DataFrame:
        from sim.regions import REGIONS

        unknown = sorted(set(df["region"]) - set(REGIONS) - {NATIONAL})
        if unknown:
            raise error(f"data file {path}: unknown region(s) {unknown}; allowed: {[*REGIONS, NATIONAL]}")
        return df[df["region"] == region]

    p = paths["cross_border"]
    cb = read_csv(p, {"region": "str", "sector": "str", "direction": "str", "workers": "float"})
    bad_dir = sorted(set(cb["direction"]) - {"in", "out"})
    if bad_dir:
        raise error(f"data file {p}: unknown direction(s) {bad_dir}; allowed: ['in', 'out']")
    cb = region_rows(p, cb)
    if cb.duplicated(["sector", "direction"]).any():
        raise error(f"data file {p}: a (region, sector, direction) row appears twice")
    c_in = by_sector(p, cb[cb["direction"] == "in"], "workers")
    c_out = by_sector(p, cb[cb["direction"] == "out"], "workers")

    p = paths["labour_migration"]
    lm = region_rows(p, read_csv(p, {"region": "str", "sector": "str", "workers": "float"}))
    if lm.duplicated(["sector"]).any():
        raise error(f"data file {p}: a (region, sector) row appears twice")
    migrants = by_sector(p, lm, "workers")

    p = paths["border"]
    bm = region_rows(p, read_csv(p, {"region": "str", "municipality": "str", "weight": "float"}))
    unknown = sorted(set(bm["municipality"]) - set(municipalities))
    if unknown:
        raise error(f"data file {p}: municipality(ies) {unknown} are not in region {region}")
    if (bm["weight"] < 0).any() or not np.isfinite(bm["weight"]).all():
        raise error(f"data file {p}: column 'weight' must be finite and >= 0")
    weight = np.zeros(len(municipalities))
    for m, w in zip(bm["municipality"], bm["weight"], strict=True):
        weight[municipalities.index(m)] += w
    if (c_in.sum() > 0 or c_out.sum() > 0) and weight.sum() <= 0:
        raise error(f"data file {p}: region {region} has cross-border workers but no border municipality with "
                    f"weight > 0")
    if weight.sum() > 0:
        weight /= weight.sum()
    return LabourData(search, profile, c_in, c_out, migrants, weight)
