"""Institution accounts: funding by qualification and route, programme costs, coordination
overhead, the result and the reserve (EUR, real persons).

Funding of a programme = its students × ``funding_per_student_eur`` × the qualification's price
factor × the route weight (BBL counts ``bbl_funding_weight``). An institution receives it with
DUO's lag: calendar year t is funded on the students of 1 October t − ``funding_count_lag_years``
(2), so a school year, September to August, gets a third of its funding on the students of
two Septembers before and two thirds on those of the September before (:func:`received_funding`);
the April review still judges each programme on its own students now. Costs = a fixed cost per
open or teaching-out opleiding (shared by its routes) plus a cost per student; the institution adds its
coordination overhead (institutions with a site in the region: an outside site's institution
counts only this region's students, without fixed costs or overhead), and other costs per
student (housing, support, management) set once, in the base year, so that its result is
``base_result_share`` of its funding (institutions about break even; never below 0: an
institution whose programmes do not pay starts in deficit). Its result goes into its reserve,
which starts at ``reserve_initial_share`` × its first year's costs and decides how long it can
carry weak opleidingen (:mod:`.provision`). As students decline, the funding follows a year or two
later and the fixed cost of each open opleiding stays: small opleidingen turn the result negative.
The costs per student follow the students down only as fast as staff leave and buildings can be
given up (:class:`UnshedCosts`): what the institution cannot shed yet is its *unshed* cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import MONTHS_PER_YEAR, SEPTEMBER
from sim.codes import N_SECTORS, Route

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def programme_funding(edu: Education, enrolled: np.ndarray) -> np.ndarray:
    """Yearly funding of each programme (EUR) for ``enrolled`` students (model scale)."""
    p, icfg = edu.programmes, edu.model.cfg.model.institutions
    route_weight = np.where(p.route == Route.BBL, icfg.bbl_funding_weight, 1.0)
    return enrolled / edu.model.cfg.scale * edu.cfg.funding_per_student_eur * p.price_factor * route_weight


# the share of a school year (September to August) in its first calendar year
SCHOOL_YEAR_SHARE_IN_FIRST_CALENDAR_YEAR = (MONTHS_PER_YEAR - SEPTEMBER) / MONTHS_PER_YEAR


def received_funding(edu: Education, y: int) -> np.ndarray:
    """What each programme brings its institution in school year ``y`` (EUR): the funding of its
    students of the Octobers that DUO counts for the two calendar years the school year spans.

    With lag L (``funding_count_lag_years``), calendar year t is funded on the students of
    October t − L; school year y (September y to August y + 1) spans four months of calendar year
    y and eight of y + 1, so it receives ⅓ F[y − L] + ⅔ F[y + 1 − L], F being the funding on a
    school year's students (``programme_funding_eur``). School years before the base year count
    as the base year (the base-year students stand in for the two Octobers before it). L = 0
    funds a school year on its own students."""
    lag = edu.model.cfg.model.institutions.funding_count_lag_years
    f = edu.programme_funding_eur
    if lag == 0:
        return f[y]
    first = SCHOOL_YEAR_SHARE_IN_FIRST_CALENDAR_YEAR
    return first * f[max(y - lag, 0)] + (1 - first) * f[max(y + 1 - lag, 0)]


def student_costs(edu: Education, enrolled: np.ndarray) -> np.ndarray:
    """Yearly teaching cost of each programme's students (EUR): the cost per student × the real
    persons of ``enrolled`` (at model scale)."""
    hooks = edu.model.hooks.education
    return enrolled / edu.model.cfg.scale * edu.cfg.cost_per_student_eur * hooks.student_cost_factor


def programme_costs(edu: Education, enrolled: np.ndarray, running: np.ndarray) -> np.ndarray:
    """Yearly cost of each programme (EUR): its share of its opleiding's fixed cost while
    ``running`` (open or teaching out), plus its students' (:func:`student_costs`)."""
    cfg, p, hooks = edu.cfg, edu.programmes, edu.model.hooks.education
    routes_running = np.bincount(p.unit, weights=running, minlength=p.unit.max() + 1)[p.unit]
    fixed_share = np.divide(running, routes_running, out=np.zeros(p.n), where=routes_running > 0)
    return fixed_share * cfg.programme_fixed_cost_eur * hooks.fixed_cost_factor + student_costs(edu, enrolled)


def account(edu: Education, y: int) -> None:
    """The school year's funding, costs and result per institution; the result goes to the reserve.

    The accounts are kept on the students as judged (:class:`~.provision.JudgedEnrolment`): the
    drawn ones at scale 1; at a reduced scale the same in expectation, with a real region's
    scatter, so that neither the April review of a small opleiding nor an institution's reserve
    (the sum of its yearly results) scatters more because a model person stands for 1/s real ones."""
    p, cfg, scale = edu.programmes, edu.cfg, edu.model.cfg.scale
    enrolled = edu.enrolled[y]
    judged = edu.judged.enrolled(enrolled)
    n_inst = len(edu.institution_names)
    running = (p.open | (enrolled > 0)) & p.in_region  # outside sites: the region's students only, no fixed cost
    edu.programme_funding_eur[y] = programme_funding(edu, judged)  # the review judges funding − cost
    edu.programme_cost_eur[y] = programme_costs(edu, judged, running)
    icfg = edu.model.cfg.model.institutions
    # the coordination overhead of an institution with a site in the region; the outside sites'
    # institutions count only this region's students and, like their fixed costs, their overhead
    # is their own region's
    overhead = cfg.institution_overhead_eur * edu.model.hooks.education.overhead_factor * edu.institution_in_region

    def per_institution(x: np.ndarray) -> np.ndarray:
        return np.bincount(p.institution, weights=x, minlength=n_inst)

    edu.funding_eur[y] = per_institution(received_funding(edu, y))  # with DUO's lag
    real = judged / scale  # real persons per programme, as judged
    students = per_institution(real)
    revenue = edu.model.training.institution_revenue_eur[y]  # as judged (TrainingPurchases)
    cost = per_institution(edu.programme_cost_eur[y]) + overhead
    if edu.other_cost_per_student is None:
        # the base year: each institution's result is base_result_share of its funding (never
        # below 0: an institution whose programmes do not pay starts in deficit), on the students
        # as judged, so that at a reduced scale the chance of the first September's draw stays in
        # its costs and reserve no more than at scale 1. (On the data's base-year students
        # instead, the Achterhoek's institutions, whose model enrolment is 3 % below the data's,
        # started in deficit: ODD §7.17.)
        # The municipalities' revenue counts by its expectation: one year's draw would stay in
        # the costs, and its chance would add to the reserve every year.
        target = icfg.base_result_share * edu.funding_eur[y]
        expected = edu.model.training.expected_revenue_eur[y]
        edu.other_cost_per_student = np.maximum(np.divide(edu.funding_eur[y] + expected - cost - target, students,
                                                          out=np.zeros(n_inst), where=students > 0), 0.0)
    other = real * edu.other_cost_per_student[p.institution]
    edu.unshed_cost_eur[y] = edu.unshed.year(student_costs(edu, judged), other)
    edu.cost_eur[y] = cost + edu.other_cost_per_student * students + edu.unshed_cost_eur[y]
    if edu.reserve_eur is None:
        edu.reserve_eur = icfg.reserve_initial_share * edu.cost_eur[y].copy()
    edu.reserve_eur += edu.funding_eur[y] + revenue - edu.cost_eur[y]
    edu.reserve_at_intake[y] = edu.reserve_eur


class UnshedCosts:
    """The costs per student (teaching, and the other costs: housing, support, management) that an
    institution cannot shed yet as its students decline.

    What its students need is the costs per student × the students, per programme. Of it, a share
    ``staff_cost_share`` is staff, who can fall at most ``teacher_exit_rate`` a year: those who
    leave are not replaced, nobody is dismissed. The staff of the teaching costs are kept per
    institution and sector (a sector's vocational teachers do not teach another's students); the
    staff of the other costs (support, management) per institution. A share ``housing_cost_share``
    is housing, kept per institution, and can fall at most ``housing_cost_fall_per_year`` a year
    (buildings are given up as they are written off); the rest (materials) follows at once. All of
    it rises with the students at once. The unshed cost is the kept level above the need; it is 0
    in the base year and while students grow."""

    def __init__(self, edu: Education) -> None:
        self.cfg = edu.model.cfg.model.institutions
        p = edu.programmes
        self._n_inst = len(edu.institution_names)
        self._institution = p.institution
        self._group = p.institution * N_SECTORS + p.sector  # teaching staff: per institution and sector
        # per institution: its sectors' teaching staff, then (last column) its support and management
        self.staff: np.ndarray | None = None  # EUR a year, from the first account
        self.housing: np.ndarray | None = None  # per institution (EUR a year)

    def year(self, teaching: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Advance one school year with each programme's teaching and other costs per student × its
        students (EUR); return each institution's unshed cost (EUR)."""
        cfg, n_inst = self.cfg, self._n_inst
        need = np.empty((n_inst, N_SECTORS + 1))
        need[:, :N_SECTORS] = np.bincount(self._group, weights=teaching,
                                          minlength=n_inst * N_SECTORS).reshape(n_inst, N_SECTORS)
        need[:, N_SECTORS] = np.bincount(self._institution, weights=other, minlength=n_inst)
        staff_need = cfg.staff_cost_share * need
        housing_need = cfg.housing_cost_share * need.sum(axis=1)
        if self.staff is None:
            self.staff, self.housing = staff_need, housing_need
        else:
            self.staff = np.maximum(staff_need, (1 - cfg.teacher_exit_rate) * self.staff)
            self.housing = np.maximum(housing_need, (1 - cfg.housing_cost_fall_per_year) * self.housing)
        return (self.staff - staff_need).sum(axis=1) + self.housing - housing_need


def carry_budget(edu: Education, institution: int, y: int) -> float:
    """What the institution can spend this year on carrying weak, loss-making opleidingen: a share
    of its reserve above the floor (EUR)."""
    icfg = edu.model.cfg.model.institutions
    reserve = 0.0 if edu.reserve_eur is None else float(edu.reserve_eur[institution])
    floor = icfg.reserve_floor_share * float(edu.cost_eur[y, institution])
    return icfg.carry_share * max(reserve - floor, 0.0)
