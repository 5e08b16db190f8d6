"""Places: school leavers choose, over-subscribed programmes and BBL places bind, the rejected
choose again among what is left (a pure function of arrays and a chooser)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.codes import Route
from sim.sampling import first_within_capacity

Chooser = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def admitted_mean(lam: np.ndarray, places: np.ndarray) -> np.ndarray:
    """E[min(N, c)] for N ~ Poisson(λ) choosers and c places (c ≥ 0, not necessarily whole).

    Exact for λ < 30 (the Poisson probabilities summed below c); above, by the normal approximation
    with continuity correction, whose error there is below 0.05 persons; λ itself where the places
    are far above the choosers. In numpy only: a run does not load scipy (tests/test_imports.py)."""
    lam, c = np.broadcast_arrays(np.asarray(lam, dtype=float), np.maximum(np.asarray(places, dtype=float), 0.0))
    shape = lam.shape
    lam, c = lam.ravel(), c.ravel()
    # where nothing is in doubt: λ = 0, c = 0, or places far above the choosers (P(N ≥ c) < 1e-12)
    far = c >= lam + 10 * np.sqrt(lam) + 10
    out = np.where(far, lam, np.minimum(lam, c))
    doubt = (lam > 0) & (c > 0) & ~far
    small = doubt & (lam < _EXACT_BELOW)
    if small.any():
        ls, cs = lam[small], c[small]
        j = np.arange(int(np.ceil(cs.max())))  # only j < c adds (c < 30 + 10·√30 + 10 < 100)
        p = np.exp(-ls[:, None] + j[None, :] * np.log(ls)[:, None] - _LOG_FACTORIAL[j][None, :])
        p = np.where(j[None, :] < cs[:, None], p, 0.0)
        out[small] = p @ j + cs * (1.0 - p.sum(1))  # E[N; N < c] + c·P(N ≥ c)
    large = doubt & (lam >= _EXACT_BELOW)
    if large.any():
        ll, cl = lam[large], c[large]
        sd = np.sqrt(ll)
        # λ − Σ_{j > ⌊c⌋} (j − c)·P(N = j), the sum as ∫ from ⌊c⌋ + ½ (continuity correction)
        edge = np.floor(cl) + 0.5
        z = (edge - ll) / sd
        above = 1.0 - _normal_cdf(z)
        out[large] = ll - sd * (_normal_pdf(z) - z * above) - (edge - cl) * above
    return out.reshape(shape)


_EXACT_BELOW = 30.0
_LOG_FACTORIAL = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, 100)))])  # log j!, j < 100


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Φ(z) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7)."""
    x = np.abs(z) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.where(z >= 0, erf, -erf))


class ExpectedIntake:
    """The intake's expectation, added up over the allocation's rounds and sources: each round's
    expected choosers λ of a programme are admitted within the places left, E[min(N, left)] for
    N ~ Poisson(λ) (``model``, model scale), and the same for the real region, s·E[min(N', left/s)]
    with N' ~ Poisson(λ/s) (``real``, in model units): what a whole-person region would expect in
    that state. Rejected choosers who choose again count again only in what they can still get."""

    def __init__(self, n: int, scale: float) -> None:
        self.scale = scale
        self.model = np.zeros(n)
        self.real = np.zeros(n)

    def add(self, lam: np.ndarray, left: np.ndarray) -> None:
        s = self.scale
        model = admitted_mean(lam, left)
        self.model += model
        self.real += model if s >= 1 else s * admitted_mean(lam / s, np.asarray(left) / s)


def available(places: np.ndarray, bbl_places: np.ndarray, programme_route: np.ndarray,
              programme_sector: np.ndarray) -> np.ndarray:
    """Programmes that can take a new student: a place left and, for BBL, a BBL place in the sector."""
    return (places > 0) & ~((programme_route == Route.BBL) & (bbl_places[programme_sector] <= 0))


def allocate(rng: np.random.Generator, n_persons: int, places: np.ndarray, bbl_places: np.ndarray,
             programme_route: np.ndarray, programme_sector: np.ndarray, choose: Chooser,
             rounds: int = 6) -> np.ndarray:
    """Programme per person (−1: no place), in up to ``rounds`` rounds.

    ``places``: new students each programme can still take; ``bbl_places``: BBL places per
    sector (a BBL student needs one); ``choose(persons, available, left)`` returns each person's
    choice among the available programmes (−1 if none); ``left``: the places each programme has
    left at the round's start (for the chooser's expectation, :class:`ExpectedIntake`). In each
    round the choosers are admitted in random order, first come within each programme's places
    and, for BBL, within the sector's BBL places; the rejected choose again. Those with nothing
    available stop.
    """
    n_prog = places.size
    result = np.full(n_persons, -1, dtype=np.int64)
    remaining_cap = places.astype(np.int64).copy()
    bbl_left = bbl_places.astype(np.int64).copy()
    is_bbl = programme_route == Route.BBL
    pending = np.arange(n_persons)
    for _ in range(rounds):
        if pending.size == 0:
            break
        avail = available(remaining_cap, bbl_left, programme_route, programme_sector)
        choice = choose(pending, avail, remaining_cap)
        got = np.flatnonzero(choice >= 0)
        ch = choice[got]
        admit = first_within_capacity(rng, ch, remaining_cap)
        bbl = np.flatnonzero(admit & is_bbl[ch])
        admit[bbl[~first_within_capacity(rng, programme_sector[ch[bbl]], bbl_left)]] = False
        admitted = got[admit]
        result[pending[admitted]] = choice[admitted]
        remaining_cap -= np.bincount(choice[admitted], minlength=n_prog)
        bbl_left -= np.bincount(programme_sector[choice[admitted]][is_bbl[choice[admitted]]], minlength=bbl_left.size)
        rejected = np.ones(pending.size, dtype=bool)
        rejected[admitted] = False
        rejected &= choice >= 0  # those with nothing available stop trying
        pending = pending[rejected]
    return result
