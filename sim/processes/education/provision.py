"""Provision: which programmes are open, who can reach them, and the yearly review that closes
opleidingen whose intake stayed too low.

Coverage is the share of this year's school leavers with an open programme of a sector (any
level, and each level) within ``max_travel_minutes``. Each April every institution reviews its
opleidingen (programme without route): one whose intake stayed under the viability threshold in
each of the last ``viability_years`` September intakes closes — unless a lever's closure handler
(:mod:`sim.hooks`) takes the closure over. A closed programme takes no new students; those
enrolled finish (teach-out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, Route

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def youth_by_municipality(edu: Education) -> np.ndarray:
    """This year's secondary-school leavers per municipality (those who turn vo_leave_age)."""
    pop = edu.model.pop
    leavers = pop.age == edu.cfg.vo_leave_age - 1
    return pop.count("municipality", edu.model.n_municipalities, where=leavers).astype(float)


def measure_coverage(edu: Education, open_: np.ndarray, youth: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Share of this year's school leavers with an open programme of each sector (any level, and
    each level) within max_travel_minutes (sectors × 5, column 0 = any level); and minutes to the
    nearest open programme per municipality and sector (inf where there is none)."""
    p = edu.programmes
    youth = youth_by_municipality(edu) if youth is None else youth
    limit = edu.model.cfg.model.travel.max_travel_minutes
    tt = np.where(open_[None, :], edu.travel_hp, np.inf)  # (M, P)
    nearest = np.full((edu.model.n_municipalities, N_SECTORS), np.inf)
    np.minimum.at(nearest.T, p.sector, tt.T)  # per sector, min over its programmes
    share = np.zeros((N_SECTORS, 5))
    total = max(youth.sum(), 1e-12)
    share[:, 0] = (youth[:, None] * (nearest <= limit)).sum(0) / total
    for level in range(1, 5):
        sel = p.level == level
        near_l = np.full_like(nearest, np.inf)
        np.minimum.at(near_l.T, p.sector[sel], tt[:, sel].T)
        share[:, level] = (youth[:, None] * (near_l <= limit)).sum(0) / total
    return share, nearest


def nearest_open_programme(edu: Education, persons: np.ndarray, sector: np.ndarray, level: np.ndarray | int = 2,
                           route: int = Route.BOL, exact_level: bool = False) -> np.ndarray:
    """The nearest open programme of ``sector`` per person, at ``level`` or above (or exactly at
    it), on ``route``; -1 where there is none. Used for LLO, doorstroom and adult BBL."""
    if persons.size == 0:
        return np.empty(0, dtype=np.int64)
    p = edu.programmes
    level = np.broadcast_to(np.asarray(level), persons.shape)
    tt = edu.travel_hp[edu.model.pop.municipality[persons]]
    lvl_ok = (p.level[None, :] == level[:, None]) if exact_level else (p.level[None, :] >= level[:, None])
    ok = (p.open & (p.route == route))[None, :] & lvl_ok & (p.sector[None, :] == sector[:, None])
    score = np.where(ok, tt + p.level[None, :], np.inf)  # nearest, then the lowest fitting level
    best = np.argmin(score, axis=1)
    return np.where(np.isfinite(score[np.arange(persons.size), best]), best, -1)


def viability_threshold(edu: Education) -> np.ndarray:
    """Minimum intake per sector (real persons) below which an opleiding is weak."""
    return float(edu.cfg.viability_min_intake) * edu.model.hooks.education.viability_factor


def review(edu: Education, institution: int) -> None:
    """April: close the institution's opleidingen whose intake stayed under the viability
    threshold for ``viability_years`` intakes, unless a closure handler takes the closure over.

    Thresholds are in real persons (intake at model scale ÷ scale)."""
    model, progs = edu.model, edu.programmes
    k = edu.cfg.viability_years
    if edu.intakes_recorded < k:
        return
    y = model.year_index
    threshold = viability_threshold(edu)
    n_units = progs.unit.max() + 1
    last = np.stack([np.bincount(progs.unit, weights=edu.intake[t], minlength=n_units)
                     for t in range(y - k, y)]) / model.cfg.scale  # the last k September intakes
    unit_sector = np.zeros(n_units, dtype=np.int64)
    unit_sector[progs.unit] = progs.sector
    weak_unit = (last < threshold[unit_sector]).all(axis=0)
    idx = np.flatnonzero(progs.institution == institution)
    idx = idx[progs.open[idx] & weak_unit[progs.unit[idx]]]
    for unit in np.unique(progs.unit[idx]):
        members = idx[progs.unit[idx] == unit]
        reason = f"intake below {threshold[unit_sector[unit]]:g} for {k} years"
        for handler in model.hooks.closure_handlers:
            taken = handler.decide(members)
            if taken is not None:
                event, note = taken
                for p in members:
                    edu.log_event(p, event, f"{reason}; {note}")
                break
        else:
            progs.open[members] = False
            for p in members:
                edu.log_event(p, "closed", reason)
