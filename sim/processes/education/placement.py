"""Base-year placement: the mbo students of the start year, by programme, age, home and study year.

Each programme's base enrolment is spread over ages (study year + delay, BBL students older) and
drawn from the persons of that age in each municipality by a gravity model of travel time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import UNSET, Route
from sim.sampling import systematic_round

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def gravity(origin: np.ndarray, weight: np.ndarray, demand: np.ndarray, cap: np.ndarray,
            iterations: int = 30) -> np.ndarray:
    """Spread each destination's ``demand`` over origins in proportion to origin size × weight,
    without any origin sending more than its ``cap`` (iterative proportional fitting).

    Returns a real matrix (origins × destinations); column sums equal ``demand`` unless the
    caps together cannot hold it.
    """
    attract = origin[:, None] * weight
    row_scale = np.ones(origin.size)
    x = np.zeros_like(attract)
    for _ in range(iterations):
        a = attract * row_scale[:, None]
        x = a / np.maximum(a.sum(0, keepdims=True), 1e-12) * demand[None, :]
        rows = x.sum(1)
        over = rows > cap + 1e-9
        if not over.any():
            break
        row_scale[over] *= cap[over] / rows[over]
    return x


def place_base_year_students(edu: Education) -> None:
    """Place the base-year mbo students: each programme's base enrolment, by age, drawn from the
    persons of that age in each municipality by a gravity model of travel time."""
    model, cfg, p = edu.model, edu.cfg, edu.programmes
    pop = model.pop
    rng = model.streams["init.students"]
    years = p.duration
    delay = np.asarray(cfg.initial_delay_shares, dtype=float)
    max_age = 16 + years.max() + len(delay) + cfg.bbl_extra_years
    ages = np.arange(16, max_age + 1)
    # expected students per programme, age and study year: the stock of a steady intake, study
    # year y holding base_intake × survival_y (students of study year y are 16 + y + delay years
    # old on 1 January; BBL students bbl_extra_years older)
    surv = p.survival(cfg)  # (P, study years)
    ring = edu.ring.initial_stock(surv)  # the students from the ring around the region (not residents)
    edu.judged.base_year(edu.ring.stock, ring)  # drawn around that expectation
    resident = 1.0 - np.divide(ring.sum(1), p.base_intake * surv.sum(1), out=np.zeros(p.n),
                               where=p.base_intake > 0)
    by_year = np.zeros((p.n, ages.size, years.max()))
    rows = np.arange(p.n)
    for y in range(years.max()):
        active = years > y
        for d, share in enumerate(delay):
            a = 16 + y + d + np.where(p.route == Route.BBL, cfg.bbl_extra_years, 0)
            by_year[rows[active], a[active] - 16, y] += (p.base_intake * resident * surv[:, y] * share)[active]
    demand = by_year.sum(2)
    year_cum = np.cumsum(by_year, axis=2) / np.maximum(demand[:, :, None], 1e-12)
    tt = edu.travel_hp
    w = np.exp(cfg.choice.travel_per_10_minutes * tt / 10.0)
    w[tt > model.cfg.model.travel.max_travel_minutes] *= 1e-3
    free = pop.status == UNSET
    for ai, a in enumerate(ages):
        pool = np.flatnonzero(free & (pop.age == a))
        if pool.size == 0:
            continue
        pool = pool[rng.permutation(pool.size)]
        by_m = np.bincount(pop.municipality[pool], minlength=model.n_municipalities)
        x = gravity(by_m, w, demand[:, ai], by_m * cfg.initial_max_enrolment_share)
        # whole students per (municipality, programme), each cell's expectation its real share and
        # the age's total kept (rounding each programme's column to the nearest whole number dropped
        # the small ones: 1.4 % of the base-year students at scale 1, 8 % at 0.25, 24 % at 0.1)
        x = systematic_round(rng, x)
        order = np.argsort(pop.municipality[pool], kind="stable")
        pool = pool[order]
        starts = np.searchsorted(pop.municipality[pool], np.arange(model.n_municipalities))
        for m in np.flatnonzero(x.sum(1) > 0):
            want = np.repeat(np.arange(p.n), x[m])
            take = min(want.size, int(by_m[m] * cfg.initial_max_enrolment_share))
            if take == 0:
                continue
            want = rng.permutation(want)[:take]
            who = pool[starts[m] : starts[m] + take]
            edu.enrol(who, want)
            stud_year = (rng.random(take)[:, None] >= year_cum[want, ai]).sum(1)
            stud_year = np.minimum(stud_year, years[want] - 1)
            pop.study_year[who] = stud_year
            pop.months_in_state[who] = 4 + 12 * stud_year  # enrolled last September (or earlier)
        free[pool] = pop.status[pool] == UNSET
