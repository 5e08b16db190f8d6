"""Education choice of school leavers: a nested logit, as pure functions of arrays.

At the top a school leaver chooses between not enrolling in mbo (havo/vwo, work, nothing: one
outside alternative with utility 0) and mbo, whose utility is c_mbo + μ·IV_mbo with IV_mbo the
log-sum of the mbo choice below (:func:`participation`). Within mbo, first a sector (nest): its
constant, image, employership and job prospects, plus the inclusive value of its programmes; then
a programme within it: its constant, travel time, level fit and route (:func:`probabilities`).
The choice set is every available programme within ``choice_set_minutes`` (:func:`choice_set`);
a school leaver with an empty choice set stays out of mbo (P(mbo) = 0).
"""

from __future__ import annotations

import numpy as np

from sim.config import ChoiceConfig


def prospects(vacancies: np.ndarray, unemployed: np.ndarray) -> np.ndarray:
    """Standardised log tightness per sector: log((vacancies + 1) / (job seekers + 1)), z-scored."""
    t = np.log((vacancies + 1) / (unemployed + 1))
    sd = t.std()
    return (t - t.mean()) / sd if sd > 0 else np.zeros_like(t)


def intake_constants(base_intake: np.ndarray, nest_scale: float) -> np.ndarray:
    """λ·ln(base-year intake share) per programme: within a sector's nest (utility ÷ λ) shares are
    proportional to base intake. Shares, not counts, so that the log-sum of the mbo choice (and with
    it the participation) does not depend on the model's scale or the size of the cohort."""
    return nest_scale * (np.log(np.maximum(base_intake, 1e-3)) - np.log(max(float(base_intake.sum()), 1e-3)))


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


def choice_set(travel: np.ndarray, available: np.ndarray, max_minutes: float) -> np.ndarray:
    """Choice sets (persons × programmes): available programmes within ``max_minutes`` of home.
    A row may be empty: that person has no mbo programme to choose (and stays out of mbo)."""
    return (travel <= max_minutes) & available[None, :]


def nested(v: np.ndarray, ok: np.ndarray, sector_onehot: np.ndarray, sector_utility: np.ndarray,
           nest_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The mbo part of the nested logit: (P(programme | mbo), IV_mbo).

    P(programme | mbo) = P(sector) × P(programme | sector) (persons × programmes; rows with an
    empty choice set are all zero), with P(programme | sector) ∝ exp(v/λ) and P(sector) ∝
    exp(W_s + λ·IV_s), IV_s = log Σ_{j∈s} exp(v_j/λ). IV_mbo = log Σ_s exp(W_s + λ·IV_s) per
    person (−inf for an empty choice set)."""
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
    w_sum = w.sum(1, keepdims=True)
    p_sector = w / np.maximum(w_sum, 1e-300)
    within = e / np.maximum(nest_sum @ sector_onehot.T, 1e-300)
    with np.errstate(divide="ignore"):
        iv_mbo = np.where(w_sum[:, 0] > 0, np.log(np.maximum(w_sum[:, 0], 1e-300)) + u_max[:, 0], -np.inf)
    return within * (p_sector @ sector_onehot.T), iv_mbo


def probabilities(v: np.ndarray, ok: np.ndarray, sector_onehot: np.ndarray, sector_utility: np.ndarray,
                  nest_scale: float) -> np.ndarray:
    """The nested-logit choice probabilities within mbo (persons × programmes) that :func:`choose`
    draws from: P(sector) × P(programme | sector); rows with an empty choice set are all zero."""
    return nested(v, ok, sector_onehot, sector_utility, nest_scale)[0]


def participation_from_iv(iv_mbo: np.ndarray, constant: float, scale: float) -> np.ndarray:
    """P(mbo) = 1 / (1 + exp(−(c_mbo + μ·IV_mbo))) against the outside alternative (utility 0);
    0 where IV_mbo = −inf (nothing to choose)."""
    x = constant + scale * np.where(np.isfinite(iv_mbo), iv_mbo, 0.0)
    p = 0.5 * (1.0 + np.tanh(0.5 * x))  # the logistic function, without overflow
    return np.where(np.isfinite(iv_mbo), p, 0.0)


def participation(v: np.ndarray, ok: np.ndarray, sector_onehot: np.ndarray, sector_utility: np.ndarray,
                  nest_scale: float, constant: float, scale: float) -> np.ndarray:
    """P(mbo) per person (row) from the same quantities as :func:`probabilities`: the top level of
    the nested logit, mbo (utility c_mbo + μ·IV_mbo, μ = ``scale`` in (0, 1]) against not enrolling
    (utility 0). It falls as the utilities of the programmes in the choice set fall (e.g. with
    travel time), and is 0 for an empty choice set."""
    return participation_from_iv(nested(v, ok, sector_onehot, sector_utility, nest_scale)[1], constant, scale)


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
