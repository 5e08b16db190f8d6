"""Places: school leavers choose, over-subscribed programmes and BBL places bind, the rejected
choose again among what is left (a pure function of arrays and a chooser)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.codes import Route
from sim.sampling import first_within_capacity

# choose(persons pending, programmes available) -> (choice per person, expected choosers per programme)
Chooser = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


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


def matched_places(rng: np.random.Generator, lam: np.ndarray, left: np.ndarray, scale: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The model's places for one round of admissions, and the round's expected admissions.

    ``lam``: the round's expected choosers per programme (model scale), ``left``: the places the
    programmes have left (real persons). The real region admits E[min(N', left)] of its
    N' ~ Poisson(λ/s) choosers; the model, whose choosers come in lumps of 1/s real persons,
    admits min(N, K) of its N ~ Poisson(λ). K is k or k + 1 (at random, one draw per programme
    in doubt) such that E[min(N, K)] = s·E[min(N', left)]: the model admits in expectation what
    the real region would. (Where choosers are few against the places, K may exceed s·left: the
    model's lumpier choosers need room to be admitted as often. A numerus fixus, which must not
    be exceeded, is kept by :class:`Admissions`.) Scaling the places (K ≈ s·left, rounded up so that no programme
    loses its last place) gave a small programme with many choosers 1/s real places instead of
    one, and rounding them at random starved one with few choosers (ODD §7.15). At scale ≥ 1
    (whole persons, or a synthetic region of copies) K = s·left and no draw is made. Returns K
    (whole model places) and the expected admissions (model scale)."""
    lam = np.asarray(lam, dtype=float)
    left = np.maximum(np.asarray(left, dtype=float), 0.0)
    if scale >= 1:
        k = np.floor(scale * left + 1e-9).astype(np.int64)
        return k, admitted_mean(lam, k)
    target = scale * admitted_mean(lam / scale, left)
    places = np.floor(scale * left).astype(np.int64)
    act = np.flatnonzero((lam > 0) & (left > 0))
    if act.size == 0:
        return places, target
    la, ta = lam[act], target[act]
    top = np.ceil(la + 10 * np.sqrt(la) + 10).astype(np.int64)  # the choosers never reach it (P < 1e-12)
    # the largest k < top with g(k) ≤ target, g(k) = E[min(N, k)] rising with k. For few choosers
    # (the exact range of admitted_mean, top < 100) from the whole curve at once,
    # g(k) = Σ_{i<k} P(N > i); for many by bisection: g(k) ≤ k, so k ≥ ⌊target⌋
    lo, hi = np.minimum(np.floor(ta).astype(np.int64), top - 1), top.copy()
    few = np.flatnonzero(la < _EXACT_BELOW)
    if few.size:
        lf, i = la[few, None], np.arange(int(top[few].max()))
        pmf = np.exp(-lf + i * np.log(lf) - _LOG_FACTORIAL[i])
        curve = np.cumsum(np.maximum(1.0 - np.cumsum(pmf, axis=1), 0.0), axis=1)  # g(1), g(2), ...
        below = (curve[:, :-1] <= ta[few, None]) & (i[None, 1:] < top[few, None])
        lo[few] = below.sum(1)  # g(0) = 0 ≤ target; then the rising curve
        hi[few] = lo[few] + 1
    while True:
        open_ = np.flatnonzero(hi - lo > 1)
        if open_.size == 0:
            break
        mid = (lo[open_] + hi[open_]) // 2
        below = admitted_mean(la[open_], mid) <= ta[open_]
        lo[open_[below]], hi[open_[~below]] = mid[below], mid[~below]
    k = lo
    g, g1 = admitted_mean(la, k), admitted_mean(la, k + 1)
    p = np.clip(np.divide(ta - g, g1 - g, out=np.zeros(act.size), where=g1 > g), 0.0, 1.0)
    places[act] = k + (rng.random(act.size) < p)
    target[act] = g + p * (g1 - g)  # = the real region's (up to rounding)
    return places, target


class Admissions:
    """One September's admissions over its sources and rounds (doorstroom, the school leavers'
    rounds, the ring, the adults): the places each programme has left (real persons) and the
    intake's expectation (``total``, model scale).

    Each round gets its places from :func:`matched_places` and adds its expected admissions T;
    the places left then fall by the admitted as the review judges them, T + √s·(A − T) for A
    admitted (model scale; ÷ s in real persons): at scale 1 by A itself, at a reduced scale with
    the scatter of a real region's, so that whether a programme is still open to the next
    round or source does not hang on lumps of 1/s persons (ODD §7.15)."""

    def __init__(self, places: np.ndarray, scale: float, rng: np.random.Generator | None = None,
                 most: np.ndarray | None = None) -> None:
        self.scale = scale
        self.rng = rng
        self.left = np.asarray(places, dtype=float).copy()
        # what the model may still admit at most (a numerus fixus, model scale), less the admitted
        self.most = np.full(self.left.size, np.iinfo(np.int64).max // 2) if most is None else most.copy()
        self.total = np.zeros(self.left.size)
        self._expected = np.zeros(self.left.size)

    def admit(self, lam: np.ndarray) -> np.ndarray:
        """The model's places for a round with ``lam`` expected choosers per programme."""
        places, self._expected = matched_places(self.rng, lam, self.left, self.scale)
        self.total += self._expected
        return np.minimum(places, self.most)

    def earlier(self, expected: np.ndarray, counts: np.ndarray) -> None:
        """A source admitted before, within the same places (the doorstroom, in July): its
        expected and its admitted per programme (model scale)."""
        self.total += expected
        self._expected = np.asarray(expected, dtype=float)
        self.admitted(counts)

    def admitted(self, counts: np.ndarray) -> None:
        """The round's admitted per programme (model scale): the places left fall by them, judged."""
        s, e = self.scale, self._expected
        judged = counts if s == 1 else e + np.sqrt(s) * (counts - e)
        self.left = np.maximum(self.left - judged / s, 0.0)
        self.most = np.maximum(self.most - counts, 0)
        self._expected = np.zeros(self.left.size)


def available(places: np.ndarray, bbl_places: np.ndarray, programme_route: np.ndarray,
              programme_sector: np.ndarray) -> np.ndarray:
    """Programmes that can take a new student: a place left and, for BBL, a BBL place in the sector."""
    return (places >= 0.5) & ~((programme_route == Route.BBL) & (bbl_places[programme_sector] <= 0))


def first_round(choose: Chooser, expected: np.ndarray) -> Chooser:
    """``choose`` with the first round's expected choosers replaced by ``expected``: those before
    the draw of who takes part (mbo participation, an adult starting BBL), so that the intake's
    expectation does not condition on that draw and the judged intake shrinks its scatter too."""
    first = [expected]

    def wrapped(pending: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        choice, lam = choose(pending, available)
        return choice, (first.pop() if first else lam)

    return wrapped


def allocate(rng: np.random.Generator, n_persons: int, admissions: Admissions, bbl_places: np.ndarray,
             programme_route: np.ndarray, programme_sector: np.ndarray, choose: Chooser, rounds: int = 6
             ) -> np.ndarray:
    """Programme per person (−1: no place), in up to ``rounds`` rounds.

    ``admissions``: the places the programmes have left (:class:`Admissions`); ``bbl_places``: BBL
    places per sector (model scale; a BBL student needs one); ``choose(persons, available)``
    returns each person's choice among the available programmes (−1 if none) and the expected
    choosers of each programme. In each round the programmes get their places for the round
    (:meth:`Admissions.admit`), the choosers are admitted in random order, first come within each
    programme's places and, for BBL, within the sector's BBL places; the rejected choose again.
    Those with nothing available stop.
    """
    n_prog = admissions.left.size
    result = np.full(n_persons, -1, dtype=np.int64)
    bbl_left = bbl_places.astype(np.int64).copy()
    is_bbl = programme_route == Route.BBL
    pending = np.arange(n_persons)
    for _ in range(rounds):
        if pending.size == 0:
            break
        avail = available(admissions.left, bbl_left, programme_route, programme_sector)
        choice, lam = choose(pending, avail)
        places = admissions.admit(lam)
        got = np.flatnonzero(choice >= 0)
        ch = choice[got]
        admit = first_within_capacity(rng, ch, places)
        bbl = np.flatnonzero(admit & is_bbl[ch])
        admit[bbl[~first_within_capacity(rng, programme_sector[ch[bbl]], bbl_left)]] = False
        admitted = got[admit]
        result[pending[admitted]] = choice[admitted]
        admissions.admitted(np.bincount(choice[admitted], minlength=n_prog))
        bbl_left -= np.bincount(programme_sector[choice[admitted]][is_bbl[choice[admitted]]], minlength=bbl_left.size)
        rejected = np.ones(pending.size, dtype=bool)
        rejected[admitted] = False
        rejected &= choice >= 0  # those with nothing available stop trying
        pending = pending[rejected]
    return result
