"""Cohorts and age profiles from the 2021 age bands: pure functions shared by the region's
demography (:mod:`sim.processes.demography`), the ring around it
(:mod:`sim.processes.education.inflow`) and the labour market (:mod:`sim.processes.labour`)."""

from __future__ import annotations

import numpy as np

from sim.config import _parse_band

DATA_YEAR = 2021
MAX_AGE = 100  # the 95+ band is spread over 95-99


def cumulative_round(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Round non-negative reals to integers so that running totals along ``axis`` stay within
    half a unit of the real running totals (each cell within 1, the total exact to rounding)."""
    c = np.rint(np.cumsum(x, axis=axis))
    return np.diff(c, axis=axis, prepend=0).astype(np.int64)


def spread_bands(bands: np.ndarray, width: int = 5) -> np.ndarray:
    """(rows × bands) counts per age band -> (rows × bands·width) reals per single year of age.

    The running total over age is a monotone cubic through the band boundaries (Fritsch &
    Carlson 1980 with harmonic-mean slopes: the PCHIP interpolant, as in DemoTools'
    ``graduate_mono``): each band keeps its count exactly, no age is negative, and the count per
    year of age changes smoothly across band boundaries. Spreading each band uniformly instead turns the change
    between two bands into a step from one year of age to the next: a cohort of 15-year-olds
    16 % smaller than the year before, once every five years, with no counterpart in the births
    (ODD, Initialisation)."""
    mean = bands.astype(float) / width  # the secant slopes of the running total
    rows, k = mean.shape
    d = np.zeros((rows, k + 1))  # the running total's slope at each boundary
    lo, hi = mean[:, :-1], mean[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        d[:, 1:-1] = np.where((lo > 0) & (hi > 0), 2 * lo * hi / (lo + hi), 0.0)
    if k > 1:  # the ends: a one-sided three-point slope, kept at zero or above (as scipy's PCHIP)
        for end, first, second in ((0, mean[:, 0], mean[:, 1]), (-1, mean[:, -1], mean[:, -2])):
            slope = (3 * first - second) / 2
            d[:, end] = np.where((first > 0) & (slope > 0), slope, 0.0)
    else:
        d[:] = mean
    t = np.arange(width + 1) / width  # positions of the whole ages within a band
    # Hermite basis (the one of the start value drops out): the running total within each band,
    # relative to its start, with C_k = 0 and C_k+1 = the band's count
    h10, h01, h11 = t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    run = (h10 * width * d[:, :-1, None] + h01 * bands[:, :, None].astype(float)
           + h11 * width * d[:, 1:, None])
    return np.diff(run, axis=2).reshape(rows, k * width)


def single_year_table(bands: np.ndarray, scale: float) -> np.ndarray:
    """(municipalities × 20 five-year bands) -> (municipalities × 100 single years), at scale
    (:func:`spread_bands`, rounded so that running totals over age stay exact; first to 1e-9, so
    that which half-way total rounds up does not hang on floating-point noise)."""
    return cumulative_round(np.round(spread_bands(bands) * scale, 9), axis=1)


def stationary_youth(table: np.ndarray, ages: int) -> np.ndarray:
    """The single-year table with every age below ``ages`` set to the municipality's mean cohort
    of ages 10-19: constant cohorts through school, mbo and the first working years (or, with
    ``ages`` = 100, a population without any age structure: demography=steady_state)."""
    out = table.copy()
    out[:, :ages] = np.rint(table[:, 10:20].mean(1))[:, None].astype(np.int64)
    return out


def band_rates(bands: dict[str, float], max_age: int = MAX_AGE) -> np.ndarray:
    """Per single year of age, the rate of the band that contains it (0 elsewhere)."""
    out = np.zeros(max_age + 1)
    for band, rate in bands.items():
        lo, hi = _parse_band(band, band)
        out[lo : hi + 1] = rate
    return out


def base_status_rates(pcfg, rcfg) -> tuple[np.ndarray, np.ndarray]:
    """Per single year of age, the base year's shares employed and unemployed of those past
    education: CBS's employment rate by age × the region's participation factor, and unemployed
    in the proportion of the region's unemployment rate. The rest is inactive."""
    e = np.clip(band_rates(dict(pcfg.employment_rate_by_age)) * rcfg.participation_factor, 0, 1)
    ur = rcfg.unemployment_rate
    return e, np.clip(e * ur / (1 - ur), 0, 1 - e)
