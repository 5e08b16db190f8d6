"""Labour demand paths per sector from the economy scenario.

Each sector's demand index grows at its annual rate (compounded monthly); care demand also
follows the region's 75+ population with an elasticity (more elderly, more care); a shock
lowers all demand in its years (recession scenario).
"""

from __future__ import annotations

import numpy as np

from sim.codes import SECTOR_INDEX, SECTORS
from sim.config import EconomyConfig


def in_shock(cfg: EconomyConfig, year: int) -> bool:
    return cfg.shock_years > 0 and cfg.shock_start_year <= year < cfg.shock_start_year + cfg.shock_years


def bbl_place_index(cfg: EconomyConfig, year: int) -> float:
    """BBL places relative to normal: employers cut them more than demand in a recession (the BBL
    share rises when unemployment falls; OCW's enrolment forecast uses CPB unemployment for it)."""
    return 1.0 - cfg.bbl_sensitivity * cfg.shock_depth if in_shock(cfg, year) else 1.0


def demand_index(cfg: EconomyConfig, start_year: int, n_months: int, pop75: np.ndarray) -> np.ndarray:
    """(n_months × sectors) demand relative to the base month.

    ``pop75`` holds the 75+ population for start_year … start_year + n_years (yearly).
    """
    t = np.arange(n_months) / 12.0
    growth = np.array([cfg.sector_growth[s] for s in SECTORS])
    index = (1 + growth)[None, :] ** t[:, None]
    p75 = np.interp(t, np.arange(len(pop75)), pop75)
    care = SECTOR_INDEX["care"]
    index[:, care] *= (p75 / p75[0]) ** cfg.care_elasticity_75plus
    year = start_year + np.floor(t).astype(int)
    hit = np.array([in_shock(cfg, y) for y in year], dtype=bool)
    index[hit] *= 1 - cfg.shock_depth
    return index
