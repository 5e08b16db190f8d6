"""The labour market: sector demand, vacancies, separations and matching, every month.

Employers are held as cells (sector × work municipality): headcount (derived from the persons
who work there), a target headcount that follows the economy scenario, and vacancies counted by
age in months. A vacancy open for ``hard_to_fill_months`` or more is *hard to fill*: the shortage
measure. Vacancies that stay open are *unmet demand*; employers do not silently drop them, but
organise a share of the hard-to-fill ones away each month (automation, reorganisation: the flow
``adapted``, which lowers the sector's demand path).

Matching per sector is a constant-returns Cobb–Douglas function of effective job seekers and
vacancies (Petrongolo & Pissarides 2001; Gorter & van Ours 1995 for NL). A seeker's search
effort sums to one over sectors: mostly in their own field, the rest in related fields
(``data/field_mobility.csv``), each weighted by commuting access to the sector's vacancies. No
seeker finds work faster than ``max_job_finding_rate`` a month (search takes time: the
frictional floor). The supply side that responds to tightness (participation, labour migrants,
cross-border commuters) is in :mod:`sim.processes.labour.supply`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, SECTORS, Benefit, Status
from sim.cohorts import base_status_rates
from sim.processes.economy import bbl_place_index
from sim.sampling import bernoulli_subset, first_within_capacity, uniform_subset_where

#: a first guess of the share of residents who could enter bijstand (working age, without work,
#: study or benefit): it only sizes the first round of drawing them (uniform_subset_where)
ELIGIBLE_GUESS = 0.15

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


def search_by_row(table: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seekers per row of a search table (``key``: each seeker's row) and their search summed per
    sector (count × row: the sum of the seekers' rows)."""
    n_row = np.bincount(key, minlength=table.shape[0])
    return n_row, n_row @ table


class LabourMarket:
    """Vacancies, separations and matching for all sectors and work municipalities."""

    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.labour
        n_m = model.n_municipalities
        self.n_ages = self.cfg.vacancy_max_age_months + 1
        self.vacancies = np.zeros((N_SECTORS, n_m, self.n_ages), dtype=np.int64)
        self.base_target = np.zeros((N_SECTORS, n_m))
        # commute_weight[home, work]: how much a vacancy in `work` counts for a seeker in `home`;
        # 1 in one's own municipality, falling with the extra minutes beyond it
        tt = model.travel_mm
        extra = np.maximum(tt - np.diag(tt)[:, None], 0.0)
        self.commute_weight = np.exp(-extra / self.cfg.commute_decay_minutes)
        self.seek_rate = seek_rates(model.cfg.model.population, self.cfg, model.cfg.region)
        self.rng_sep = model.streams["labour.separations"]
        self.rng_match = model.streams["labour.matching"]
        self.rng_benefit = model.streams["labour.benefits"]
        self.rng_vac = model.streams["labour.vacancies"]
        # jobs per (sector, work municipality), kept current by every monthly process that moves a
        # person into or out of a job; recounted after any other event (``head_stale``, see RegionModel._event)
        self.head = np.zeros((N_SECTORS, n_m), dtype=np.int64)
        self.head_stale = True
        self.hires = np.zeros(N_SECTORS, dtype=np.int64)
        self.separations = np.zeros(N_SECTORS, dtype=np.int64)
        self.adapted = np.zeros(N_SECTORS, dtype=np.int64)
        self.exits = np.zeros(N_SECTORS, dtype=np.int64)  # since the last record (January's exits come before the step)
        self.posted = np.zeros(N_SECTORS, dtype=np.int64)
        data = model.data.labour
        # search rows by field; the last row is for seekers without a field: the region's job mix
        self.search_rows = np.vstack([data.field_search, model.data.employment_shares])
        # every (field row a, job row b) pair's search, 0.5 (row a + row b): a person's search is the
        # row of their pair (search_type), so a month's seekers are a gather from this small table
        a, b = np.divmod(np.arange((N_SECTORS + 1) ** 2), N_SECTORS + 1)
        self.search_pairs = 0.5 * (self.search_rows[a] + self.search_rows[b])
        self.adaptation_rate = np.array([self.cfg.adaptation_rate[s] for s in SECTORS])
        self.commuters_in = np.zeros((N_SECTORS, n_m), dtype=np.int64)  # jobs held by persons living abroad
        self.base_vacancy_rate = np.zeros(N_SECTORS)  # the base year's, for tightness responses
        self.base_htf_share = np.zeros(N_SECTORS)
        self.base_vu = 0.0
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
            "job_seekers": r.declare("labour", "job_seekers", ms, "persons",
                                     doc="unemployed persons looking for work, by sector of their last job or "
                                         "training (graduates count from the month they start looking)"),
            "ww_short": r.declare("labour", "ww_short", ms, "persons", doc="job seekers on WW for < 6 months"),
            "hires": r.declare("labour", "hires", ms, "persons", doc="hires during the month"),
            "posted": r.declare("labour", "posted", ms, "persons", doc="vacancies opened during the month"),
            "separations": r.declare("labour", "separations", ms, "persons", doc="jobs ended during the month"),
            "adapted": r.declare("labour", "adapted", ms, "persons",
                                 doc="jobs employers organised away during the month (automation, reorganisation): "
                                     "hard-to-fill vacancies withdrawn, the demand path lowered by as much"),
            "exits": r.declare("labour", "exits", ms, "persons",
                               doc="jobs ended by leaving the labour force or the region: retirement, inactivity, "
                                   "death, out-migration, labour migrants and cross-border workers leaving "
                                   "(ROA's replacement demand, without job-to-job moves)"),
            "unmet_demand": r.declare("labour", "unmet_demand", ms, "persons",
                                      doc="vacancies open for the whole month: person-months of work wanted, not done"),
        }
        self.recent_job_seekers = np.zeros((12, N_SECTORS), dtype=np.int64)
        self.waiting = np.zeros(0, dtype=np.int64)  # school leavers not looking yet, at the last record
        self.recent_employed = np.zeros((12, N_SECTORS), dtype=np.int64)

    # --- state derived from persons -------------------------------------------------------
    def headcount(self) -> np.ndarray:
        """Jobs filled per (sector, work municipality): employed persons and BBL students."""
        pop = self.model.pop
        working = np.flatnonzero(((pop.status == Status.EMPLOYED) | (pop.status == Status.MBO_BBL))
                                 & (pop.work_municipality >= 0))
        return self.cells(working, in_region=True) + self.commuters_in

    def jobs_now(self) -> np.ndarray:
        """:meth:`headcount` now, for an event: the count kept by the monthly step while no other
        event has run since it (``head_stale``), else a recount. A copy: the caller may add to it."""
        return self.headcount() if self.head_stale else self.head.copy()

    def unemployed_looking(self, unemp: np.ndarray | None = None) -> np.ndarray:
        """The unemployed looking for work (graduates: once they start), in index order; among
        ``unemp`` (all the unemployed, if the caller has them) or found by a scan."""
        pop = self.model.pop
        unemp = np.flatnonzero(pop.status == Status.UNEMPLOYED) if unemp is None else unemp
        return unemp[pop.months_in_state[unemp] >= 0]

    def _is_unemployed(self, persons) -> np.ndarray:
        return self.model.pop.status[persons] == Status.UNEMPLOYED

    def cells(self, persons: np.ndarray, in_region: bool = False) -> np.ndarray:
        """Jobs in the region per (sector, work municipality) held by ``persons`` (all of whom
        work; those who work abroad hold none; ``in_region``: none of them works abroad)."""
        pop, n_m = self.model.pop, self.model.n_municipalities
        if not in_region:
            persons = persons[pop.work_municipality[persons] >= 0]
        # in the codes' own small integers (sector int8 × municipalities + int16): no widening copy
        cell = pop.sector[persons] * np.int16(n_m) + pop.work_municipality[persons]
        return np.bincount(cell, minlength=N_SECTORS * n_m).reshape(N_SECTORS, n_m)

    def initialise(self) -> None:
        """Open the base-year vacancies (the fitted mean rate, CBS's national profile over sectors
        times the region's fitted factors) and set targets = headcount + vacancies."""
        head = self.headcount()
        factor = np.array([self.cfg.vacancy_profile_factor[s] for s in SECTORS])
        rate = self.cfg.initial_vacancy_rate * self.model.data.labour.vacancy_profile * factor
        v = np.rint(head * rate[:, None]).astype(np.int64)
        # spread over ages as if each vacancy is filled with a constant monthly probability
        ages = np.arange(self.n_ages)
        weights = (1 - self.cfg.initial_vacancy_fill_rate) ** ages
        weights /= weights.sum()
        self.vacancies = _round_split(v, weights)
        self.base_target = (head + v).astype(float)
        # the base year's hard-to-fill vacancies per job, the reference of the BBL supervision effect
        htf = self.vacancies[..., self.cfg.hard_to_fill_months:].sum(axis=(1, 2))
        self.base_htf_share = htf / np.maximum(head.sum(1), 1)

    # --- monthly --------------------------------------------------------------------------
    def step(self, month: int) -> None:
        self.hires[:] = 0
        self.separations[:] = 0
        self.adapted[:] = 0
        self._retire(month)
        if self.head_stale:
            self.head = self.headcount()
            self.head_stale = False
        self._age_vacancies(month)
        joined = self._separate()
        self._post_vacancies(month)
        # every unemployed person (looking or not yet), kept from the month's record to here and
        # from here to the record (Population.tracked): those at the month's end still unemployed
        # and those who joined (a retiree may have come back, one laid off gone inactive)
        unemp = self.model.pop.tracked("unemployed", self._is_unemployed, added=joined)
        # found once for the month's hiring: cross-border hires take some of them, then residents match
        looking = self.unemployed_looking(unemp)
        key = self.search_key(looking)  # their rows of the search tables, for both hiring steps
        self.model.labour_supply.monthly(month, looking, key)  # cross-border hires, participation
        self._match(looking, key)
        self._update_benefits(joined)

    def _retire(self, month: int) -> None:
        """Workers and job seekers retiring this year leave the labour force in their month
        (``retire_month``, drawn each January by the demography: everyone in the last year before
        the pension age, who leave the population next January, and earlier retirees)."""
        pop = self.model.pop
        who = np.flatnonzero(pop.retire_month == month % 12)
        who = who[(pop.status[who] == Status.EMPLOYED) | (pop.status[who] == Status.UNEMPLOYED)]
        working = who[pop.status[who] == Status.EMPLOYED]
        self.separations += np.bincount(pop.sector[working], minlength=N_SECTORS)
        jobs = self.cells(working)  # their jobs in the region (those working abroad hold none here)
        self.head -= jobs
        self.exits += jobs.sum(1)
        pop.status[who] = Status.INACTIVE
        pop.work_municipality[who] = -1
        pop.benefit[who] = Benefit.NONE
        pop.benefit_months[who] = 0
        pop.months_in_state[who] = 0
        pop.retire_month[who] = -1

    def _age_vacancies(self, month: int) -> None:
        """Vacancies get a month older (those in the last bucket stay there: still unmet demand).
        Employers organise a share ``adaptation_rate`` of their hard-to-fill vacancies away each
        month: the work is automated or reorganised, so the demand path drops by as much."""
        v = self.vacancies
        htf = self.cfg.hard_to_fill_months
        adapt = self.rng_vac.binomial(v[..., htf:], self.adaptation_rate[:, None, None])
        v[..., htf:] -= adapt
        adapted = adapt.sum(-1)
        last = v[..., -1] + v[..., -2]
        v[..., 1:-1] = v[..., :-2].copy()
        v[..., -1] = last
        v[..., 0] = 0
        self.base_target -= adapted / self.model.demand_index[month][:, None]
        self.adapted += adapted.sum(1)

    def _separate(self) -> np.ndarray:
        """Separations and the flows between unemployment and inactivity; returns those who became
        unemployed (laid off, or inactive who look for work again; some laid off may have gone on
        to inactivity in the same month)."""
        pop, cfg, rng = self.model.pop, self.cfg, self.rng_sep
        p_leave = cfg.layoff_rate + cfg.to_inactive_rate
        separation_factor = self.model.hooks.labour.separation_factor
        p_max = p_leave * separation_factor.max()
        cand = bernoulli_subset(rng, pop.n, p_max)
        cand = cand[pop.status[cand] == Status.EMPLOYED]
        with np.errstate(divide="ignore", invalid="ignore"):  # factor 0 (a lever): u = inf, nobody leaves
            u = rng.random(cand.size) * p_max / separation_factor[pop.sector[cand]]
        leaving = np.flatnonzero(u < p_leave)
        cand, u = cand[leaving], u[leaving]
        laid = u < cfg.layoff_rate
        laid_off, to_inactive = cand[laid], cand[~laid]
        self.separations += np.bincount(pop.sector[cand], minlength=N_SECTORS)
        self.head -= self.cells(cand)
        gone = rng.binomial(self.commuters_in, p_leave * separation_factor[:, None])  # cross-border workers leave
        self.commuters_in -= gone
        self.head -= gone
        self.separations += gone.sum(1)
        self.exits += gone.sum(1) + self.cells(to_inactive).sum(1)
        pop.status[laid_off] = Status.UNEMPLOYED
        pop.benefit[laid_off] = Benefit.UWV
        pop.benefit_months[laid_off] = 0
        pop.status[to_inactive] = Status.INACTIVE
        pop.work_municipality[cand] = -1
        pop.months_in_state[cand] = 0
        # flows between unemployment and inactivity: the inactive below seek_max_age look for work
        # again (seek_rates), more often when the region's V/U is above the base year's
        # (participation responds)
        p_seek = np.minimum(self.seek_rate * self.vu_ratio() ** cfg.participation_elasticity, 1.0)
        p_max = max(cfg.unemployed_to_inactive, p_seek.max())
        cand = bernoulli_subset(rng, pop.n, p_max)
        status = pop.status[cand]
        u = rng.random(cand.size) * p_max
        leave = cand[(status == Status.UNEMPLOYED) & (u < cfg.unemployed_to_inactive)]
        seek = cand[(status == Status.INACTIVE) & (u < p_seek[pop.age[cand]])]
        pop.status[leave] = Status.INACTIVE
        pop.status[seek] = Status.UNEMPLOYED
        pop.months_in_state[leave] = 0
        pop.months_in_state[seek] = 0
        return np.concatenate([laid_off, seek])

    def target(self, month: int) -> np.ndarray:
        return self.base_target * self.model.demand_index[month][:, None]

    def _post_vacancies(self, month: int) -> None:
        gap = self.target(month) - self.head - self.vacancies.sum(-1)
        post = np.rint(np.maximum(gap, 0)).astype(np.int64)
        withdraw = np.rint(np.maximum(-gap, 0)).astype(np.int64)
        self.vacancies[..., 0] += post
        self.posted = post.sum(1)
        self.vacancies = remove_from_buckets(self.vacancies, withdraw, oldest_first=False)

    def search_type(self, persons: np.ndarray) -> np.ndarray:
        """Each person's row of ``search_pairs``: the row of their qualification's field, averaged
        with that of their last job's sector when it differs; persons with neither search like the
        region's job mix (the last row)."""
        pop = self.model.pop
        # one gather from the table of every (qualification, last sector) pair, the codes shifted
        # by one so that "none" (-1) is 0
        pair = (pop.qual_sector[persons].astype(np.int16) + 1) * (N_SECTORS + 1) + pop.sector[persons]
        return _SEARCH_TYPE[pair + 1]

    def search_weights(self, persons: np.ndarray) -> np.ndarray:
        """(persons × sectors) share of each person's search in each sector (see :meth:`search_type`)."""
        return self.search_pairs[self.search_type(persons)]

    def search_table(self, per_home: np.ndarray) -> np.ndarray:
        """Search weighted by home: a table over (search type, home municipality) of the search rows
        times ``per_home`` ((homes × sectors) or (homes,)); :meth:`search_key` gives each person's
        row. The same products as computing them person by person, for a fraction of the work."""
        per_home = per_home if per_home.ndim == 2 else per_home[:, None]
        return (self.search_pairs[:, None, :] * per_home[None, :, :]).reshape(-1, N_SECTORS)

    def search_key(self, persons: np.ndarray) -> np.ndarray:
        """Each person's row of a :meth:`search_table`: (search type, home municipality)."""
        return self.search_type(persons) * self.model.n_municipalities + self.model.pop.municipality[persons]

    def _match(self, looking: np.ndarray, looking_key: np.ndarray) -> None:
        """Residents find jobs: the unemployed of ``looking`` still unemployed, and on-the-job seekers."""
        pop, cfg, rng = self.model.pop, self.cfg, self.rng_match
        n_m = self.model.n_municipalities
        still = pop.status[looking] == Status.UNEMPLOYED  # not hired abroad meanwhile
        unemp = looking[still]
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
        # effective search per (search type, home): the search rows times the access from home
        table = self.search_table(access.T)
        key = np.concatenate([looking_key[still], self.search_key(on_job)])
        n_row, s_eff = search_by_row(table, key)
        alpha = cfg.matching_elasticity
        with np.errstate(divide="ignore", invalid="ignore"):
            efficiency = cfg.matching_efficiency * self.model.hooks.labour.matching_factor
            m = efficiency * s_eff**alpha * v_sector ** (1 - alpha)
            m = np.minimum(m, v_sector)
            rate = np.where(s_eff > 0, m / s_eff, 0.0)
        # only the rows some seeker has: the table's rows renumbered
        used = np.flatnonzero(n_row)
        renumber = np.zeros(n_row.size, dtype=np.intp)
        renumber[used] = np.arange(used.size)
        key = renumber[key]
        p = table[used] * rate[None, :]
        # search takes time: nobody finds work faster than the cap (entrants: school leavers under
        # 27 in their first year of looking, who often have a job lined up, have their own cap)
        entrant = (pop.age[seekers] < cfg.entrant_max_age) & (pop.months_in_state[seekers] < 12)
        total = p.sum(1)
        cum = []
        for cap in (cfg.max_job_finding_rate, cfg.entrant_job_finding_rate):  # per table row and cap
            q = p.copy()
            over = total > cap
            q[over] *= (cap / total[over])[:, None]
            cum.append(np.cumsum(q, axis=1))
        cum = np.concatenate(cum)
        # each seeker's sector: the first whose cumulative probability exceeds their draw; no sector
        # (no job this month) when the draw is at least their row's total (its last cumulative sum)
        row = key + entrant * used.size
        u = rng.random(seekers.size)
        hit = np.flatnonzero(u < cum[row, -1])  # positions: several gathers by one mask
        row, u = row[hit], u[hit]
        sector = (u[:, None] >= cum[row]).sum(1)
        who, home = seekers[hit], home[hit]
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
        keep = np.flatnonzero(first_within_capacity(rng, cell, v_cell.ravel()))
        who, sector, work, cell = who[keep], sector[keep], work[keep], cell[keep]
        movers = who[pop.status[who] == Status.EMPLOYED]
        self.separations += np.bincount(pop.sector[movers], minlength=N_SECTORS)
        self.head -= self.cells(movers)
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

    def _update_benefits(self, joined: np.ndarray) -> None:
        """WW lasts ww_months; then a share of those still without work move to bijstand.
        ``joined``: the month's newly unemployed, among whom are all who got WW this month (those
        on WW are kept from month to month, as the unemployed are). The bijstand stock's other
        flows come each January (:meth:`bijstand_january`)."""
        pop = self.model.pop
        mcfg = self.model.cfg.model.municipality
        on_ww = pop.tracked("on_ww", lambda i: pop.benefit[i] == Benefit.UWV, added=joined)
        pop.benefit_months[on_ww] += 1
        expired = on_ww[pop.benefit_months[on_ww] >= mcfg.ww_months]
        to_bijstand = self.rng_benefit.random(expired.size) < mcfg.bijstand_share
        pop.benefit[expired] = np.where(to_bijstand, Benefit.MUNICIPALITY, Benefit.NONE)
        pop.benefit_months[expired] = 0

    def bijstand_january(self) -> None:
        """The bijstand stock's flows besides WW's end and finding work (ODD §7.9), each January
        before the municipalities buy training: clients who have reached the pension age leave
        (AOW), the others leave for other reasons (a partner's income, another benefit, moving)
        with probability ``bijstand_other_exit_rate``; then residents of working age without work,
        study or benefit enter, as many as bring the stock to the region's base-year share of the
        residents 18 to the pension age (``region.social_assistance_share``; the national stock
        held at 408–447 thousand in 2013–2021 through slack and tight labour markets, so the share
        is taken as structural). Without the entries the stock drained to a quarter in 20 years
        (nobody entered but from WW), and with it the municipalities' training bought from the mbo."""
        pop = self.model.pop
        mcfg = self.model.cfg.model.municipality
        pension = self.model.cfg.model.population.pension_age
        clients = np.flatnonzero(pop.benefit == Benefit.MUNICIPALITY)
        aged = pop.age[clients] >= pension
        pop.benefit[clients[aged]] = Benefit.NONE
        clients = clients[~aged]
        leave = bernoulli_subset(self.rng_benefit, clients.size, mcfg.bijstand_other_exit_rate)
        pop.benefit[clients[leave]] = Benefit.NONE
        adults = np.count_nonzero((pop.age >= 18) & (pop.age < pension))
        target = int(round(self.model.cfg.region.social_assistance_share * adults))
        new = uniform_subset_where(
            self.rng_benefit, pop.n, target - (clients.size - leave.size),
            lambda i: (pop.age[i] >= 18) & (pop.age[i] < pension) & self._without_work_or_benefit(i),
            ELIGIBLE_GUESS)
        pop.benefit[new] = Benefit.MUNICIPALITY

    def _without_work_or_benefit(self, i) -> np.ndarray:
        """Unemployed or inactive (not in education, not working) and on no benefit."""
        pop = self.model.pop
        status = pop.status[i]
        return ((status == Status.UNEMPLOYED) | (status == Status.INACTIVE)) & (pop.benefit[i] == Benefit.NONE)

    def record_exits(self, persons: np.ndarray) -> None:
        """Count the jobs in the region of ``persons`` who are about to leave the population
        (January: death, out-migration, labour migrants returning) as exits."""
        pop = self.model.pop
        holds = ((pop.status[persons] == Status.EMPLOYED) | (pop.status[persons] == Status.MBO_BBL)) \
            & (pop.work_municipality[persons] >= 0)
        self.exits += self.cells(persons[holds], in_region=True).sum(1)

    # --- measures -------------------------------------------------------------------------
    def hard_to_fill(self) -> np.ndarray:
        return self.vacancies[..., self.cfg.hard_to_fill_months :].sum(axis=(1, 2))

    def bbl_places(self, head: np.ndarray | None = None) -> np.ndarray:
        """BBL places employers offer per sector this school year (persons at model scale): jobs
        × ``bbl_places_per_100_jobs`` / 100 × :meth:`bbl_place_response` × the levers' factor.
        ``head``: the current jobs per (sector, work municipality), if the caller has them."""
        head = self.headcount() if head is None else head
        per_job = self.cfg.bbl_places_per_100_jobs / 100
        factor = self.model.hooks.labour.bbl_place_factor
        return np.rint(head.sum(1) * per_job * self.bbl_place_response(head) * factor).astype(np.int64)

    def bbl_place_response(self, head: np.ndarray | None = None) -> np.ndarray:
        """Per sector: BBL places per job relative to the base year, the job-weighted mean over its
        employers (sector × work municipality) of

        (1 + β h₀) / (1 + β h) × (D[t] / D[t − 12])^γ × recession cut,

        with h the employer's hard-to-fill vacancies per job, h₀ the sector's in the base year, β
        ``bbl_supervision_elasticity`` (short-staffed employers lack time to supervise), D the
        sector's demand index and γ ``bbl_cycle_elasticity`` (the cycle; 1 in the base year).
        Adults' BBL entry follows it too (their job must offer the place). ``head``: the current
        jobs per (sector, work municipality), if the caller has them."""
        cfg, model = self.cfg, self.model
        head = self.headcount() if head is None else head
        month = model.month_index
        d = model.demand_index
        growth = d[month] / d[month - 12] if month >= 12 else np.ones(N_SECTORS)
        cycle = bbl_place_index(model.cfg.economy, model.year) * growth**cfg.bbl_cycle_elasticity
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(head > 0, self.vacancies[..., cfg.hard_to_fill_months:].sum(-1) / head, 0.0)
            beta = cfg.bbl_supervision_elasticity
            supervision = (1 + beta * self.base_htf_share[:, None]) / (1 + beta * h)
            mean = np.where(head.sum(1) > 0, (head * supervision).sum(1) / head.sum(1), 1.0)
        return mean * cycle

    def vacancy_rate_ratio(self) -> np.ndarray:
        """Per sector: vacancies per job over the last 12 months ÷ the base year's (1 before the
        base year is complete), within [1/cap, cap]: the tightness employers feel."""
        cap = self.cfg.tightness_response_cap
        if not self.base_vacancy_rate.any():
            return np.ones(N_SECTORS)
        rate = self.recent_vacancies.sum(0) / np.maximum(self.recent_employed.sum(0), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.base_vacancy_rate > 0, rate / self.base_vacancy_rate, 1.0)
        return np.clip(ratio, 1 / cap, cap)

    def vu_ratio(self) -> float:
        """The region's vacancies per unemployed over the last 12 months ÷ the base year's,
        within [1/cap, cap] (1 before the base year is complete)."""
        cap = self.cfg.tightness_response_cap
        if self.base_vu <= 0:
            return 1.0
        vu = self.recent_vacancies.sum() / max(self.recent_job_seekers.sum(), 1)
        return float(np.clip(vu / self.base_vu, 1 / cap, cap))

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
        # looking (graduates: once they start); those not looking yet are kept for the status counts
        unemp = pop.tracked("unemployed", self._is_unemployed)  # the step's, less those hired since
        started = pop.months_in_state[unemp] > 0
        self.waiting = unemp[~started]
        unemp = unemp[started]
        m["job_seekers"][month] = pop.count("sector", N_SECTORS, where=unemp)
        short_ww = unemp[(pop.benefit[unemp] == Benefit.UWV) & (pop.benefit_months[unemp] < 6)]
        m["ww_short"][month] = pop.count("sector", N_SECTORS, where=short_ww)
        m["hires"][month] = self.hires
        m["posted"][month] = self.posted
        m["separations"][month] = self.separations
        m["adapted"][month] = self.adapted
        m["unmet_demand"][month] = self.vacancies[..., 1:].sum(axis=(1, 2))
        m["exits"][month] = self.exits
        self.exits[:] = 0
        self.recent_vacancies[month % 12] = m["vacancies"][month]
        self.recent_ww_short[month % 12] = m["ww_short"][month]
        self.recent_job_seekers[month % 12] = m["job_seekers"][month]
        self.recent_employed[month % 12] = m["employed"][month]
        if month == 11:  # the base year is complete: the reference of every tightness response
            self.base_vacancy_rate = self.recent_vacancies.sum(0) / np.maximum(self.recent_employed.sum(0), 1)
            self.base_vu = self.recent_vacancies.sum() / max(self.recent_job_seekers.sum(), 1)


def _search_types() -> np.ndarray:
    """The row of ``search_pairs`` for every (qualification field + 1, last sector + 1) pair,
    flattened (see :meth:`LabourMarket.search_type`)."""
    qs, ls = np.divmod(np.arange((N_SECTORS + 1) ** 2), N_SECTORS + 1)
    qs, ls = qs - 1, ls - 1
    a = np.where(qs >= 0, qs, np.where(ls >= 0, ls, N_SECTORS))
    b = np.where(ls >= 0, ls, a)
    return (a * (N_SECTORS + 1) + b).astype(np.intp)


_SEARCH_TYPE = _search_types()


def _round_split(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer totals over the last axis by weights, keeping the totals exact."""
    cum = np.rint(np.cumsum(weights) * total[..., None]).astype(np.int64)
    out = np.diff(cum, axis=-1, prepend=0)
    return out


def seek_rates(pcfg, lcfg, rcfg) -> np.ndarray:
    """Per single year of age, the monthly probability that an inactive person starts looking
    for work at the base year's tightness: the rate that balances the flows into inactivity
    (``to_inactive_rate`` of the employed, ``unemployed_to_inactive`` of the unemployed) at the
    base year's shares by age (:func:`~sim.cohorts.base_status_rates`), so that
    participation stays the base year's unless tightness changes (ODD, Participation). 0 from
    ``seek_max_age`` on."""
    e, u = base_status_rates(pcfg, rcfg)
    inactive = 1 - e - u
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(inactive > 0, (lcfg.to_inactive_rate * e + lcfg.unemployed_to_inactive * u) / inactive, 0.0)
    rate[lcfg.seek_max_age:] = 0.0
    return np.minimum(rate, 1.0)
