"""mbo education: the programme portfolio, September intake, progression, dropout, graduation.

A programme is one sector cluster × level × route (BOL/BBL) × site of an institution. Each
September the secondary-school leavers split into mbo and other education; mbo entrants choose
among the open programmes within reach by a nested logit: first a sector (image, employership,
weakly prospects — the report: job prospects hardly differ any more, image and employership
decide), then a programme within it (travel time, level fit, route). Alternative-specific
constants are the log of each programme's base-year intake, so that base-year conditions
reproduce the base-year distribution; image and employership are changes from the base year.
Numerus fixus / capacity caps and BBL places (an employer must offer one) bind in rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.codes import (
    HIGHER_EDUCATION_LEVEL,
    N_SECTORS,
    ROUTE_NAMES,
    SECTOR_INDEX,
    SECTORS,
    Route,
    Status,
)
from sim.processes.economy import bbl_place_index
from sim.sampling import first_within_capacity

if TYPE_CHECKING:
    from sim.model import RegionModel

UNSET = -1  # status of a person not yet given a status while the population is built


@dataclass
class Programmes:
    """Column table of programmes (one entry per programme)."""

    programme_id: np.ndarray  # str
    institution: np.ndarray  # int index into model.institution_names
    site: np.ndarray  # str, municipality name of the site
    site_municipality: np.ndarray  # int index into the region's municipalities, -1 if outside
    sector: np.ndarray
    level: np.ndarray
    route: np.ndarray
    base_enrolment: np.ndarray  # persons at model scale
    base_intake: np.ndarray
    capacity: np.ndarray  # max intake per year (persons at model scale)
    open: np.ndarray  # bool
    unit: np.ndarray  # int: the "opleiding" (institution × site × sector × level), both routes together

    @property
    def n(self) -> int:
        return len(self.sector)

    def frame(self, institution_names: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "programme_id": self.programme_id,
                "institution": np.asarray(institution_names, dtype=object)[self.institution],
                "sector": np.asarray(SECTORS, dtype=object)[self.sector],
                "level": self.level.astype(np.int64),
                "route": np.asarray(ROUTE_NAMES, dtype=object)[self.route],
                "location": self.site,
            }
        )


def _gravity(origin: np.ndarray, weight: np.ndarray, demand: np.ndarray, cap: np.ndarray,
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


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def build_programmes(model: RegionModel) -> tuple[Programmes, list[str]]:
    """Expand the institutions table (institution × site × sector) into programmes."""
    cfg = model.cfg.model.education
    inst = model.data.institutions
    names = list(dict.fromkeys(inst["institution"]))
    muni_index = {n: i for i, n in enumerate(model.data.municipality_names)}
    level_shares = np.asarray(cfg.enrolment_level_shares, dtype=float)
    years = np.asarray(cfg.programme_years)
    rows: list[tuple] = []
    for r in inst.itertuples():
        levels = np.arange(r.min_level, r.max_level + 1)
        ls = level_shares[levels - 1]
        ls = ls / ls.sum()
        routes = [(Route.BOL, 1 - r.bbl_share if r.bbl else 1.0)] if r.bol else []
        if r.bbl:
            routes.append((Route.BBL, r.bbl_share if r.bol else 1.0))
        for level, lshare in zip(levels, ls, strict=True):
            for route, rshare in routes:
                enrol = r.students_base * lshare * rshare * model.cfg.scale
                pid = f"{_slug(r.institution)}/{_slug(r.site)}/{r.sector}/L{level}/{ROUTE_NAMES[route]}"
                rows.append((pid, names.index(r.institution), r.site, muni_index.get(r.site, -1),
                             SECTOR_INDEX[r.sector], level, int(route), enrol))
    ids, inst_i, site, site_m, sector, level, route, enrol = (np.asarray(c) for c in zip(*rows, strict=True))
    base_intake = enrol / years[level - 1]
    return (
        Programmes(
            programme_id=ids, institution=inst_i.astype(np.int64), site=site,
            site_municipality=site_m.astype(np.int64), sector=sector.astype(np.int64),
            level=level.astype(np.int64), route=route.astype(np.int64),
            base_enrolment=enrol.astype(float), base_intake=base_intake.astype(float),
            capacity=np.ceil(base_intake * cfg.capacity_factor).astype(np.int64),
            open=np.ones(len(ids), dtype=bool),
            unit=np.unique(np.stack([inst_i.astype(str), site, sector.astype(str), level.astype(str)]), axis=1,
                           return_inverse=True)[1].ravel(),
        ),
        names,
    )


class Education:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.education
        self.programmes, self.institution_names = build_programmes(model)
        p = self.programmes
        coords = [model.data.site_coordinates[s] for s in p.site]
        from sim.geography import travel_minutes

        homes = list(zip(model.data.municipalities["centre_lat"], model.data.municipalities["centre_lon"], strict=True))
        self.travel_hp = travel_minutes(homes, coords, model.cfg.model.travel)  # (municipality, programme)
        self.sector_onehot = np.zeros((p.n, N_SECTORS))
        self.sector_onehot[np.arange(p.n), p.sector] = 1.0
        self.asc = np.log(np.maximum(p.base_intake, 1e-3))
        # sector terms of the choice; policies (image shocks, LOB steering) change these
        self.sector_image = np.array([self.cfg.sector_image[s] for s in SECTORS], dtype=float)
        self.sector_employership = np.array([self.cfg.sector_employership[s] for s in SECTORS], dtype=float)
        self.sector_constant = np.array([self.cfg.sector_constant[s] for s in SECTORS], dtype=float)
        self.prospects_weight = self.cfg.choice.prospects
        self.intake_cap = p.capacity.copy()  # teaching capacity: PPS and bundling change it
        self.fixus_cap = np.full(p.n, np.iinfo(np.int64).max)  # a numerus fixus lowers it
        # levers act through these (all neutral by default): viability threshold per sector (real
        # persons), a programme's fixed and per-student cost factors, coordination overhead
        self.viability_threshold = np.full(N_SECTORS, float(self.cfg.viability_min_intake))
        self.fixed_cost_factor = np.ones(p.n)
        self.student_cost_factor = np.ones(p.n)
        self.overhead_factor = 1.0
        self.rng_choice = model.streams["education.choice"]
        self.rng_progress = model.streams["education.progression"]
        # per-school-year results (model scale), filled in place
        n_years = model.n_years + 1
        self.intake = np.zeros((n_years, p.n), dtype=np.int64)
        self.enrolled = np.zeros((n_years, p.n), dtype=np.int64)
        self.graduates = np.zeros((n_years, p.n), dtype=np.int64)
        self.dropouts = np.zeros((n_years, p.n), dtype=np.int64)
        self.open_at_intake = np.zeros((n_years, p.n), dtype=bool)
        self.llo_starts = np.zeros((n_years, p.n), dtype=np.int64)
        self.continuing = np.zeros((n_years, p.n), dtype=np.int64)  # doorstroom to the next level
        n_inst = len(self.institution_names)
        self.municipal_revenue_eur = np.zeros((n_years, n_inst))
        self.funding_eur = np.zeros((n_years, n_inst))
        self.cost_eur = np.zeros((n_years, n_inst))
        self.programme_cost_eur = np.zeros((n_years, p.n))
        self.coverage = np.zeros((n_years, N_SECTORS, 5))  # [.., level]: 0 = any level, 1-4 = that level
        self.nearest_minutes = np.zeros((n_years, model.n_municipalities, N_SECTORS))
        self.intake_travel_minutes = np.zeros(n_years)
        self.intakes_recorded = 0  # school years with a simulated intake so far

    # --- choice ---------------------------------------------------------------------------
    def _prospects(self) -> np.ndarray:
        """Standardised log tightness per sector (vacancies per job seeker), last month."""
        lab = self.model.labour
        v = lab.vacancies.sum(axis=(1, 2)).astype(float)
        pop = self.model.pop
        u = pop.count("sector", N_SECTORS, where=pop.status == Status.UNEMPLOYED)
        t = np.log((v + 1) / (u + 1))
        sd = t.std()
        return (t - t.mean()) / sd if sd > 0 else np.zeros_like(t)

    def choose(self, persons: np.ndarray, available: np.ndarray) -> np.ndarray:
        """Nested-logit programme choice for ``persons`` among ``available`` programmes.

        Returns a programme index per person, or -1 if nothing is available to them.
        """
        if persons.size == 0:
            return np.empty(0, dtype=np.int64)
        pop, cfg, rng, p = self.model.pop, self.cfg, self.rng_choice, self.programmes
        ch = cfg.choice
        lam = ch.nest_scale
        tt = self.travel_hp[pop.municipality[persons]]  # (n, P)
        v = (
            self.asc[None, :]
            + ch.travel_per_10_minutes * tt / 10.0
            + ch.level_mismatch * np.abs(p.level[None, :] - pop.aptitude[persons][:, None])
            + ch.bbl_constant * (p.route == Route.BBL)[None, :]
        )
        within = tt <= self.model.cfg.model.travel.max_travel_minutes
        ok = within & available[None, :]
        nothing_near = ~ok.any(1)
        ok[nothing_near] = available[None, :]  # nothing within reach: the whole region, far away
        v = np.where(ok, v, -np.inf)
        vmax = np.max(np.where(ok, v, -1e300), axis=1, keepdims=True)
        e = np.where(ok, np.exp((v - vmax) / lam), 0.0)
        nest_sum = e @ self.sector_onehot  # (n, S)
        has = nest_sum > 0
        with np.errstate(divide="ignore"):
            iv = lam * np.log(nest_sum) + vmax
        x = self.sector_constant + ch.image * self.sector_image + ch.employership * self.sector_employership
        x = x + self.prospects_weight * self._prospects()
        u_sector = np.where(has, x[None, :] + iv, -np.inf)
        g = rng.gumbel(size=u_sector.shape)
        sector = np.argmax(u_sector + g, axis=1)
        none = ~has.any(1)
        g2 = rng.gumbel(size=v.shape)
        in_sector = p.sector[None, :] == sector[:, None]
        score = np.where(ok & in_sector, v / lam + g2, -np.inf)
        choice = np.argmax(score, axis=1)
        choice[none] = -1
        return choice

    def allocate(self, persons: np.ndarray, reserved: np.ndarray, rounds: int = 6) -> np.ndarray:
        """Choose with capacity: over-subscribed programmes and BBL places bind; the rejected
        choose again among what is left. ``reserved`` places per programme are already taken
        (doorstroom). Returns programme per person (-1: no place)."""
        p = self.programmes
        result = np.full(persons.size, -1, dtype=np.int64)
        remaining_cap = np.maximum(self.places() - reserved, 0)
        bbl_left = self.model.labour.bbl_places().astype(np.int64)
        pending = np.arange(persons.size)
        for _ in range(rounds):
            if pending.size == 0:
                break
            avail = remaining_cap > 0
            avail &= ~((p.route == Route.BBL) & (bbl_left[p.sector] <= 0))
            choice = self.choose(persons[pending], avail)
            got = np.flatnonzero(choice >= 0)
            # who gets a place: random order, first come within each programme's capacity,
            # and for BBL within the sector's BBL places
            ch = choice[got]
            admit = first_within_capacity(self.rng_choice, ch, remaining_cap)
            bbl = np.flatnonzero(admit & (p.route[ch] == Route.BBL))
            admit[bbl[~first_within_capacity(self.rng_choice, p.sector[ch[bbl]], bbl_left)]] = False
            admitted = got[admit]
            result[pending[admitted]] = choice[admitted]
            remaining_cap -= np.bincount(choice[admitted], minlength=p.n)
            bbl_taken = np.bincount(p.sector[choice[admitted]][p.route[choice[admitted]] == Route.BBL],
                                    minlength=N_SECTORS)
            bbl_left -= bbl_taken
            rejected = np.ones(pending.size, dtype=bool)
            rejected[admitted] = False
            rejected &= choice >= 0  # those with nothing available stop trying
            pending = pending[rejected]
        return result

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

    # --- yearly ---------------------------------------------------------------------------
    def intake_september(self) -> None:
        """Secondary-school leavers split into mbo and other education; mbo entrants enrol."""
        model, pop, cfg = self.model, self.model.pop, self.cfg
        y = model.year_index
        # ages are on 1 January: those who turn vo_leave_age this calendar year leave now
        leavers = np.flatnonzero((pop.status == Status.SCHOOL) & (pop.age >= cfg.vo_leave_age - 1))
        to_mbo = self.rng_choice.random(leavers.size) < cfg.mbo_share
        other = leavers[~to_mbo]
        pop.status[other] = Status.OTHER_EDUCATION
        pop.study_year[other] = 0
        pop.months_in_state[other] = 0
        cand = leavers[to_mbo]
        prog = self.allocate(cand, reserved=self.continuing[y])
        placed = prog >= 0
        if placed.any():
            self.intake_travel_minutes[y] = self.travel_hp[pop.municipality[cand[placed]], prog[placed]].mean()
        self.enrol(cand[placed], prog[placed])
        no_place = cand[~placed]  # no programme with a place: early school leavers, job seekers
        pop.status[no_place] = Status.UNEMPLOYED
        pop.months_in_state[no_place] = 0
        taken = np.bincount(prog[placed], minlength=self.programmes.n) + self.continuing[y]
        adults = self._adult_bbl_entry(np.maximum(self.places() - taken, 0))
        self.intake[y] = (np.bincount(prog[placed], minlength=self.programmes.n) + adults
                          + self.continuing[y])
        self.open_at_intake[y] = self.programmes.open
        self.enrolled[y] = self.enrolment()
        self.intakes_recorded += 1
        self.coverage[y], self.nearest_minutes[y] = self.measure_coverage(self.programmes.open)
        self._account(y)

    def places(self) -> np.ndarray:
        """New students each programme can take this school year: its teaching capacity, at most
        a numerus fixus, none when closed."""
        return np.where(self.programmes.open, np.minimum(self.intake_cap, self.fixus_cap), 0).astype(np.int64)

    def youth_by_municipality(self) -> np.ndarray:
        """This year's secondary-school leavers per municipality (those who turn vo_leave_age)."""
        pop = self.model.pop
        leavers = pop.age == self.cfg.vo_leave_age - 1
        return pop.count("municipality", self.model.n_municipalities, where=leavers).astype(float)

    def measure_coverage(self, open_: np.ndarray, youth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Share of this year's school leavers with an open programme of each sector (any level,
        and each level) within max_travel_minutes; and minutes to the nearest open programme per
        municipality and sector (inf where there is none)."""
        p = self.programmes
        youth = self.youth_by_municipality() if youth is None else youth
        limit = self.model.cfg.model.travel.max_travel_minutes
        tt = np.where(open_[None, :], self.travel_hp, np.inf)  # (M, P)
        nearest = np.full((self.model.n_municipalities, N_SECTORS), np.inf)
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

    def programme_costs(self, enrolled: np.ndarray) -> np.ndarray:
        """Yearly cost of each programme (EUR): fixed while open or teaching out, plus per student."""
        cfg, p = self.cfg, self.programmes
        running = p.open | (enrolled > 0)
        scale = self.model.cfg.scale
        return (running * cfg.programme_fixed_cost_eur * self.fixed_cost_factor
                + enrolled / scale * cfg.cost_per_student_eur * self.student_cost_factor)

    def _account(self, y: int) -> None:
        """The school year's funding and costs per institution (EUR, real persons)."""
        p, cfg = self.programmes, self.cfg
        enrolled = self.enrolled[y]
        n_inst = len(self.institution_names)
        self.programme_cost_eur[y] = self.programme_costs(enrolled)
        self.funding_eur[y] = np.bincount(p.institution, weights=enrolled / self.model.cfg.scale,
                                          minlength=n_inst) * cfg.funding_per_student_eur
        self.cost_eur[y] = (np.bincount(p.institution, weights=self.programme_cost_eur[y], minlength=n_inst)
                            + cfg.institution_overhead_eur * self.overhead_factor)

    def _adult_bbl_entry(self, places: np.ndarray) -> np.ndarray:
        """Employed adults start a BBL programme in their own sector (the job is the BBL place),
        within the programmes' remaining ``places``."""
        pop, cfg = self.model.pop, self.cfg
        lo, hi = cfg.adult_bbl_ages
        cand = np.flatnonzero((pop.status == Status.EMPLOYED) & (pop.age >= lo) & (pop.age <= hi)
                              & (pop.llo_months_left == 0))
        rate = cfg.adult_bbl_rate * bbl_place_index(self.model.cfg.economy, self.model.year)
        start = cand[self.rng_choice.random(cand.size) < rate]
        level = np.clip(pop.qual_level[start] + 1, 2, 4)
        prog = self.nearest_open_programme(start, pop.sector[start], level, route=Route.BBL)
        start, prog = start[prog >= 0], prog[prog >= 0]
        admit = first_within_capacity(self.rng_choice, prog, places)
        start, prog = start[admit], prog[admit]
        work = pop.work_municipality[start].copy()
        self.enrol(start, prog)
        pop.work_municipality[start] = work  # they keep their job where it is
        return np.bincount(prog, minlength=self.programmes.n)

    def enrolment(self) -> np.ndarray:
        pop = self.model.pop
        students = (pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL)
        return pop.count("programme", self.programmes.n, where=students)

    def end_of_school_year(self) -> None:
        """July: dropout, progression and graduation in mbo; leaving other education."""
        model, pop, cfg, p, rng = self.model, self.model.pop, self.cfg, self.programmes, self.rng_progress
        y = model.year_index - 1  # the school year that started last September
        # other education first (so that mbo-4 graduates entering hbo now start at year 0)
        # (havo/vwo, hbo, wo): leave after other_education_years
        oe = np.flatnonzero(pop.status == Status.OTHER_EDUCATION)
        pop.study_year[oe] += 1
        leave = oe[pop.study_year[oe] >= cfg.other_education_years]
        pop.status[leave] = Status.UNEMPLOYED
        pop.qual_level[leave] = np.maximum(pop.qual_level[leave], HIGHER_EDUCATION_LEVEL)
        shares = model.data.employment_shares
        pop.qual_sector[leave] = rng.choice(N_SECTORS, size=leave.size, p=shares)
        pop.sector[leave] = pop.qual_sector[leave]
        pop.months_in_state[leave] = 0
        students = np.flatnonzero((pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL))
        prog = pop.programme[students]
        level = p.level[prog]
        drop = rng.random(students.size) < np.asarray(cfg.dropout_rate)[level - 1]
        dropouts = students[drop]
        bbl_drop = dropouts[pop.status[dropouts] == Status.MBO_BBL]
        bol_drop = dropouts[pop.status[dropouts] == Status.MBO_BOL]
        if y >= 0:
            self.dropouts[y] = np.bincount(prog[drop], minlength=p.n)
        pop.status[bbl_drop] = Status.EMPLOYED  # keeps the job, without the diploma
        pop.status[bol_drop] = Status.UNEMPLOYED
        pop.programme[dropouts] = -1
        pop.months_in_state[dropouts] = 0
        stay = students[~drop]
        pop.study_year[stay] += 1
        years = np.asarray(cfg.programme_years)
        done = pop.study_year[stay] >= years[p.level[pop.programme[stay]] - 1]
        grads = stay[done]
        gprog = pop.programme[grads]
        if y >= 0:
            self.graduates[y] = np.bincount(gprog, minlength=p.n)
        pop.qual_sector[grads] = p.sector[gprog]
        pop.qual_level[grads] = np.maximum(pop.qual_level[grads], p.level[gprog])
        bbl = pop.status[grads] == Status.MBO_BBL
        pop.status[grads[bbl]] = Status.EMPLOYED
        bol = grads[~bbl]
        to_he = (p.level[pop.programme[bol]] == 4) & (rng.random(bol.size) < cfg.to_higher_education_l4)
        he = bol[to_he]
        pop.status[he] = Status.OTHER_EDUCATION
        pop.study_year[he] = max(cfg.other_education_years - 4, 0)
        rest = bol[~to_he]
        # doorstroom: some BOL graduates continue at the next level in the same sector
        glevel = p.level[pop.programme[rest]]
        go_on = (glevel < 4) & (rng.random(rest.size) < np.asarray([*cfg.continue_next_level, 0.0])[glevel - 1])
        cont = rest[go_on]
        nxt = self.nearest_open_programme(cont, p.sector[pop.programme[cont]], glevel[go_on] + 1, exact_level=True)
        cont, nxt = cont[nxt >= 0], nxt[nxt >= 0]
        admit = first_within_capacity(rng, nxt, self.places())  # they come first, within the places
        cont, nxt = cont[admit], nxt[admit]
        seekers = np.setdiff1d(rest, cont, assume_unique=True)
        pop.status[seekers] = Status.UNEMPLOYED
        pop.sector[seekers] = p.sector[pop.programme[seekers]]
        pop.programme[grads] = -1
        pop.months_in_state[grads] = 0
        self.enrol(cont, nxt)
        self.continuing[model.year_index] += np.bincount(nxt, minlength=p.n)  # counted in September

    # --- base year ------------------------------------------------------------------------
    def initialise_students(self) -> None:
        """Place the base-year mbo students: each programme's base enrolment, by age, drawn
        from the persons of that age in each municipality by a gravity model of travel time."""
        model, pop, cfg, p = self.model, self.model.pop, self.cfg, self.programmes
        rng = model.streams["init.students"]
        years = np.asarray(cfg.programme_years)[p.level - 1]
        delay = np.asarray(cfg.initial_delay_shares, dtype=float)
        max_age = 16 + years.max() + len(delay) + cfg.bbl_extra_years
        ages = np.arange(16, max_age + 1)
        # expected students per programme, age and study year (students of study year y are
        # 16 + y + delay years old on 1 January; BBL students bbl_extra_years older)
        by_year = np.zeros((p.n, ages.size, years.max()))
        rows = np.arange(p.n)
        for y in range(years.max()):
            active = years > y
            for d, share in enumerate(delay):
                a = 16 + y + d + np.where(p.route == Route.BBL, cfg.bbl_extra_years, 0)
                by_year[rows[active], a[active] - 16, y] += (p.base_enrolment / years * share)[active]
        demand = by_year.sum(2)
        year_cum = np.cumsum(by_year, axis=2) / np.maximum(demand[:, :, None], 1e-12)
        tt = self.travel_hp
        w = np.exp(cfg.choice.travel_per_10_minutes * tt / 10.0)
        w[tt > model.cfg.model.travel.max_travel_minutes] *= 1e-3
        free = pop.status == UNSET
        for ai, a in enumerate(ages):
            pool = np.flatnonzero(free & (pop.age == a))
            if pool.size == 0:
                continue
            pool = pool[rng.permutation(pool.size)]
            by_m = np.bincount(pop.municipality[pool], minlength=model.n_municipalities)
            x = _gravity(by_m, w, demand[:, ai], by_m * cfg.initial_max_enrolment_share)
            x = np.diff(np.rint(np.cumsum(x, axis=0)), axis=0, prepend=0).astype(np.int64)
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
                self.enrol(who, want)
                stud_year = (rng.random(take)[:, None] >= year_cum[want, ai]).sum(1)
                stud_year = np.minimum(stud_year, years[want] - 1)
                pop.study_year[who] = stud_year
                pop.months_in_state[who] = 4 + 12 * stud_year  # enrolled last September (or earlier)
            free[pool] = pop.status[pool] == UNSET

    def nearest_open_programme(self, persons: np.ndarray, sector: np.ndarray, level: np.ndarray | int = 2,
                               route: int = Route.BOL, exact_level: bool = False) -> np.ndarray:
        """The nearest open programme of ``sector`` per person, at ``level`` or above (or exactly
        at it), on ``route``; -1 where there is none. Used for LLO, doorstroom and adult BBL."""
        if persons.size == 0:
            return np.empty(0, dtype=np.int64)
        p = self.programmes
        level = np.broadcast_to(np.asarray(level), persons.shape)
        tt = self.travel_hp[self.model.pop.municipality[persons]]
        lvl_ok = (p.level[None, :] == level[:, None]) if exact_level else (p.level[None, :] >= level[:, None])
        ok = (p.open & (p.route == route))[None, :] & lvl_ok & (p.sector[None, :] == sector[:, None])
        score = np.where(ok, tt + p.level[None, :], np.inf)  # nearest, then the lowest fitting level
        best = np.argmin(score, axis=1)
        return np.where(np.isfinite(score[np.arange(persons.size), best]), best, -1)
