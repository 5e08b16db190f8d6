"""The labour market: sector demand, vacancies, separations and matching, every month.

Employers are held as cells (sector × work municipality): headcount (derived from the persons
who work there), a target headcount that follows the economy scenario, and vacancies counted by
age in months. A vacancy open for ``hard_to_fill_months`` or more is *hard to fill*: the shortage
measure. Matching per sector is a constant-returns Cobb–Douglas function of effective job
seekers and vacancies (Petrongolo & Pissarides 2001; Gorter & van Ours 1995 for NL), where a
seeker counts by qualification fit and commuting access to the sector's vacancies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, Benefit, Status
from sim.processes.economy import bbl_place_index
from sim.sampling import bernoulli_subset, first_within_capacity

if TYPE_CHECKING:
    from sim.model import RegionModel


def remove_from_buckets(buckets: np.ndarray, amount: np.ndarray, oldest_first: bool) -> np.ndarray:
    """Take ``amount`` (per cell) out of age buckets (last axis), oldest or youngest first.

    Returns the buckets after removal; amounts beyond a cell's total remove everything.
    """
    b = buckets[..., ::-1] if oldest_first else buckets
    before = np.cumsum(b, axis=-1) - b  # units in buckets taken before this one
    take = np.clip(amount[..., None] - before, 0, b)
    out = b - take
    return out[..., ::-1] if oldest_first else out


class LabourMarket:
    """Vacancies, separations and matching for all sectors and work municipalities."""

    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.labour
        n_m = model.n_municipalities
        self.n_ages = self.cfg.vacancy_max_age_months + 1
        self.vacancies = np.zeros((N_SECTORS, n_m, self.n_ages), dtype=np.int64)
        self.base_target = np.zeros((N_SECTORS, n_m))
        # commute_weight[home, work]: how much a vacancy in `work` counts for a seeker in `home`
        tt = model.travel_mm
        self.commute_weight = np.exp(-tt / self.cfg.commute_decay_minutes)
        self.rng_sep = model.streams["labour.separations"]
        self.rng_match = model.streams["labour.matching"]
        self.rng_benefit = model.streams["labour.benefits"]
        self.rng_vac = model.streams["labour.vacancies"]
        self.head = np.zeros((N_SECTORS, n_m), dtype=np.int64)  # headcount, kept current within a month
        self.hires = np.zeros(N_SECTORS, dtype=np.int64)
        self.separations = np.zeros(N_SECTORS, dtype=np.int64)
        self.abandoned = np.zeros(N_SECTORS, dtype=np.int64)
        # the UWV signal of the last 12 months: vacancies and short-WW job seekers per sector
        # (a ring buffer by month of year; levers such as the numerus fixus read it)
        self.recent_vacancies = np.zeros((12, N_SECTORS), dtype=np.int64)
        self.recent_ww_short = np.zeros((12, N_SECTORS), dtype=np.int64)
        r = model.results
        ms = ("month", "sector")
        self.measures = {
            "employed": r.declare("labour", "employed", ms, "persons", doc="jobs filled at the end of the month"),
            "vacancies": r.declare("labour", "vacancies", ms, "persons", doc="open vacancies at the end of the month"),
            "hard_to_fill": r.declare("labour", "hard_to_fill", ms, "persons",
                                      doc="vacancies open hard_to_fill_months or longer"),
            "job_seekers": r.declare("labour", "job_seekers", ms, "persons", doc="unemployed by sector"),
            "ww_short": r.declare("labour", "ww_short", ms, "persons", doc="job seekers on WW for < 6 months"),
            "hires": r.declare("labour", "hires", ms, "persons", doc="hires during the month"),
            "separations": r.declare("labour", "separations", ms, "persons", doc="jobs ended during the month"),
            "abandoned": r.declare("labour", "abandoned", ms, "persons", doc="vacancies given up during the month"),
        }

    # --- state derived from persons -------------------------------------------------------
    def headcount(self) -> np.ndarray:
        """Jobs filled per (sector, work municipality): employed persons and BBL students."""
        pop = self.model.pop
        working = np.flatnonzero((pop.status == Status.EMPLOYED) | (pop.status == Status.MBO_BBL))
        return self._cells(working)

    def _cells(self, persons: np.ndarray) -> np.ndarray:
        """Jobs per (sector, work municipality) held by ``persons`` (all of whom work)."""
        pop, n_m = self.model.pop, self.model.n_municipalities
        cell = pop.sector[persons].astype(np.int64) * n_m + pop.work_municipality[persons]
        return np.bincount(cell, minlength=N_SECTORS * n_m).reshape(N_SECTORS, n_m)

    def initialise(self) -> None:
        """Open the base-year vacancies and set targets = headcount + vacancies."""
        head = self.headcount()
        v = np.rint(head * self.cfg.initial_vacancy_rate).astype(np.int64)
        # spread over ages as if each vacancy is filled with a constant monthly probability
        ages = np.arange(self.n_ages)
        weights = (1 - self.cfg.initial_vacancy_fill_rate) ** ages
        weights /= weights.sum()
        self.vacancies = _round_split(v, weights)
        self.base_target = (head + v).astype(float)

    # --- monthly --------------------------------------------------------------------------
    def step(self, month: int) -> None:
        self.hires[:] = 0
        self.separations[:] = 0
        self.abandoned[:] = 0
        self.head = self.headcount()  # yearly events (intake, graduation, exits) change jobs
        self._age_vacancies(month)
        self._separate()
        self._post_vacancies(month)
        self._match()
        self._update_benefits()

    def _age_vacancies(self, month: int) -> None:
        """Vacancies get a month older. Employers give up a share of their hard-to-fill
        vacancies each month, and all that reach vacancy_max_age_months: the job is not
        created after all (reorganised, automated), which lowers their target headcount."""
        v = self.vacancies
        htf = self.cfg.hard_to_fill_months
        give_up = self.rng_vac.binomial(v[..., htf:], self.cfg.abandon_rate)
        give_up[..., -1] = v[..., -1]
        v[..., htf:] -= give_up
        abandoned = give_up.sum(-1)
        v[..., 1:] = v[..., :-1].copy()
        v[..., 0] = 0
        self.base_target -= abandoned / self.model.demand_index[month][:, None]
        self.abandoned += abandoned.sum(1)

    def _separate(self) -> None:
        pop, cfg, rng = self.model.pop, self.cfg, self.rng_sep
        p_leave = cfg.layoff_rate + cfg.to_inactive_rate
        separation_factor = self.model.hooks.labour.separation_factor
        p_max = p_leave * separation_factor.max()
        cand = bernoulli_subset(rng, pop.n, p_max)
        cand = cand[pop.status[cand] == Status.EMPLOYED]
        with np.errstate(divide="ignore", invalid="ignore"):  # factor 0 (a lever): u = inf, nobody leaves
            u = rng.random(cand.size) * p_max / separation_factor[pop.sector[cand]]
        cand, u = cand[u < p_leave], u[u < p_leave]
        laid = u < cfg.layoff_rate
        laid_off, to_inactive = cand[laid], cand[~laid]
        self.separations += np.bincount(pop.sector[cand], minlength=N_SECTORS)
        self.head -= self._cells(cand)
        pop.status[laid_off] = Status.UNEMPLOYED
        pop.benefit[laid_off] = Benefit.UWV
        pop.benefit_months[laid_off] = 0
        pop.status[to_inactive] = Status.INACTIVE
        pop.work_municipality[cand] = -1
        pop.months_in_state[cand] = 0
        # flows between unemployment and inactivity (the inactive look for work again below seek_max_age)
        p_max = max(cfg.unemployed_to_inactive, cfg.inactive_to_seeking)
        cand = bernoulli_subset(rng, pop.n, p_max)
        status = pop.status[cand]
        u = rng.random(cand.size) * p_max
        leave = cand[(status == Status.UNEMPLOYED) & (u < cfg.unemployed_to_inactive)]
        seek = cand[(status == Status.INACTIVE) & (u < cfg.inactive_to_seeking) & (pop.age[cand] < cfg.seek_max_age)]
        pop.status[leave] = Status.INACTIVE
        pop.status[seek] = Status.UNEMPLOYED
        pop.months_in_state[leave] = 0
        pop.months_in_state[seek] = 0

    def target(self, month: int) -> np.ndarray:
        return self.base_target * self.model.demand_index[month][:, None]

    def _post_vacancies(self, month: int) -> None:
        gap = self.target(month) - self.head - self.vacancies.sum(-1)
        post = np.rint(np.maximum(gap, 0)).astype(np.int64)
        withdraw = np.rint(np.maximum(-gap, 0)).astype(np.int64)
        self.vacancies[..., 0] += post
        self.vacancies = remove_from_buckets(self.vacancies, withdraw, oldest_first=False)

    def _match(self) -> None:
        pop, cfg, rng = self.model.pop, self.cfg, self.rng_match
        n_m = self.model.n_municipalities
        unemp = np.flatnonzero(pop.status == Status.UNEMPLOYED)
        on_job = bernoulli_subset(rng, pop.n, cfg.on_the_job_search)
        on_job = on_job[pop.status[on_job] == Status.EMPLOYED]
        seekers = np.concatenate([unemp, on_job])
        v_cell = self.vacancies.sum(-1).astype(float)  # (S, M)
        v_sector = v_cell.sum(1)
        if seekers.size == 0 or v_sector.sum() == 0:
            return
        # access[s, h]: commuting-weighted share of sector s vacancies reachable from home h
        access = (v_cell @ self.commute_weight.T) / np.maximum(v_sector, 1)[:, None]
        home = pop.municipality[seekers]
        qs, ls = pop.qual_sector[seekers], pop.sector[seekers]
        base = np.where((pop.qual_level[seekers] == 0) & (qs < 0), cfg.unqualified_fit, cfg.other_sector_fit)
        fit = np.repeat(base[:, None], N_SECTORS, axis=1)
        rows = np.arange(seekers.size)
        fit[rows[qs >= 0], qs[qs >= 0]] = 1.0
        fit[rows[ls >= 0], ls[ls >= 0]] = 1.0
        w = fit * access[:, home].T  # (n, S)
        s_eff = w.sum(0)
        alpha = cfg.matching_elasticity
        with np.errstate(divide="ignore", invalid="ignore"):
            efficiency = cfg.matching_efficiency * self.model.hooks.labour.matching_factor
            m = efficiency * s_eff**alpha * v_sector ** (1 - alpha)
            m = np.minimum(np.minimum(m, v_sector), s_eff)
            rate = np.where(s_eff > 0, m / s_eff, 0.0)
        p = w * rate[None, :]
        total = p.sum(1)
        over = total > 1
        p[over] /= total[over, None]
        chosen = (rng.random(seekers.size)[:, None] >= np.cumsum(p, axis=1)).sum(1)
        hit = chosen < N_SECTORS
        who, sector, home = seekers[hit], chosen[hit], home[hit]
        if who.size == 0:
            return
        # workplace: a municipality with vacancies of that sector, weighted by commuting
        wp = v_cell[:, None, :] * self.commute_weight[None, :, :]  # (S, home, work)
        wp_cum = np.cumsum(wp, axis=2)
        wp_cum /= np.maximum(wp_cum[..., -1:], 1e-12)
        u = rng.random(who.size)
        work = (u[:, None] >= wp_cum[sector, home]).sum(1)
        work = np.minimum(work, n_m - 1)
        # no cell fills more vacancies than it has: random order, keep the first V per cell
        cell = sector * n_m + work
        keep = first_within_capacity(rng, cell, v_cell.ravel())
        who, sector, work, cell = who[keep], sector[keep], work[keep], cell[keep]
        movers = who[pop.status[who] == Status.EMPLOYED]
        self.separations += np.bincount(pop.sector[movers], minlength=N_SECTORS)
        self.head -= self._cells(movers)
        pop.status[who] = Status.EMPLOYED
        pop.sector[who] = sector
        pop.work_municipality[who] = work
        pop.benefit[who] = Benefit.NONE
        pop.benefit_months[who] = 0
        pop.months_in_state[who] = 0
        self.hires += np.bincount(sector, minlength=N_SECTORS)
        fills = np.bincount(cell, minlength=N_SECTORS * n_m).reshape(N_SECTORS, n_m)
        self.head += fills
        self.vacancies = remove_from_buckets(self.vacancies, fills, oldest_first=True)

    def _update_benefits(self) -> None:
        """WW lasts ww_months; then a share of those still without work move to bijstand."""
        pop = self.model.pop
        mcfg = self.model.cfg.model.municipality
        on_ww = np.flatnonzero(pop.benefit == Benefit.UWV)
        pop.benefit_months[on_ww] += 1
        expired = on_ww[pop.benefit_months[on_ww] >= mcfg.ww_months]
        to_bijstand = self.rng_benefit.random(expired.size) < mcfg.bijstand_share
        pop.benefit[expired] = np.where(to_bijstand, Benefit.MUNICIPALITY, Benefit.NONE)
        pop.benefit_months[expired] = 0

    # --- measures -------------------------------------------------------------------------
    def hard_to_fill(self) -> np.ndarray:
        return self.vacancies[..., self.cfg.hard_to_fill_months :].sum(axis=(1, 2))

    def bbl_places(self) -> np.ndarray:
        """BBL places employers offer per sector this school year (persons at model scale)."""
        head = self.headcount().sum(1)
        cycle = bbl_place_index(self.model.cfg.economy, self.model.year)
        factor = self.model.hooks.labour.bbl_place_factor
        return np.rint(head * self.cfg.bbl_places_per_100_jobs / 100 * factor * cycle).astype(np.int64)

    def uwv_tightness_last_year(self) -> np.ndarray:
        """Vacancies per short-WW job seeker per sector, each summed over the months recorded in
        the last 12 (vacancies ÷ max(WW, 1)): the UWV spanningsindicator of the past year."""
        return self.recent_vacancies.sum(0) / np.maximum(self.recent_ww_short.sum(0), 1)

    # --- results --------------------------------------------------------------------------
    def record_month(self, month: int) -> None:
        """The month's measures, at its end."""
        pop, m = self.model.pop, self.measures
        m["employed"][month] = self.head.sum(1)
        m["vacancies"][month] = self.vacancies.sum(axis=(1, 2))
        m["hard_to_fill"][month] = self.hard_to_fill()
        unemp = pop.status == Status.UNEMPLOYED
        m["job_seekers"][month] = pop.count("sector", N_SECTORS, where=unemp)
        short_ww = unemp & (pop.benefit == Benefit.UWV) & (pop.benefit_months < 6)
        m["ww_short"][month] = pop.count("sector", N_SECTORS, where=short_ww)
        m["hires"][month] = self.hires
        m["separations"][month] = self.separations
        m["abandoned"][month] = self.abandoned
        self.recent_vacancies[month % 12] = m["vacancies"][month]
        self.recent_ww_short[month % 12] = m["ww_short"][month]


def _round_split(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer totals over the last axis by weights, keeping the totals exact."""
    cum = np.rint(np.cumsum(weights) * total[..., None]).astype(np.int64)
    out = np.diff(cum, axis=-1, prepend=0)
    return out
