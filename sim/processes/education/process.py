"""The education process: state, measures and the yearly events, wired from the modules of this package."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, SECTORS, Route, Status
from sim.config import ConfigError
from sim.geography import travel_matrix
from sim.processes.education import choice, finance, placement, progression, provision
from sim.processes.education.allocation import Admissions, allocate, available, first_round
from sim.processes.education.inflow import RingInflow, aptitude_shares
from sim.processes.education.programmes import build_programmes, set_outside_targets
from sim.processes.education.teachers import TeacherPool

if TYPE_CHECKING:
    from sim.model import RegionModel


class Education:
    """mbo education: the programmes, September intake, July progression, April reviews.

    Levers act only through ``model.hooks.education`` (:mod:`sim.hooks`)."""

    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.education
        self.programmes, self.institution_names = build_programmes(
            model.data, self.cfg, model.cfg.scale * model.demography.students_factor())
        p = self.programmes
        r = model.results
        r.add_dim("programme", p.n, p.labels(self.institution_names))
        r.add_dim("institution", len(self.institution_names),
                  {"institution": np.asarray(self.institution_names, dtype=object),
                   "in_region": self.institution_in_region})
        # (municipality, programme) minutes from home to the programme's site: school leavers and
        # students by model.travel.mode, adults (BBL, LLO) by model.travel.adult_mode
        travel, homes, sites = model.cfg.model.travel, model.data.municipality_names, list(p.site)
        table, coords = model.data.travel, model.data.site_coordinates
        self.travel_hp = travel_matrix(table, coords, homes, sites, travel.mode, travel)
        self.travel_adult_hp = travel_matrix(table, coords, homes, sites, travel.adult_mode, travel)
        self.nearest_cache: dict = {}  # nearest_open_programme's answers while the open programmes stay the same
        # the region's students at sites outside it: the sourced outflow share (data/study_flows.csv)
        youth = model.data.population_bands[:, 3].astype(float)  # 15-19-year-olds per municipality
        set_outside_targets(p, model.data.flows.get("outflow_share", 0.0), youth, self.travel_hp,
                            self.cfg.choice.travel_per_10_minutes, travel.choice_set_minutes, self.cfg)
        self.sector_onehot = np.zeros((p.n, N_SECTORS))
        self.sector_onehot[np.arange(p.n), p.sector] = 1.0
        # programme constants: λ·ln(base intake share), so that within a sector's nest (where utility
        # is divided by λ) shares are proportional to base intake, plus the fitted correction of each
        # programme (model.education.programme_constants, from the calibration) that makes the
        # expected base-year intake of every programme equal its target
        self.asc = choice.intake_constants(p.base_intake, self.cfg.choice.nest_scale) \
            + self.fitted("programme_constants")
        self.adult_weight = p.base_intake * np.exp(self.fitted("adult_constants"))
        self.base_image = np.array([self.cfg.sector_image[s] for s in SECTORS], dtype=float)
        self.base_employership = np.array([self.cfg.sector_employership[s] for s in SECTORS], dtype=float)
        self.sector_constant = np.array([self.cfg.sector_constant[s] for s in SECTORS], dtype=float)
        self.rng_choice = model.streams["education.choice"]
        self.rng_progress = model.streams["education.progression"]
        # one uniform per school year and programme to round capacities to whole places (places())
        self.place_rounding = model.streams["education.places"].random((model.n_years + 1, p.n))
        self.rng_admission = model.streams["education.admission"]  # places a round (below scale 1 only)
        # per-school-year measures (model scale), filled in place
        sp, si = ("school_year", "programme"), ("school_year", "institution")
        self.open_at_intake = r.declare("education", "open", sp, "bool", dtype=bool,
                                        doc="programme open at the September intake")
        self.intake = r.declare("education", "intake", sp, "persons", doc="new students in September")
        self.expected_intake = r.declare(
            "education", "expected_intake", sp, "persons", dtype=float,
            doc="the intake's expectation given each round's choosers (doorstroom, school leavers, ring, adults), "
                "each admitted within the places left (the April review judges the intake's deviation from it)")
        self.enrolled = r.declare("education", "enrolled", sp, "persons", doc="students right after the intake")
        self.graduates = r.declare("education", "graduates", sp, "persons", doc="graduates in the July ending it")
        self.dropouts = r.declare("education", "dropouts", sp, "persons", doc="dropouts in the July ending it")
        self.funding_eur = r.declare("education", "funding_eur", si, "eur", dtype=float,
                                     doc="funding received in the school year, on DUO's count of the students of "
                                         "two Septembers (⅓) and one September (⅔) before (finance.received_funding)")
        self.cost_eur = r.declare("education", "cost_eur", si, "eur", dtype=float)
        self.unshed_cost_eur = r.declare(
            "education", "unshed_cost_eur", si, "eur", dtype=float,
            doc="the part of cost_eur that the institution cannot shed yet as its students decline: staff who "
                "have not left yet, housing not yet given up (finance.UnshedCosts)")
        self.reserve_at_intake = r.declare("education", "reserve_eur", si, "eur", dtype=float,
                                           doc="the institution's reserve after the school year's result")
        self.teacher_ratio = r.declare("education", "teacher_ratio", ("school_year", "sector"), "share",
                                       dtype=float, doc="teachers ÷ need at the intake (places taught)")
        self.coverage = r.declare("education", "share_within_reach", ("school_year", "sector", "level"), "share",
                                  dtype=float, doc="school leavers with an open programme within reach")
        self.nearest_minutes = r.declare(
            "education", "minutes_to_nearest", ("school_year", "municipality", "sector", "level"), "minutes",
            dtype=float, inf_as_nan=True,
            doc="to the nearest open opleiding (in or outside the region) by model.travel.mode")
        reach = provision.coverage_minutes(model.cfg.model.travel)
        r.add_dim("reach_minutes", reach.size, {"minutes": reach})
        self.share_within = r.declare(
            "education", "share_within", ("school_year", "reach_minutes", "sector", "level"), "share", dtype=float,
            doc="school leavers with an open programme within the minutes (coverage_minutes, max_travel_minutes)")
        self.intake_travel_minutes = r.declare("education", "intake_travel_minutes", ("school_year",), "minutes",
                                               dtype=float)
        so = ("school_year", "municipality", "sector")
        self.leavers_enrolled_in_region = r.declare(
            "education", "enrolled_in_region", so, "persons",
            doc="school leavers (this September) who enrolled at a site in the region, by home and sector")
        self.leavers_enrolled_out_of_region = r.declare(
            "education", "enrolled_out_of_region", so, "persons",
            doc="school leavers who enrolled at a site outside the region, by home and sector")
        self.leavers_not_enrolled = r.declare(
            "education", "not_enrolled", so, "persons", dtype=float,
            doc="school leavers who did not enrol in mbo, by home, split over sectors by P(sector | mbo)")
        self.school_leavers = r.declare("education", "school_leavers", ("school_year",), "persons",
                                        doc="secondary-school leavers this September")
        self.mbo_entrants = r.declare("education", "mbo_entrants", ("school_year",), "persons",
                                      doc="school leavers who enrolled in mbo this September")
        self.participation = r.declare("education", "participation", ("school_year",), "share", dtype=float,
                                       doc="mbo_entrants ÷ school_leavers")
        self.events = r.declare_records("education", "events", ("month", "programme", "event", "reason"))
        # state
        n_years = model.n_years + 1
        self.continuing = r.declare("education", "doorstroom", ("school_year", "programme"), "persons",
                                    doc="students continuing from a lower level of the same field (decided in "
                                        "July, part of the September intake)")  # doorstroom to the next level
        self.expected_continuing = np.zeros((n_years, p.n))  # its expectation given the graduates, within the places
        self.programme_funding_eur = np.zeros((n_years, p.n))  # on each school year's students (as judged)
        self.programme_cost_eur = np.zeros((n_years, p.n))
        self.reserve_eur: np.ndarray | None = None  # per institution, from the first account
        self.other_cost_per_student: np.ndarray | None = None  # per institution, set in the base year
        self.teachers = TeacherPool(self)
        self.unshed = finance.UnshedCosts(self)
        self.ring = RingInflow(self)  # students from the municipalities around the region
        self.judged = provision.JudgedEnrolment(self)  # the students as the review's money test sees them
        self.intakes_recorded = 0  # school years with a simulated intake so far

    def fitted(self, key: str) -> np.ndarray:
        """A fitted per-programme constant (0 where none is given): the calibration's constants file,
        with the config's mapping of the same name on top."""
        fitted = getattr(self.cfg, key)
        if self.cfg.constants_file:
            from sim.io.constants import read_constants

            fitted = {**read_constants(self.cfg.constants_file, self.cfg.constants_sha256)[key], **fitted}
        ids = list(self.programmes.programme_id)
        unknown = sorted(set(fitted) - set(ids))
        if unknown:
            raise ConfigError(f"model.education.{key}: unknown programme id(s) {unknown[:3]}"
                              f"{' …' if len(unknown) > 3 else ''}; refit with `mbo-sim-calibrate --fit`")
        return np.array([fitted.get(pid, 0.0) for pid in ids], dtype=float)

    # --- what levers change --------------------------------------------------------------------
    @property
    def intake_cap(self) -> np.ndarray:
        """Teaching capacity: new students a programme can take a year (model scale, not rounded)."""
        h = self.model.hooks.education
        return self.programmes.capacity * h.capacity_factor + h.extra_capacity

    def places(self) -> np.ndarray:
        """New students each programme can take this school year, in real persons (whole places
        of the real region at every ``scale``; each round of the intake gives the model its share,
        :func:`~sim.processes.education.allocation.matched_places`): its teaching capacity
        rounded up to whole places, at most a numerus fixus, none when closed. The share of those
        places that the teachers can teach and a numerus fixus are rounded at random (up with
        probability equal to the fraction; one draw per programme and school year), so that they
        act on small programmes in expectation as on large ones."""
        p, scale = self.programmes, self.model.cfg.scale
        ratio = np.where(p.in_region, self.teachers.ratio[p.sector], 1.0)  # outside sites have their own teachers
        taught = np.ceil(self.intake_cap / scale) * ratio
        cap = np.minimum(taught, self.model.hooks.education.fixus_cap / scale)
        cap = np.floor(cap + self.place_rounding[self.model.year_index])
        return np.where(self.programmes.open, cap, 0).astype(np.int64)

    def most_admitted(self, places: np.ndarray) -> np.ndarray:
        """New students each programme may take at most (model scale): under a numerus fixus its
        ``places`` (real) rounded up to whole model persons, a cap even where the intake's places
        for a round (:func:`~sim.processes.education.allocation.matched_places`) would allow more;
        otherwise no limit."""
        capped = np.isfinite(self.model.hooks.education.fixus_cap)
        return np.where(capped, np.ceil(self.model.cfg.scale * places - 1e-9), np.iinfo(np.int64).max // 2
                        ).astype(np.int64)

    def sector_utility(self) -> np.ndarray:
        """The sector nest's own terms: constant, image, employership, job prospects."""
        ch, h = self.cfg.choice, self.model.hooks.education
        x = (self.sector_constant + ch.image * (self.base_image + h.sector_image)
             + ch.employership * (self.base_employership + h.sector_employership))
        weight = ch.prospects if h.prospects_weight is None else h.prospects_weight
        lab, pop = self.model.labour, self.model.pop
        v = lab.vacancies.sum(axis=(1, 2)).astype(float)
        u = pop.count("sector", N_SECTORS, where=lab.unemployed_looking())  # job seekers, not leavers still waiting
        return x + weight * choice.prospects(v, u)

    # --- placing students ---------------------------------------------------------------------
    def leaver_groups(self, persons: np.ndarray, available: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The school leavers ``persons`` grouped by (home, aptitude), on which their utilities
        depend: returns the group of each person, the groups' keys (home × 5 + aptitude), their
        programme utilities v and choice sets (groups × programmes)."""
        pop, p, ch = self.model.pop, self.programmes, self.cfg.choice
        key = pop.municipality[persons].astype(np.int64) * 5 + pop.aptitude[persons]
        keys, group = np.unique(key, return_inverse=True)
        tt = self.travel_hp[keys // 5]
        gap = np.abs(p.level[None, :] - (keys % 5)[:, None])
        v = choice.programme_utility(self.asc, tt, gap, p.route == Route.BBL, ch)
        ok = choice.choice_set(tt, available, self.model.cfg.model.travel.choice_set_minutes)
        return group.ravel(), keys, v, ok

    def choose(self, persons: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nested-logit programme choice of ``persons`` (mbo entrants) among ``available``
        programmes within their choice sets (−1: none), and the expected number of choosers of
        each programme.

        Utilities depend on a person only through home and aptitude, so the probabilities are
        computed once per (home, aptitude) group and each person draws from the group's row."""
        if persons.size == 0:
            return np.empty(0, dtype=np.int64), np.zeros(self.programmes.n)
        group, keys, v, ok = self.leaver_groups(persons, available)
        prob = choice.probabilities(v, ok, self.sector_onehot, self.sector_utility(), self.cfg.choice.nest_scale)
        return choice.sample(self.rng_choice, prob, group), np.bincount(group, minlength=keys.size) @ prob

    def decide_participation(self, leavers: np.ndarray, available: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which school leavers choose mbo (the top level of the nested logit, with the shift to
        havo/vwo: :meth:`p_mbo`), computed once per (home, aptitude) group with the programmes
        ``available`` at the start of the intake. Returns a boolean per leaver; per leaver the expected sector split
        P(sector | mbo) (leavers × sectors; for a leaver with an empty choice set the split over all
        available programmes, or over the base-year intake if none is available), which the
        ``choice_outcomes`` table uses for those who do not enrol; and the expected first choices
        per programme before the draw, Σ P(mbo)·P(programme | mbo) over the leavers."""
        ch = self.cfg.choice
        group, _, v, ok = self.leaver_groups(leavers, available)
        su = self.sector_utility()
        prob, iv = choice.nested(v, ok, self.sector_onehot, su, ch.nest_scale)
        p_mbo = self.p_mbo(iv)
        to_mbo = self.rng_choice.random(leavers.size) < p_mbo[group]
        first_choices = (np.bincount(group, minlength=p_mbo.size) * p_mbo) @ prob
        split = prob @ self.sector_onehot
        empty = ~ok.any(1)
        if empty.any():
            wide = np.broadcast_to(available[None, :], (int(empty.sum()), available.size))
            split[empty] = choice.probabilities(v[empty], wide, self.sector_onehot, su, ch.nest_scale) \
                @ self.sector_onehot
        none = split.sum(1) <= 0
        if none.any():
            base = np.bincount(self.programmes.sector, weights=self.programmes.base_intake, minlength=N_SECTORS)
            split[none] = base / max(base.sum(), 1e-300)
        return to_mbo, split[group], first_choices

    def p_mbo(self, iv_mbo: np.ndarray, c_mbo: float | None = None) -> np.ndarray:
        """School leavers' P(mbo) this year (the region's and the ring's): the nested logit's top
        level (:func:`choice.participation_from_iv`, c_mbo the model's unless given) times the shift
        from vmbo to havo/vwo, (1 − h)^(year − start year) with h = ``havo_shift_per_year`` (ODD
        §7.10). The factor is 1 in the base year, so the calibration is unchanged; the leavers it
        takes out of mbo go to other education, as those who choose not to enrol do."""
        c_mbo = self.cfg.participation_constant if c_mbo is None else c_mbo
        years = max(self.model.year - self.model.cfg.start_year, 0)
        return choice.participation_from_iv(iv_mbo, c_mbo, self.cfg.choice.participation_scale) \
            * (1.0 - self.cfg.havo_shift_per_year) ** years

    def enrol(self, persons: np.ndarray, programme: np.ndarray) -> None:
        pop, p = self.model.pop, self.programmes
        pop.programme[persons] = programme
        pop.study_year[persons] = 0
        pop.months_in_state[persons] = 0
        bbl = p.route[programme] == Route.BBL
        pop.status[persons] = np.where(bbl, Status.MBO_BBL, Status.MBO_BOL)
        b = persons[bbl]
        pop.sector[b] = p.sector[programme[bbl]]
        site = p.site_municipality[programme[bbl]]
        pop.work_municipality[b] = np.where(site >= 0, site, pop.municipality[b])

    def transfer_students(self, source: int, target: int) -> int:
        """Move the students of programme ``source`` to programme ``target`` (a merger), those whose
        home is within ``max_travel_minutes`` of the target; they keep their study year (and BBL
        students their job). Returns the number moved (model scale)."""
        pop = self.model.pop
        students = np.flatnonzero(((pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL))
                                  & (pop.programme == source))
        reach = self.travel_hp[pop.municipality[students], target] <= self.model.cfg.model.travel.max_travel_minutes
        with self.judged.around(functools.partial(self.judged.move, source, target)):
            pop.programme[students[reach]] = target
            return int(reach.sum()) + self.ring.move(source, target)

    def initialise_students(self) -> None:
        placement.place_base_year_students(self)

    def nearest_open_programme(self, persons: np.ndarray, sector: np.ndarray, level: np.ndarray | int = 2,
                               route: int = Route.BOL, exact_level: bool = False, adults: bool = False) -> np.ndarray:
        return provision.nearest_open_programme(self, persons, sector, level, route, exact_level, adults)

    def youth_by_municipality(self) -> np.ndarray:
        return provision.youth_by_municipality(self)

    def measure_coverage(self, open_: np.ndarray, youth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return provision.measure_coverage(self, open_, youth)

    def enrolment(self) -> np.ndarray:
        """Students per programme: residents, and students from the ring (:mod:`.inflow`)."""
        pop = self.model.pop
        students = (pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL)
        return pop.count("programme", self.programmes.n, where=students) + self.ring.enrolled()

    def log_event(self, programme: int, event: str, reason: str) -> None:
        """Record a programme event; its attributes are joined when the events table is written."""
        self.events.append({"month": self.model.month_index, "programme": int(programme), "event": event,
                            "reason": reason})

    # --- yearly -------------------------------------------------------------------------------
    def intake_september(self) -> None:
        """Secondary-school leavers choose whether to enrol in mbo and, if so, a programme (one
        nested logit, ODD §7.10); those who do not enrol go to other education."""
        model, pop, cfg, p = self.model, self.model.pop, self.cfg, self.programmes
        y = model.year_index
        # ages are on 1 January: those who turn vo_leave_age this calendar year leave now
        leavers = np.flatnonzero((pop.status == Status.SCHOOL) & (pop.age >= cfg.vo_leave_age - 1))
        scale = model.cfg.scale
        capacity = self.places()  # this school year's places, real persons (fixed during the intake)
        # the intake's places and expectation: doorstroom (admitted first, in July, within the
        # places), then each round of the school leavers, the ring and the adults
        admissions = Admissions(capacity, scale, self.rng_admission, self.most_admitted(capacity))
        admissions.earlier(self.expected_continuing[y], self.continuing[y])
        jobs = model.labour.jobs_now()
        bbl_places = model.labour.bbl_places(jobs)
        to_mbo, split, first_choices = self.decide_participation(
            leavers, available(admissions.left, bbl_places, p.route, p.sector))
        other = leavers[~to_mbo]
        pop.status[other] = Status.OTHER_EDUCATION
        pop.study_year[other] = 0
        pop.months_in_state[other] = 0
        cand = leavers[to_mbo]
        prog = allocate(self.rng_choice, cand.size, admissions, bbl_places, p.route, p.sector,
                        first_round(lambda pending, available: self.choose(cand[pending], available), first_choices))
        placed = prog >= 0
        if placed.any():
            self.intake_travel_minutes[y] = self.travel_hp[pop.municipality[cand[placed]], prog[placed]].mean()
        self._record_choice_outcomes(y, leavers, to_mbo, split, cand[placed], prog[placed])
        self.enrol(cand[placed], prog[placed])
        # the new BBL students (school leavers, who held no job) now hold their places' jobs
        new_bbl = cand[placed][p.route[prog[placed]] == Route.BBL]
        jobs += model.labour.cells(new_bbl)
        no_place = cand[~placed]  # no programme with a place: early school leavers, job seekers
        pop.status[no_place] = Status.UNEMPLOYED
        pop.months_in_state[no_place] = 0
        # students from the ring around the region, within the places left
        shares = aptitude_shares(pop.aptitude[leavers])
        ring_open = available(admissions.left, bbl_places, p.route, p.sector)
        ring_places = admissions.admit(self.ring.expected_entrants(
            ring_open, self.ring.school_leavers(model.year, cfg.vo_leave_age), shares, cfg.inflow_constant))
        ring = self.ring.september(y, model.year, ring_places, ring_open, shares)
        admissions.admitted(ring)
        adults = self._adult_bbl_entry(admissions, jobs)
        model.labour.head, model.labour.head_stale = jobs, False  # the count after the intake
        self.intake[y] = np.bincount(prog[placed], minlength=p.n) + ring + adults + self.continuing[y]
        self.expected_intake[y] = np.minimum(admissions.total, scale * capacity)
        self.open_at_intake[y] = p.open
        self.teacher_ratio[y] = self.teachers.ratio
        self.enrolled[y] = self.enrolment()
        self.judged.september(self.intake[y], self.expected_intake[y])
        self.intakes_recorded += 1
        provision.record_coverage(self, y)
        finance.account(self, y)

    def _record_choice_outcomes(self, y: int, leavers: np.ndarray, to_mbo: np.ndarray, split: np.ndarray,
                                entrants: np.ndarray, prog: np.ndarray) -> None:
        """School leavers by home and sector: enrolled in the region, enrolled outside it (a site
        with ``site_municipality < 0``), not enrolled (by the expected sector split of their group,
        P(sector | mbo)); and the participation (entrants ÷ leavers)."""
        pop, p = self.model.pop, self.programmes
        n_m = self.leavers_not_enrolled.shape[1]
        out = p.site_municipality[prog] < 0
        cell = pop.municipality[entrants].astype(np.int64) * N_SECTORS + p.sector[prog]
        size = n_m * N_SECTORS
        self.leavers_enrolled_in_region[y] = np.bincount(cell[~out], minlength=size).reshape(n_m, N_SECTORS)
        self.leavers_enrolled_out_of_region[y] = np.bincount(cell[out], minlength=size).reshape(n_m, N_SECTORS)
        stay_out = ~np.isin(leavers, entrants)
        home = pop.municipality[leavers[stay_out]].astype(np.int64)
        not_enrolled = np.zeros((n_m, N_SECTORS))
        np.add.at(not_enrolled, home, split[stay_out])
        self.leavers_not_enrolled[y] = not_enrolled
        self.school_leavers[y] = leavers.size
        self.mbo_entrants[y] = entrants.size
        self.participation[y] = entrants.size / leavers.size if leavers.size else 0.0

    def adult_bbl_candidates(self, jobs: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """Employed adults who may start a BBL programme this September, and the rate at which each
        does: ``adult_bbl_rate`` × their sector's BBL place response (cycle, supervision, recession).
        ``jobs``: the current jobs per (sector, work municipality), if the caller has them."""
        pop, cfg = self.model.pop, self.cfg
        lo, hi = cfg.adult_bbl_ages
        cand = np.flatnonzero((pop.status == Status.EMPLOYED) & (pop.age >= lo) & (pop.age <= hi)
                              & (pop.llo_months_left == 0))
        response = self.model.labour.bbl_place_response(jobs)
        return cand, cfg.adult_bbl_rate * response[pop.sector[cand]]

    def adult_bbl_groups(self, persons: np.ndarray, available: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Adults grouped by home, sector and the lowest level that raises their qualification
        (at least 2): returns the group of each person, the groups' keys and per group its row of
        programme probabilities (:meth:`adult_bbl_rows`)."""
        keys, group = np.unique(self.adult_bbl_key(persons), return_inverse=True)
        return group.ravel(), keys, self.adult_bbl_rows(keys, available)

    def adult_bbl_key(self, persons: np.ndarray) -> np.ndarray:
        """(home × 16 + sector) × 5 + the lowest level that raises the qualification (≥ 2)."""
        pop = self.model.pop
        level = np.clip(pop.qual_level[persons] + 1, 2, 4).astype(np.int64)
        return (pop.municipality[persons].astype(np.int64) * 16 + pop.sector[persons]) * 5 + level

    def adult_bbl_rows(self, keys: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
        """Per key (:meth:`adult_bbl_key`), the programme probabilities (keys × programmes; all
        zero where nothing fits) among the open BBL programmes (and only the ``available`` ones,
        if given)."""
        group, prog, share = self.adult_bbl_pairs(keys, available)
        prob = np.zeros((keys.size, self.programmes.n))
        prob[group, prog] = share
        return prob

    def adult_bbl_pairs(self, keys: np.ndarray, available: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (key, programme) pairs an adult may choose, with the probability: the open BBL
        programmes of the key's sector at a level ≥ the key's, within ``max_travel_minutes`` if
        any is (else anywhere), in proportion to base intake × fitted constant × travel weight.
        Only the programmes of each key's sector are paired (not keys × programmes)."""
        p = self.programmes
        m, s, lv = keys // 80, (keys // 5) % 16, keys % 5
        offered = np.flatnonzero(p.open & (p.route == Route.BBL) & (True if available is None else available))
        by_sector = offered[np.argsort(p.sector[offered], kind="stable")]
        count = np.bincount(p.sector[by_sector], minlength=N_SECTORS)
        first = np.cumsum(count) - count
        n = count[s]
        group = np.repeat(np.arange(keys.size), n)
        prog = by_sector[np.repeat(first[s], n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)]
        ok = p.level[prog] >= lv[group]
        near = ok & self.adult_near[m[group], prog]
        any_near = np.bincount(group, weights=near, minlength=keys.size) > 0
        ok = np.where(any_near[group], near, ok)  # within reach if any, else anywhere
        w = np.where(ok, self.adult_travel_weight[m[group], prog], 0.0)
        total = np.bincount(group, weights=w, minlength=keys.size)[group]
        return group, prog, np.divide(w, total, out=np.zeros_like(w), where=total > 0)

    @property
    def programme_contribution_eur(self) -> np.ndarray:
        """School year × programme: funding − cost on the school year's own students (EUR), what
        the April review and the minimal-coverage rule judge (§7.15, 7.17)."""
        return self.programme_funding_eur - self.programme_cost_eur

    @functools.cached_property
    def institution_in_region(self) -> np.ndarray:
        """Per institution: has a site in the region (the others are the outside sites' institutions,
        whose own regions keep their accounts; static)."""
        p = self.programmes
        return np.bincount(p.institution, weights=p.in_region, minlength=len(self.institution_names)) > 0

    @functools.cached_property
    def adult_travel_weight(self) -> np.ndarray:
        """Home × programme: base intake × fitted constant × the travel-time weight (static)."""
        tt = self.travel_adult_hp
        return self.adult_weight[None, :] * np.exp(self.cfg.choice.travel_per_10_minutes * tt / 10.0)

    @functools.cached_property
    def adult_near(self) -> np.ndarray:
        """Home × programme: within ``max_travel_minutes`` (static)."""
        return self.travel_adult_hp <= self.model.cfg.model.travel.max_travel_minutes

    def _adult_bbl_entry(self, admissions: Admissions, jobs: np.ndarray | None = None) -> np.ndarray:
        """Employed adults start a BBL programme in their own sector (the job is the BBL place),
        at a level above their qualification, within the places the programmes have left. Among
        the fitting programmes within reach they choose in proportion to base-year intake × a
        fitted constant × the travel-time weight of school choice; those who find a programme
        full choose again among the ones with places left (as school leavers do), so that how
        many start does not hang on chance overflow of small programmes. Their expected choices
        in each round are added to ``admissions``. ``jobs``: the current jobs per (sector, work
        municipality), if the caller has them; the adults keep theirs, so the count stays."""
        pop = self.model.pop
        cand, rate = self.adult_bbl_candidates(jobs)
        draw = self.rng_choice.random(cand.size) < rate
        start = cand[draw]
        # the first round's expected choices before the draw of who starts
        key = self.adult_bbl_key(cand)
        keys = np.flatnonzero(np.bincount(key))  # the groups, without sorting the candidates
        group, prog, share = self.adult_bbl_pairs(keys, admissions.left >= 0.5)
        first_choices = np.bincount(prog, weights=np.bincount(key, weights=rate)[keys][group] * share,
                                    minlength=self.programmes.n)

        def choose(pending: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            group, _, prob = self.adult_bbl_groups(start[pending], available)
            return choice.sample(self.rng_choice, prob, group), np.bincount(group, minlength=prob.shape[0]) @ prob

        no_limit = np.full(N_SECTORS, np.iinfo(np.int64).max // 2)  # their job is their BBL place
        prog = allocate(self.rng_choice, start.size, admissions, no_limit, self.programmes.route,
                        self.programmes.sector, first_round(choose, first_choices))
        start, prog = start[prog >= 0], prog[prog >= 0]
        work = pop.work_municipality[start].copy()
        self.enrol(start, prog)
        pop.work_municipality[start] = work  # they keep their job where it is
        return np.bincount(prog, minlength=self.programmes.n)

    def end_of_school_year(self) -> None:
        with self.judged.around(self.judged.july):
            progression.end_of_school_year(self)
        self.teachers.july()

    def review(self) -> None:
        provision.review(self)
