"""Places: school leavers choose, over-subscribed programmes and BBL places bind, the rejected
choose again among what is left (a pure function of arrays and a chooser)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.codes import Route
from sim.sampling import first_within_capacity

Chooser = Callable[[np.ndarray, np.ndarray], np.ndarray]


def available(places: np.ndarray, bbl_places: np.ndarray, programme_route: np.ndarray,
              programme_sector: np.ndarray) -> np.ndarray:
    """Programmes that can take a new student: a place left and, for BBL, a BBL place in the sector."""
    return (places > 0) & ~((programme_route == Route.BBL) & (bbl_places[programme_sector] <= 0))


def allocate(rng: np.random.Generator, n_persons: int, places: np.ndarray, bbl_places: np.ndarray,
             programme_route: np.ndarray, programme_sector: np.ndarray, choose: Chooser,
             rounds: int = 6) -> np.ndarray:
    """Programme per person (−1: no place), in up to ``rounds`` rounds.

    ``places``: new students each programme can still take; ``bbl_places``: BBL places per
    sector (a BBL student needs one); ``choose(persons, available)`` returns each person's
    choice among the available programmes (−1 if none). In each round the choosers are admitted
    in random order, first come within each programme's places and, for BBL, within the
    sector's BBL places; the rejected choose again. Those with nothing available stop.
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
        choice = choose(pending, avail)
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
