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


def sample(rng: np.random.Generator, prob: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per entry of ``rows`` from the probability row ``prob[rows[i]]`` (rows × options);
    −1 where the row is all zero. Persons who share a row share its cumulative sums, so the cost
    is one uniform per person plus a sort per distinct row."""
    out = np.full(rows.size, -1, dtype=np.int64)
    u = rng.random(rows.size)
    cum = np.cumsum(prob, axis=1)
    total = cum[:, -1] if prob.shape[1] else np.zeros(prob.shape[0])
    order = np.argsort(rows, kind="stable")
    bounds = np.searchsorted(rows[order], np.arange(prob.shape[0] + 1))
    for r in np.flatnonzero(np.diff(bounds) > 0):
        if total[r] <= 0:
            continue
        who = order[bounds[r] : bounds[r + 1]]
        out[who] = np.minimum(np.searchsorted(cum[r], u[who] * total[r], side="right"), prob.shape[1] - 1)
    return out


def choose(rng: np.random.Generator, v: np.ndarray, ok: np.ndarray, programme_sector: np.ndarray,
           sector_onehot: np.ndarray, sector_utility: np.ndarray, nest_scale: float) -> np.ndarray:
    """Draw one programme per person from the nested logit (see :func:`probabilities`): a sector
    with probability ∝ exp(sector_utility + λ·log Σ exp(v/λ)), then a programme within it with
    probability ∝ exp(v/λ). Returns a programme index per person, −1 where the choice set is empty.
    """
    return sample(rng, probabilities(v, ok, sector_onehot, sector_utility, nest_scale), np.arange(v.shape[0]))
