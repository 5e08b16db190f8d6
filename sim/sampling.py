"""Drawing random subsets of persons in time proportional to the subset, not the population.

Each month only a small share of persons changes state (a layoff, an LLO start). Drawing one
uniform number per person costs more than everything else; drawing the (geometric) gaps between
the included indices gives exactly the same distribution (each index independently with
probability p) at O(n·p) cost. Heterogeneous probabilities p_i ≤ p_max are handled by thinning:
draw with p_max, then keep each candidate with probability p_i / p_max. Real counts become whole
persons without losing the small ones by :func:`systematic_round`.
"""

from __future__ import annotations

import math

import numpy as np


def bernoulli_subset(rng: np.random.Generator, n: int, p: float, chunk: int = 0) -> np.ndarray:
    """Sorted indices in 0..n-1, each included independently with probability ``p``.

    Drawn as the gaps between successive included indices, which are independent and geometric
    (P(gap = g) = (1 - p)^(g-1) p, g ≥ 1): about n·p draws and a cumulative sum, already in
    order (benchmarks/README.md, issue 17's sixth step: 1.3–1.8× faster than a binomial count,
    k indices without replacement and a sort). ``chunk``: gaps drawn per round (0: enough to pass
    n in one round in all but about one call in 10^9; the rounds draw the same sequence)."""
    if n == 0 or p <= 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(n)
    mean = n * p
    chunk = chunk or int(mean + 6 * math.sqrt(mean) + 16)
    at = np.cumsum(rng.geometric(p, size=chunk)) - 1
    while at[-1] < n:  # not yet past the end: draw on from the last included index
        at = np.concatenate([at, at[-1] + np.cumsum(rng.geometric(p, size=chunk))])
    return at[: np.searchsorted(at, n)]


def thinned_subset(rng: np.random.Generator, n: int, p_max: float, p_of) -> np.ndarray:
    """Indices each included with its own probability ``p_of(candidates)`` (≤ p_max)."""
    cand = bernoulli_subset(rng, n, p_max)
    if cand.size == 0:
        return cand
    p = p_of(cand)
    return cand[rng.random(cand.size) * p_max < p]


def count_at_most(cum: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each i, how many entries of ``cum[row[i]]`` are at most ``u[i]``: the same as
    ``(u[:, None] >= cum[row]).sum(1)`` when every row of ``cum`` is non-decreasing (a
    cumulative sum), found by one binary search per entry among the draws of each row, without
    the (entries × columns) table. For few rows and many entries (a workplace by home)."""
    out = np.empty(u.size, dtype=np.intp)
    order = np.argsort(row, kind="stable")
    bounds = np.searchsorted(row[order], np.arange(cum.shape[0] + 1))
    for r in np.flatnonzero(np.diff(bounds)):
        at = order[bounds[r] : bounds[r + 1]]
        out[at] = np.searchsorted(cum[r], u[at], side="right")
    return out


def first_within_capacity(rng: np.random.Generator, group: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Admit entries in random order, at most ``capacity[g]`` per group ``g``; returns a mask.

    Used wherever many candidates compete for limited places: vacancies of an employer cell,
    places in a programme, BBL places of a sector.
    """
    order = rng.permutation(group.size)
    key = group[order]
    if key.size and 0 <= key.min() and key.max() < 2**15:
        key = key.astype(np.int16)  # the same stable order, by a radix sort
    order = order[np.argsort(key, kind="stable")]
    g = group[order]
    rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
    admit = np.zeros(group.size, dtype=bool)
    admit[order[rank < capacity[g]]] = True
    return admit


def systematic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Whole counts for the non-negative real counts ``x`` (any shape): each cell becomes the floor
    or the ceiling of its value, with expectation equal to it, and the total the floor or the
    ceiling of the total (cumulative rounding from one uniform offset: systematic sampling).
    Rounding each cell, or each column, to the nearest whole number would drop every cell below
    one half: the small ones vanish at a reduced ``scale``. (:func:`sim.cohorts.cumulative_round`
    is the deterministic rule, for tables whose every cell is large.)"""
    cum = np.floor(np.cumsum(x.ravel()) + rng.random())
    return np.diff(cum, prepend=0).reshape(x.shape).astype(np.int64)


def uniform_subset_where(rng: np.random.Generator, n: int, k: int, ok, share: float,
                         max_rounds: int = 64) -> np.ndarray:
    """Up to ``k`` distinct indices in 0..n-1, drawn uniformly among those where ``ok(indices)``
    (a boolean per index) holds, without a scan of all ``n``: uniform indices are drawn in rounds
    and the first ``k`` distinct ones that pass are kept, in the order drawn — every subset of
    the passing indices of size ``k`` is then equally likely. ``share``: a guess of the passing
    share, which sets the first round's size; later rounds use the share seen so far (a wrong
    guess costs rounds, not correctness). Fewer than ``k`` come back only when ``max_rounds``
    rounds did not find them (almost none pass)."""
    got = np.empty(0, dtype=np.intp)
    if k <= 0 or n <= 0:
        return got
    share = min(max(share, 1e-3), 1.0)
    drawn = passed = 0
    for _ in range(max_rounds):
        cand = rng.integers(0, n, size=int((k - got.size) / share * 1.25) + 16)
        hit = cand[ok(cand)]
        drawn, passed = drawn + cand.size, passed + hit.size
        share = min(max(passed / drawn, 1e-3), 1.0)
        got = np.concatenate([got, hit])
        _, first = np.unique(got, return_index=True)
        got = got[np.sort(first)]
        if got.size >= k:
            return got[:k]
    return got
