"""Provision: which programmes are open, who can reach them, and the yearly review that closes
opleidingen whose intake is too low.

Coverage is the share of this year's school leavers with an open programme of a sector (any
level, and each level) within ``max_travel_minutes`` (and at the other thresholds of
``model.travel.coverage_minutes``), by the students' travel mode. Each April every institution
reviews its opleidingen (programme without route): one whose mean intake over the last ``viability_years``
September intakes is under the viability threshold closes — unless a lever's closure handler
(:mod:`sim.hooks`) takes the closure over. A closed programme takes no new students; those
enrolled finish (teach-out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, Route, Status

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def youth_by_municipality(edu: Education) -> np.ndarray:
    """This year's secondary-school leavers per municipality (those who turn vo_leave_age)."""
    pop = edu.model.pop
    leavers = pop.age == edu.cfg.vo_leave_age - 1
    return pop.count("municipality", edu.model.n_municipalities, where=leavers).astype(float)


def coverage_minutes(travel) -> np.ndarray:
    """The thresholds (minutes) at which coverage is reported: ``model.travel.coverage_minutes``
    and ``max_travel_minutes`` (the rule's "within reach"), sorted, each once."""
    return np.unique(np.asarray([*travel.coverage_minutes, travel.max_travel_minutes], dtype=float))


def nearest_minutes(edu: Education, open_: np.ndarray) -> np.ndarray:
    """Minutes from each municipality to the nearest ``open_`` programme (= opleiding: a site's
    BOL and BBL are at one place) per sector and level, by the students' travel mode
    (``model.travel.mode``): municipalities × sectors × 5, column 0 any level, 1–4 that level;
    sites inside and outside the region both count; inf where none is open.

    Vectorised: programmes are sorted by (sector, level) once and the minimum over each group is
    one ``np.minimum.reduceat`` over the (municipality × programme) travel matrix."""
    p = edu.programmes
    n_m = edu.travel_hp.shape[0]
    key = p.sector.astype(np.int64) * 4 + (p.level.astype(np.int64) - 1)
    order = np.argsort(key, kind="stable")
    groups, starts = np.unique(key[order], return_index=True)
    tt = np.where(open_[order][None, :], edu.travel_hp[:, order], np.inf)
    by_level = np.full((n_m, N_SECTORS * 4), np.inf)
    if groups.size:
        by_level[:, groups] = np.minimum.reduceat(tt, starts, axis=1)
    by_level = by_level.reshape(n_m, N_SECTORS, 4)
    out = np.empty((n_m, N_SECTORS, 5))
    out[:, :, 1:] = by_level
    out[:, :, 0] = by_level.min(axis=2)
    return out


def coverage_shares(nearest: np.ndarray, youth: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Share of the school leavers ``youth`` (per municipality) whose municipality has an open
    programme within each of ``minutes`` (from :func:`nearest_minutes`): thresholds × sectors × 5."""
    total = max(float(youth.sum()), 1e-12)
    within = nearest[None, ...] <= np.asarray(minutes, dtype=float)[:, None, None, None]  # (T, M, S, 5)
    return np.tensordot(youth, within, axes=([0], [1])) / total


def measure_coverage(edu: Education, open_: np.ndarray, youth: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Share of this year's school leavers with an open programme of each sector (any level, and
    each level) within max_travel_minutes by the students' travel mode (sectors × 5, column 0 =
    any level); and minutes to the nearest open programme per municipality, sector and level
    (municipalities × sectors × 5, inf where there is none)."""
    youth = youth_by_municipality(edu) if youth is None else youth
    nearest = nearest_minutes(edu, open_)
    limit = edu.model.cfg.model.travel.max_travel_minutes
    return coverage_shares(nearest, youth, np.array([limit]))[0], nearest


def record_coverage(edu: Education, y: int) -> None:
    """Record school year ``y``'s coverage after the September intake: ``share_within_reach``
    (at ``max_travel_minutes``), ``minutes_to_nearest`` and ``share_within`` (at each of
    :func:`coverage_minutes`)."""
    youth = youth_by_municipality(edu)
    edu.coverage[y], edu.nearest_minutes[y] = measure_coverage(edu, edu.programmes.open, youth)
    edu.share_within[y] = coverage_shares(edu.nearest_minutes[y], youth, coverage_minutes(edu.model.cfg.model.travel))


def nearest_open_programme(edu: Education, persons: np.ndarray, sector: np.ndarray, level: np.ndarray | int = 2,
                           route: int = Route.BOL, exact_level: bool = False, adults: bool = False) -> np.ndarray:
    """The nearest open programme of ``sector`` per person, at ``level`` or above (or exactly at
    it), on ``route``; -1 where there is none. Used for doorstroom and (``adults``: by the adults'
    travel mode) LLO."""
    if persons.size == 0:
        return np.empty(0, dtype=np.int64)
    home = edu.model.pop.municipality[persons].astype(np.int64)
    level = np.broadcast_to(np.asarray(level, dtype=np.int64), persons.shape)
    # persons with the same home, sector and level share the answer (sector -1: none)
    key = (home * (N_SECTORS + 1) + np.asarray(sector, dtype=np.int64) + 1) * 8 + level
    table = _nearest_table(edu, route, exact_level, adults)
    missing = np.unique(key[table[key] == _UNKNOWN])
    if missing.size:
        table[missing] = _nearest_for_keys(edu, missing, route, exact_level, adults)
    return table[key]


_UNKNOWN = -2  # an answer of the table not computed yet


def _nearest_table(edu: Education, route: int, exact_level: bool, adults: bool) -> np.ndarray:
    """The answers of :func:`nearest_open_programme` found so far, per (home, sector, level) key,
    for this route, level rule and travel mode; emptied whenever the set of open programmes changes
    (a review, a lever), so an answer never outlives the programmes it was found among."""
    p = edu.programmes
    state = p.open.tobytes()
    cache = edu.nearest_cache
    if cache.get("open") != state:
        cache.clear()
        cache["open"] = state
    size = edu.model.n_municipalities * (N_SECTORS + 1) * 8
    return cache.setdefault((route, exact_level, adults), np.full(size, _UNKNOWN, dtype=np.int64))


def _nearest_for_keys(edu: Education, keys: np.ndarray, route: int, exact_level: bool, adults: bool) -> np.ndarray:
    """The nearest open programme for each (home, sector, level) key, then the lowest fitting level."""
    p = edu.programmes
    rest, level = np.divmod(keys, 8)
    home, sector = np.divmod(rest, N_SECTORS + 1)
    sector = sector - 1
    tt = (edu.travel_adult_hp if adults else edu.travel_hp)[home]
    lvl_ok = (p.level[None, :] == level[:, None]) if exact_level else (p.level[None, :] >= level[:, None])
    ok = (p.open & (p.route == route))[None, :] & lvl_ok & (p.sector[None, :] == sector[:, None])
    score = np.where(ok, tt + p.level[None, :], np.inf)
    best = np.argmin(score, axis=1)
    return np.where(np.isfinite(score[np.arange(keys.size), best]), best, -1)


def viability_threshold(edu: Education) -> np.ndarray:
    """Minimum intake per sector (real persons) below which an opleiding is weak."""
    return float(edu.cfg.viability_min_intake) * edu.model.hooks.education.viability_factor


def judged_intake(edu: Education, years: range) -> np.ndarray:
    """The September intakes of ``years`` per opleiding as the review judges them (real persons,
    years × units): the expected intake E plus the drawn deviation X − E shrunk by √scale,
    (E + √s·(X − E)) / s. At scale 1 this is the intake itself. At a reduced scale s a model
    person stands for 1/s real ones, so the model's intakes scatter around E with 1/s times the
    variance of real intakes, and a rule on small counts ("below the minimum in each of k years")
    would close more or fewer opleidingen near the threshold by chance alone; the shrinkage gives
    the judged intake the scatter of a real one at every scale. (E is what the real region would
    admit in expectation: each round's places are matched to it, ``allocation.matched_places``.)"""
    progs, s = edu.programmes, edu.model.cfg.scale
    n_units = progs.unit.max() + 1
    x = np.stack([np.bincount(progs.unit, weights=edu.intake[t], minlength=n_units) for t in years])
    e = np.stack([np.bincount(progs.unit, weights=edu.expected_intake[t], minlength=n_units) for t in years])
    return np.maximum(e + np.sqrt(s) * (x - e), 0.0) / s


class JudgedEnrolment:
    """The students of each programme as the review's money test judges them (model scale): the
    drawn enrolment plus, per cohort (study year), its deviation from expectation scaled from
    1 to √s, as :func:`judged_intake` does for the intake. A cohort's deviation D starts in
    September at (√s − 1)(X − E) of its intake, and each July, when a share q = 1 − dropout rate
    stays, becomes q·D + (√s − 1)(stayers − q·count); it leaves with the cohort (graduation).
    At scale 1 D stays 0 and nothing is computed. Without it the contribution (funding − cost)
    of a small opleiding scattered with 1/s times the variance of a real one, and at a reduced
    scale opleidingen that pay for themselves were, by chance, judged loss-makers and closed
    (ODD §7.15)."""

    def __init__(self, edu: Education) -> None:
        self.edu = edu
        self.shrink = float(np.sqrt(edu.model.cfg.scale)) - 1.0
        p = edu.programmes
        self.width = int(p.duration.max())
        self.deviation = np.zeros((p.n, self.width))  # programme × study year

    @property
    def active(self) -> bool:
        return self.shrink != 0.0

    def cohorts(self) -> np.ndarray:
        """Students per programme and study year (residents and ring), model scale."""
        edu = self.edu
        pop, n = edu.model.pop, edu.programmes.n
        students = np.flatnonzero((pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL))
        key = pop.programme[students].astype(np.int64) * self.width + pop.study_year[students]
        return np.bincount(key, minlength=n * self.width).reshape(n, self.width) + edu.ring.stock

    @contextmanager
    def around(self, update: Callable[[np.ndarray, np.ndarray], None]) -> Iterator[None]:
        """Run the enclosed step (July's progression, a merger) and then ``update(before, after)``
        with the :meth:`cohorts` around it; nothing is counted at scale 1."""
        before = self.cohorts() if self.active else None
        yield
        if before is not None:
            update(before, self.cohorts())

    def base_year(self, drawn: np.ndarray, expected: np.ndarray) -> None:
        """Base-year students drawn around an expectation (the ring's, programme × study year)."""
        if self.active:
            width = expected.shape[1]
            self.deviation[:, :width] = self.shrink * (drawn[:, :width] - expected)

    def september(self, intake: np.ndarray, expected: np.ndarray) -> None:
        """The new cohorts' deviations (study year 0)."""
        if self.active:
            self.deviation[:, 0] = self.shrink * (intake - expected)

    def july(self, before: np.ndarray, after: np.ndarray) -> None:
        """A study year up: ``before`` and ``after`` are :meth:`cohorts` around July's progression."""
        p, cfg = self.edu.programmes, self.edu.cfg
        q = (1.0 - np.asarray(cfg.dropout_rate, dtype=float)[p.level - 1])[:, None]
        moved = np.zeros_like(self.deviation)
        moved[:, 1:] = q * self.deviation[:, :-1] + self.shrink * (after[:, 1:] - q * before[:, :-1])
        moved[np.arange(self.width)[None, :] >= p.duration[:, None]] = 0.0  # graduated
        self.deviation = moved

    def move(self, source: int, target: int, before: np.ndarray, after: np.ndarray) -> None:
        """A merger moved students of ``source`` to ``target`` (:meth:`cohorts` before and after):
        each study year's deviation moves with its share of the students."""
        share = np.divide(before[source] - after[source], before[source], out=np.zeros(self.width),
                          where=before[source] > 0)
        width = int(self.edu.programmes.duration[target])
        self.deviation[target, :width] += (share * self.deviation[source])[:width]
        self.deviation[source] *= 1.0 - share

    def enrolled(self, enrolled: np.ndarray) -> np.ndarray:
        """The judged students per programme (model scale, ≥ 0) for the drawn ``enrolled``."""
        return np.maximum(enrolled + self.deviation.sum(1), 0.0) if self.active else enrolled


def weak_opleidingen(edu: Education) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open opleidingen whose mean intake over the last ``viability_years`` September intakes, as
    judged by :func:`judged_intake`, is under the viability threshold (the minimum group size,
    real persons; decided as for whole persons, :func:`review_cut`); returns their unit indices,
    their mean intake over those years and the threshold per unit."""
    model, progs = edu.model, edu.programmes
    k, y = edu.cfg.viability_years, model.year_index
    n_units = progs.unit.max() + 1
    last = judged_intake(edu, range(y - k, y))  # the last k September intakes
    unit_sector = np.zeros(n_units, dtype=np.int64)
    unit_sector[progs.unit] = progs.sector
    threshold = viability_threshold(edu)[unit_sector]
    # open opleidingen in the region (a site outside it is kept by its own region's students)
    unit_open = np.bincount(progs.unit, weights=progs.open & progs.in_region, minlength=n_units) > 0
    weak = np.flatnonzero(unit_open & (last.mean(0) < review_cut(threshold, k)))
    return weak, last.mean(0)[weak], threshold[weak]


def review_cut(threshold: np.ndarray | float, k: int) -> np.ndarray | float:
    """What the mean judged intake over ``k`` years is compared with: (⌈k·θ⌉ − ½) / k.

    At scale 1 intakes are whole persons, so "mean below θ" is "sum at most ⌈k·θ⌉ − 1"; the cut
    halfway to the first passing sum takes the same decisions. At a reduced scale the judged intake
    varies continuously (E + √s·(X − E) on a lattice shifted by E), and comparing it with θ itself
    would call weak what at scale 1 is a passing sum of exactly ⌈k·θ⌉ persons: half a person a
    year more closures (ODD §7.15, the continuity correction)."""
    return (np.ceil(np.asarray(threshold) * k - 1e-9) - 0.5) / k


def coordinate(edu: Education, weak: np.ndarray, mean_intake: np.ndarray) -> np.ndarray:
    """Coordination in the region: of weak opleidingen of the same qualification at different
    institutions, only the weakest (lowest mean intake; then the later in the table) stops this
    year; the others get another year, and may take its students. Returns a mask over ``weak``."""
    progs = edu.programmes
    first = np.zeros(progs.unit.max() + 1, dtype=np.int64)
    first[progs.unit[::-1]] = np.arange(progs.n)[::-1]  # a programme of each unit
    crebo, inst = progs.crebo[first[weak]], progs.institution[first[weak]]
    stops = np.ones(weak.size, dtype=bool)
    for c in np.unique(crebo):
        same = np.flatnonzero(crebo == c)
        if np.unique(inst[same]).size < 2:
            continue
        weakest = same[np.lexsort((-same, mean_intake[same]))[0]]
        stops[same] = False
        stops[weakest] = True
    return stops


def review(edu: Education) -> None:
    """April: the region's weak opleidingen; coordination between institutions; each institution
    decides, with its reserve, which it carries another year; a lever's closure handler may take a
    closure over; the rest close. A closed programme takes no new students; those enrolled finish
    (teach-out)."""
    from sim.agents.organisations import MboInstitution

    model, progs = edu.model, edu.programmes
    k = edu.cfg.viability_years
    if edu.intakes_recorded < k:
        return
    weak, mean_intake, threshold = weak_opleidingen(edu)
    if weak.size == 0:
        return
    stops = coordinate(edu, weak, mean_intake) if model.cfg.model.institutions.coordination else \
        np.ones(weak.size, dtype=bool)
    y = model.year_index - 1  # the school year whose accounts are known (last September)
    contribution = np.bincount(progs.unit, weights=edu.programme_contribution_eur[y], minlength=progs.unit.max() + 1)
    unit_inst = np.zeros(progs.unit.max() + 1, dtype=np.int64)
    unit_inst[progs.unit] = progs.institution
    for inst in model.agents_by_type[MboInstitution]:
        mine = np.flatnonzero(stops & (unit_inst[weak] == inst.index))
        if mine.size == 0:
            continue
        carried = inst.carry(weak[mine], contribution[weak[mine]], y)
        for i, unit in zip(mine, weak[mine], strict=True):
            members = np.flatnonzero((progs.unit == unit) & progs.open)
            reason = f"mean intake below {threshold[i]:g} over {k} years"
            if unit in carried:
                for p in members:
                    edu.log_event(p, "carried", f"{reason}; carried by {inst.name}'s reserve "
                                                f"(loss EUR {-contribution[unit]:,.0f} a year)")
                continue
            _close(edu, members, reason)


def _close(edu: Education, members: np.ndarray, reason: str) -> None:
    """Close an opleiding unless a closure handler takes the closure over."""
    for handler in edu.model.hooks.closure_handlers:
        taken = handler.decide(members)
        if taken is not None:
            event, note = taken
            for p in members:
                edu.log_event(p, event, f"{reason}; {note}")
            return
    edu.programmes.open[members] = False
    for p in members:
        edu.log_event(p, "closed", reason)
