"""Labour demand paths per sector from the economy scenario.

Each sector's demand index grows at its annual rate (compounded monthly); care demand also
follows the region's 75+ population with an elasticity (more elderly, more care); a shock
lowers all demand in its years (recession scenario).
"""

from __future__ import annotations

import numpy as np

from sim.codes import SECTOR_INDEX, SECTORS
from sim.config import EconomyConfig


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
    if cfg.shock_years > 0 and cfg.shock_depth > 0:
        year = start_year + np.floor(t).astype(int)
        hit = (year >= cfg.shock_start_year) & (year < cfg.shock_start_year + cfg.shock_years)
        index[hit] *= 1 - cfg.shock_depth
    return index
