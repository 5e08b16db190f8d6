"""Demography: the base-year population, and each January ageing, retirement, mortality,
net migration and the new 15-year-old cohort.

The 2021 age bands (CBS 83502NED) are spread smoothly over single years of age
(:func:`sim.cohorts.spread_bands`) and rounded so that every municipality's total is kept. The
0-14-year-olds of 2021 are the 15-year-olds of 2022-2036: those cohorts are data. Later cohorts
follow the demography scenario's annual change.
The base population of ``start_year`` is the 2021 population aged forward (no mortality or
migration before the start: a stated simplification, see docs/ODD.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.population import FIELDS, Population
from sim.codes import ENTRY_REASONS, EXIT_REASONS, N_SECTORS, N_STATUS, UNSET, Benefit, Status
from sim.cohorts import (
    DATA_YEAR,
    MAX_AGE,
    band_rates,
    base_status_rates,
    cumulative_round,
    single_year_table,
    stationary_youth,
)
from sim.sampling import count_at_most, thinned_subset

if TYPE_CHECKING:
    from sim.model import RegionModel

ENTRY_AGE = 15
AGE_CODES = np.arange(np.iinfo(FIELDS["age"][0]).max + 1)  # every value Population.age can hold: per-age tables


def age_bands(pension_age: int) -> tuple[np.ndarray, list[str]]:
    """Map each age (0..pension_age) to a 5-year band from 15; returns (band per age, labels)."""
    edges = list(range(15, pension_age, 5))
    labels = [f"{lo}-{min(lo + 4, pension_age - 1)}" for lo in edges]
    band = np.zeros(pension_age + 1, dtype=np.int64)
    for i, lo in enumerate(edges):
        band[lo : lo + 5] = i
    return band, labels


def cohort_ratio(by_age: np.ndarray, growth: float, source_year: int, target_year: int,
                 ages: tuple[int, int] = (16, 22)) -> float:
    """Persons aged ``ages`` in ``target_year`` relative to ``source_year``, from the 2021
    single-year counts ``by_age`` (ages 0..99) aged forward without deaths or migration; cohorts
    born after the data (younger than 0 in 2021) follow the age-0 cohort with ``growth`` a year,
    as the model's new 15-year-olds do (:meth:`Demography.cohort`)."""

    def aged(year: int) -> float:
        age_2021 = np.arange(ages[0], ages[1] + 1) - (year - DATA_YEAR)
        known = by_age[np.maximum(age_2021, 0)].astype(float)
        later = by_age[0] * (1 + growth) ** np.maximum(-age_2021, 0).astype(float)
        return float(np.where(age_2021 >= 0, known, later).sum())

    return aged(target_year) / aged(source_year)


class Demography:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        cfg = model.cfg
        self.pcfg = cfg.model.population
        self.table = single_year_table(model.data.population_bands, cfg.scale)  # ages in 2021
        if cfg.demography.stationary:
            self.table = stationary_youth(self.table, cfg.demography.stationary_ages)
        self.rng = model.streams["demography"]
        self.mortality_factor = cfg.demography.mortality_factor
        rates = band_rates(dict(self.pcfg.net_migration))
        d = cfg.demography
        self.migration = np.where(rates < 0, rates * d.out_migration_factor, rates * d.in_migration_factor)
        self.growth_after = cfg.demography.cohort_growth_after_data
        self.band_of_age, self.band_labels = age_bands(self.pcfg.pension_age)
        self.retire_p = self.retirement_probability()
        r = model.results
        r.add_dim("age_band", len(self.band_labels), {"age_band": np.asarray(self.band_labels, dtype=object)})
        # entries and exits by reason, per month (persons at model scale)
        self.entries = {reason: r.declare("demography", f"entries_{reason}", ("month",), "persons")
                        for reason in ENTRY_REASONS}
        self.exits = {reason: r.declare("demography", f"exits_{reason}", ("month",), "persons")
                      for reason in EXIT_REASONS}
        self.persons = r.declare("demography", "persons_month_end", ("month_end",), "persons",
                                 doc="residents at the end of each month; [0] = at the start")
        self.status_counts = r.declare("demography", "status_counts", ("month", "status"), "persons",
                                       doc="residents by status at the end of each month")
        self.population = r.declare("demography", "persons", ("year", "municipality", "age_band", "status"),
                                    "persons", doc="residents at the end of January")

    def students_factor(self) -> float:
        """The institutions' students of ``region.enrolment_source_year`` carried to ``start_year``
        in proportion to the 16-22-year-olds (of this model's population: under a stationary
        demography the factor is 1)."""
        cfg = self.model.cfg
        return cohort_ratio(self.table.sum(0), self.growth_after, cfg.region.enrolment_source_year, cfg.start_year)

    # --- inputs -----------------------------------------------------------------------------
    def cohort(self, year: int) -> np.ndarray:
        """15-year-olds entering per municipality on 1 January of ``year`` (model scale)."""
        age_2021 = ENTRY_AGE - (year - DATA_YEAR)
        if age_2021 >= 0:
            return self.table[:, age_2021].copy()
        last = self.table[:, 0].astype(float)
        return cumulative_round(last * (1 + self.growth_after) ** (-age_2021))

    def mortality(self, age: np.ndarray) -> np.ndarray:
        """Annual death probability: Gompertz curve through q(50) (CBS life table, see config)."""
        q = self.pcfg.mortality_q50 * np.exp(self.pcfg.mortality_slope * (age.astype(float) - 50))
        return np.clip(q * self.mortality_factor, 0.0, 1.0)

    def population_75plus(self, years: np.ndarray) -> np.ndarray:
        """Region's 75+ population per year from the 2021 table aged forward with mortality."""
        ages = np.arange(MAX_AGE)
        counts = self.table.sum(0).astype(float)
        out = []
        for y in years:
            k = int(y - DATA_YEAR)
            surv = np.ones(MAX_AGE)
            for step in range(k):
                surv *= 1 - self.mortality(ages + step)
            aged = ages + k
            out.append(float((counts * surv)[aged >= 75].sum()))
        return np.asarray(out)

    # --- base year --------------------------------------------------------------------------
    def build_population(self) -> Population:
        """Residents aged 15 up to the pension age in ``start_year``: ages, homes and aptitude."""
        model = self.model
        shift = model.cfg.start_year - DATA_YEAR
        ages = np.arange(ENTRY_AGE, self.pcfg.pension_age)
        # ages in 2021; those born after the 2021 data (start years after 2036) are the cohorts
        # that enter at 15 after the data, as in January of each year (no deaths before the start)
        counts = np.stack([self.table[:, a - shift] if a >= shift else self.cohort(model.cfg.start_year - a + ENTRY_AGE)
                           for a in ages], axis=1)  # (M, n_ages)
        n = int(counts.sum())
        pop = Population(0)
        m_idx, a_idx = np.nonzero(counts)
        reps = counts[m_idx, a_idx]
        pop.append(
            n,
            age=np.repeat(ages[a_idx], reps),
            municipality=np.repeat(m_idx, reps),
            status=UNSET,
        )
        rng = model.streams["init.population"]
        pop.aptitude[:] = self.draw_aptitude(rng, n)
        pop.status[pop.age < model.cfg.model.education.vo_leave_age] = Status.SCHOOL
        self.draw_retire_months(pop, rng)
        return pop

    def retirement_probability(self) -> np.ndarray:
        """Per age a: the probability of leaving the labour force in the month one reaches a + 1.
        1 in the last year before the pension age; from ``retirement_from_age`` on, 1 − e(a+1)/e(a)
        where the base year's employment rate e falls from a to a + 1, so that the age profile
        of employment stays the base year's instead of drifting to full employment up to the
        pension age (ODD, Retirement); 0 elsewhere."""
        e = band_rates(dict(self.pcfg.employment_rate_by_age))
        p = np.zeros(MAX_AGE + 1)
        a = np.arange(self.pcfg.retirement_from_age - 1, self.pcfg.pension_age - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            p[a] = np.where(e[a] > 0, np.clip(1 - e[a + 1] / e[a], 0, 1), 0)
        p[self.pcfg.pension_age - 1] = 1.0
        return p

    def draw_retire_months(self, pop: Population, rng: np.random.Generator) -> None:
        """Each year, who leaves the labour force in the month they reach their next age (a
        birthday, uniform over the year), not all in January (sim.processes.labour): everyone in
        the last year before the pension age, and earlier retirees (:meth:`retirement_probability`)."""
        pop.retire_month[:] = -1
        p = self.retire_p[np.minimum(AGE_CODES, MAX_AGE)]  # per age code, then gathered: the same values
        who = np.flatnonzero((p > 0)[pop.age])
        who = who[rng.random(who.size) < p[pop.age[who]]]
        pop.retire_month[who] = rng.integers(0, 12, size=who.size)

    def draw_aptitude(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shares = np.asarray(self.model.cfg.model.education.aptitude_level_shares)
        return rng.choice(np.arange(1, 5), size=n, p=shares / shares.sum()).astype(np.int8)

    def assign_adult_states(self, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Give persons without a status (past secondary school, not in mbo) one: other
        education, employed, unemployed or inactive by age; a sector, workplace, qualification
        and benefit to match."""
        model, pop = self.model, self.model.pop
        ecfg, rcfg = model.cfg.model.education, model.cfg.region
        age = pop.age[idx]
        u = rng.random(idx.size)
        oe_rate = band_rates(dict(ecfg.initial_other_education_rate_by_age))[age]
        in_oe = u < oe_rate
        oe = idx[in_oe]
        pop.status[oe] = Status.OTHER_EDUCATION
        pop.study_year[oe] = np.clip(pop.age[oe] - ecfg.vo_leave_age, 0, ecfg.other_education_years - 1)
        rest, age = idx[~in_oe], age[~in_oe]
        e, p_unemp = (r[age] for r in base_status_rates(self.pcfg, rcfg))
        u = rng.random(rest.size)
        employed = rest[u < e]
        unemployed = rest[(u >= e) & (u < e + p_unemp)]
        inactive = rest[u >= e + p_unemp]
        pop.status[employed] = Status.EMPLOYED
        pop.status[unemployed] = Status.UNEMPLOYED
        pop.status[inactive] = Status.INACTIVE
        shares = model.data.employment_shares
        working = np.concatenate([employed, unemployed])
        pop.sector[working] = rng.choice(N_SECTORS, size=working.size, p=shares)
        # workplace: municipalities weighted by population and commuting distance
        w = model.labour.commute_weight * model.municipality_population[None, :]
        cum = np.cumsum(w, axis=1)
        cum /= cum[:, -1:]
        home = pop.municipality[employed]
        pop.work_municipality[employed] = np.minimum(
            count_at_most(cum, home, rng.random(employed.size)), model.n_municipalities - 1
        )
        # qualification: level by adult shares (none before 18), sector mostly the job's
        adults = idx[pop.age[idx] >= 18]
        adults = adults[pop.status[adults] != Status.OTHER_EDUCATION]
        level_shares = np.asarray(self.pcfg.level_shares_adults)
        pop.qual_level[adults] = rng.choice(6, size=adults.size, p=level_shares / level_shares.sum())
        own = rng.random(adults.size) < self.pcfg.qualified_in_own_sector
        has_sector = pop.sector[adults] >= 0
        pop.qual_sector[adults] = np.where(
            own & has_sector, pop.sector[adults], rng.choice(N_SECTORS, size=adults.size, p=shares)
        )
        pop.qual_sector[adults[pop.qual_level[adults] == 0]] = -1
        # benefits: the unemployed on WW or bijstand; bijstand among the inactive of working age
        # (18 to the pension age) to the base share (each January's flows keep it there, §7.9)
        mcfg = model.cfg.model.municipality
        on_ww = rng.random(unemployed.size) < mcfg.initial_ww_share
        pop.benefit[unemployed] = np.where(on_ww, Benefit.UWV, Benefit.MUNICIPALITY)
        pop.benefit_months[unemployed] = rng.integers(0, mcfg.ww_months, size=unemployed.size)
        pension = self.pcfg.pension_age
        working_age = (pop.age[idx] >= 18) & (pop.age[idx] < pension)
        target = rcfg.social_assistance_share * np.count_nonzero(working_age)
        need = int(max(0, round(target - np.count_nonzero(pop.benefit[idx] == Benefit.MUNICIPALITY))))
        cand = inactive[(pop.age[inactive] >= 18) & (pop.age[inactive] < pension)]
        if cand.size:
            pop.benefit[rng.choice(cand, size=min(need, cand.size), replace=False)] = Benefit.MUNICIPALITY

    # --- results ----------------------------------------------------------------------------
    def record_start(self) -> None:
        self.persons[0] = self.model.pop.n

    def record_month(self, month: int) -> None:
        """Residents at the end of the month; by home, age band and status at the end of January.
        School leavers who have not started looking yet (status unemployed, ``months_in_state`` ≤ 0
        at the month's end: their search starts later, §7.8) count as inactive: without work and
        not looking, as CBS counts them; the job seekers of the labour table use the same rule
        (``LabourMarket.record_month``, just before, finds them)."""
        pop = self.model.pop
        self.persons[month + 1] = pop.n
        # a count per status: several times faster than bincount, which widens the int8 codes first
        counts = [np.count_nonzero(pop.status == k) for k in range(N_STATUS)]
        waiting = self.model.labour.waiting
        counts[Status.UNEMPLOYED] -= waiting.size
        counts[Status.INACTIVE] += waiting.size
        self.status_counts[month] = counts
        if month % 12 == 0:
            n_m, n_b = self.model.n_municipalities, len(self.band_labels)
            status = pop.status.copy()
            status[waiting] = Status.INACTIVE
            key = (pop.municipality.astype(np.int64) * n_b + self.band_of_age[pop.age]) * N_STATUS + status
            self.population[month // 12] = np.bincount(key, minlength=n_m * n_b * N_STATUS).reshape(
                n_m, n_b, N_STATUS
            )

    # --- each January -----------------------------------------------------------------------
    def _age_home_key(self, age: np.ndarray, municipality: np.ndarray) -> np.ndarray:
        """Each person's cell of an (age × home municipality) table, flattened."""
        return age.astype(np.int64) * self.model.n_municipalities + municipality

    def january(self) -> None:
        model, pop, rng = self.model, self.model.pop, self.rng
        month = model.month_index
        pop.age += 1
        pension = self.pcfg.pension_age
        gone = pop.age >= pension  # retirement; then deaths and out-migration among the others
        self.exits["retirement"][month] = np.count_nonzero(gone)
        # each person with their age's probability, drawn by thinning (sim.sampling): only the few
        # candidates get a second draw (those at the pension age retire: probability 0 here)
        below = AGE_CODES < pension
        die_p = np.where(below, self.mortality(AGE_CODES), 0.0)
        # out-migration where the age's net rate is negative (elsewhere nobody leaves)
        leave_p = np.where(below, np.clip(-self.migration[np.minimum(AGE_CODES, MAX_AGE)], 0.0, 1.0), 0.0)
        die = thinned_subset(rng, pop.n, die_p.max(), lambda c: die_p[pop.age[c]])
        gone[die] = True
        leave = thinned_subset(rng, pop.n, leave_p.max(), lambda c: leave_p[pop.age[c]])
        leave = leave[~gone[leave]]
        gone[leave] = True
        self.exits["death"][month] = die.size
        # labour migrants going home are out-migration too: all leave in one removal
        home_again = model.labour_supply.departures(gone)
        self.exits["out_migration"][month] = leave.size + home_again.size
        model.labour.record_exits(np.flatnonzero(gone))
        # in-migration (where the age's net rate is positive) applies the net rates to the residents
        # after the year's exits but with the labour migrants who go home this January, whom the
        # register still counts: per age, and per (age, home) for the newcomers' homes
        n_m = model.n_municipalities
        ages = np.arange(ENTRY_AGE, self.pcfg.pension_age)
        migrants_key = self._age_home_key(pop.age[home_again], pop.municipality[home_again])
        pop.keep(~gone)
        cells = (MAX_AGE + 1) * n_m
        table = (np.bincount(self._age_home_key(pop.age, pop.municipality), minlength=cells)[:cells]
                 + np.bincount(migrants_key, minlength=cells)[:cells]).reshape(MAX_AGE + 1, n_m)
        expected = np.maximum(self.migration[ages], 0) * table[ages].sum(1)
        n_in = rng.poisson(expected)
        total_in = int(n_in.sum())
        if total_in:
            in_age = np.repeat(ages, n_in)
            # homes: where people of that age live now
            table = table[ages].astype(float)
            table += 1e-9
            cum = np.cumsum(table, axis=1)
            cum /= cum[:, -1:]
            home = (rng.random(total_in)[:, None] >= cum[in_age - ENTRY_AGE]).sum(1)
            new = pop.append(total_in, age=in_age, municipality=np.minimum(home, model.n_municipalities - 1),
                             status=UNSET)
            pop.aptitude[new] = self.draw_aptitude(rng, total_in)
            school = new[pop.age[new] < model.cfg.model.education.vo_leave_age]
            pop.status[school] = Status.SCHOOL
            self.assign_adult_states(new[pop.status[new] == UNSET], rng)
        self.entries["in_migration"][month] = total_in
        cohort = self.cohort(model.year)
        n_c = int(cohort.sum())
        new = pop.append(n_c, age=ENTRY_AGE, municipality=np.repeat(np.arange(cohort.size), cohort),
                         status=Status.SCHOOL)
        pop.aptitude[new] = self.draw_aptitude(rng, n_c)
        self.entries["cohort"][month] = n_c
        self.draw_retire_months(pop, rng)
