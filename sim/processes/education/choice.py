"""Programme choice of school leavers: a nested logit, as pure functions of arrays.

First a sector (nest): its constant, image, employership and job prospects, plus the inclusive
value of its programmes; then a programme within it: its constant, travel time, level fit and
route. Programmes beyond ``max_travel_minutes`` are not considered, unless nothing is within
reach: then the whole region counts (far away).
"""

from __future__ import annotations

import numpy as np

from sim.config import ChoiceConfig


def prospects(vacancies: np.ndarray, unemployed: np.ndarray) -> np.ndarray:
    """Standardised log tightness per sector: log((vacancies + 1) / (job seekers + 1)), z-scored."""
    t = np.log((vacancies + 1) / (unemployed + 1))
    sd = t.std()
    return (t - t.mean()) / sd if sd > 0 else np.zeros_like(t)


def programme_utility(asc: np.ndarray, travel: np.ndarray, level_gap: np.ndarray, is_bbl: np.ndarray,
                      weights: ChoiceConfig) -> np.ndarray:
    """Systematic utility (persons × programmes) of each programme within its sector's nest.

    ``travel`` in minutes and ``level_gap`` (|programme level − aptitude|) are persons ×
    programmes; ``asc`` (the programme constant) and ``is_bbl`` are per programme."""
    return (
        asc[None, :]
        + weights.travel_per_10_minutes * travel / 10.0
        + weights.level_mismatch * level_gap
        + weights.bbl_constant * is_bbl[None, :]
    )


def reachable(travel: np.ndarray, available: np.ndarray, max_minutes: float) -> np.ndarray:
    """Choice sets (persons × programmes): available programmes within ``max_minutes``; a person
    with none within reach considers every available programme."""
    ok = (travel <= max_minutes) & available[None, :]
    nothing_near = ~ok.any(1)
    ok[nothing_near] = available[None, :]
    return ok


def probabilities(v: np.ndarray, ok: np.ndarray, sector_onehot: np.ndarray, sector_utility: np.ndarray,
                  nest_scale: float) -> np.ndarray:
    """The nested-logit choice probabilities (persons × programmes) that :func:`choose` draws
    from: P(sector) × P(programme | sector); rows with an empty choice set are all zero."""
    lam = nest_scale
    v = np.where(ok, v, -np.inf)
    vmax = np.max(np.where(ok, v, -1e300), axis=1, keepdims=True)
    e = np.where(ok, np.exp((v - vmax) / lam), 0.0)
    nest_sum = e @ sector_onehot  # (n, S)
    has = nest_sum > 0
    with np.errstate(divide="ignore"):
        iv = lam * np.log(nest_sum) + vmax
    u = np.where(has, sector_utility[None, :] + iv, -np.inf)
    u_max = np.max(np.where(has, u, -1e300), axis=1, keepdims=True)
    w = np.where(has, np.exp(u - u_max), 0.0)
    p_sector = w / np.maximum(w.sum(1, keepdims=True), 1e-300)
    within = e / np.maximum(nest_sum @ sector_onehot.T, 1e-300)
    return within * (p_sector @ sector_onehot.T)


def choose(rng: np.random.Generator, v: np.ndarray, ok: np.ndarray, programme_sector: np.ndarray,
           sector_onehot: np.ndarray, sector_utility: np.ndarray, nest_scale: float) -> np.ndarray:
    """Draw one programme per person from a nested logit.

    ``v``: programme utilities (persons × programmes); ``ok``: choice sets; ``sector_onehot``:
    programmes × sectors; ``sector_utility``: per sector (the nest's own terms); ``nest_scale``
    λ in (0, 1]. The sector is drawn with utility ``sector_utility + λ·log Σ exp(v/λ)``, then the
    programme within it with probability ∝ exp(v/λ). Returns a programme index per person, −1
    where the choice set is empty.
    """
    lam = nest_scale
    v = np.where(ok, v, -np.inf)
    vmax = np.max(np.where(ok, v, -1e300), axis=1, keepdims=True)
    e = np.where(ok, np.exp((v - vmax) / lam), 0.0)
    nest_sum = e @ sector_onehot  # (n, S)
    has = nest_sum > 0
    with np.errstate(divide="ignore"):
        iv = lam * np.log(nest_sum) + vmax
    u_sector = np.where(has, sector_utility[None, :] + iv, -np.inf)
    g = rng.gumbel(size=u_sector.shape)
    sector = np.argmax(u_sector + g, axis=1)
    none = ~has.any(1)
    g2 = rng.gumbel(size=v.shape)
    in_sector = programme_sector[None, :] == sector[:, None]
    score = np.where(ok & in_sector, v / lam + g2, -np.inf)
    choice = np.argmax(score, axis=1)
    choice[none] = -1
    return choice
