"""Drawing random subsets of persons in time proportional to the subset, not the population.

Each month only a small share of persons changes state (a layoff, an LLO start). Drawing one
uniform number per person costs more than everything else; drawing K ~ Binomial(n, p) and then
K distinct indices gives exactly the same distribution (each index independently with
probability p) at O(n·p) cost. Heterogeneous probabilities p_i ≤ p_max are handled by thinning:
draw with p_max, then keep each candidate with probability p_i / p_max.
"""

from __future__ import annotations

import numpy as np


def bernoulli_subset(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices in 0..n-1, each included independently with probability ``p``."""
    if n == 0 or p <= 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(n)
    k = int(rng.binomial(n, p))
    return np.sort(rng.choice(n, size=k, replace=False))


def thinned_subset(rng: np.random.Generator, n: int, p_max: float, p_of) -> np.ndarray:
    """Indices each included with its own probability ``p_of(candidates)`` (≤ p_max)."""
    cand = bernoulli_subset(rng, n, p_max)
    if cand.size == 0:
        return cand
    p = p_of(cand)
    return cand[rng.random(cand.size) * p_max < p]


def first_within_capacity(rng: np.random.Generator, group: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Admit entries in random order, at most ``capacity[g]`` per group ``g``; returns a mask.

    Used wherever many candidates compete for limited places: vacancies of an employer cell,
    places in a programme, BBL places of a sector.
    """
    order = rng.permutation(group.size)
    order = order[np.argsort(group[order], kind="stable")]
    g = group[order]
    rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
    admit = np.zeros(group.size, dtype=bool)
    admit[order[rank < capacity[g]]] = True
    return admit
