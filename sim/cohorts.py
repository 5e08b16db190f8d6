"""Cohorts from the 2021 age bands: pure functions shared by the region's demography
(:mod:`sim.processes.demography`) and the ring around it (:mod:`sim.processes.education.inflow`)."""

from __future__ import annotations

import numpy as np

DATA_YEAR = 2021


def cumulative_round(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Round non-negative reals to integers so that running totals along ``axis`` stay within
    half a unit of the real running totals (each cell within 1, the total exact to rounding)."""
    c = np.rint(np.cumsum(x, axis=axis))
    return np.diff(c, axis=axis, prepend=0).astype(np.int64)


def single_year_table(bands: np.ndarray, scale: float) -> np.ndarray:
    """(municipalities × 20 five-year bands) -> (municipalities × 100 single years), at scale."""
    per_year = np.repeat(bands / 5.0, 5, axis=1) * scale
    return cumulative_round(per_year, axis=1)


def stationary_youth(table: np.ndarray, ages: int) -> np.ndarray:
    """The single-year table with every age below ``ages`` set to the municipality's mean cohort
    of ages 10-19: constant cohorts through school, mbo and the first working years (or, with
    ``ages`` = 100, a population without any age structure: demography=steady_state)."""
    out = table.copy()
    out[:, :ages] = np.rint(table[:, 10:20].mean(1))[:, None].astype(np.int64)
    return out
