"""The model: one region, month by month (a ``mesa.Model``).

Wiring only: which processes exist, in what order they run each month, and which yearly events
are scheduled when (see :mod:`sim.calendar`). Persons are arrays (``model.pop``); institutions
and municipalities are Mesa agents (``model.agents_by_type``). Every random draw comes from a
per-process stream of ``model.streams``, all derived from the one seed. Policy levers change
only the knobs declared in ``model.hooks`` (:mod:`sim.hooks`) and schedule their own events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._mesa import Priority, Schedule, mesa
from sim.agents.organisations import MboInstitution, Municipality
from sim.calendar import APRIL, JANUARY, JULY, MONTHS_PER_YEAR, SEPTEMBER, month_index, start_of_month
from sim.codes import SECTORS, STATUS_NAMES, UNSET
from sim.config import Config, ConfigError
from sim.geography import travel_matrix
from sim.hooks import Hooks
from sim.io.loaders import RegionData, load_region
from sim.policies import build_policies
from sim.processes.demography import Demography
from sim.processes.economy import demand_index
from sim.processes.education import Education
from sim.processes.labour import LabourMarket, LabourSupply
from sim.processes.llo import Llo
from sim.processes.municipalities import TrainingPurchases
from sim.results import Results
from sim.streams import Streams


class RegionModel(mesa.Model):
    def __init__(self, cfg: Config, data: RegionData | None = None) -> None:
        super().__init__(rng=cfg.run_seed)
        self.cfg = cfg
        self.data = data if data is not None else load_region(cfg.region.name, cfg.data_dir)
        centre = cfg.region.centre_municipality
        if centre not in self.data.municipality_names:
            raise ConfigError(
                f"region.centre_municipality = {centre!r}: not a municipality of {cfg.region.label}; "
                f"allowed: {self.data.municipality_names}"
            )
        self.streams = Streams(cfg.run_seed)
        self._events: list = []  # the yearly and one-off event callbacks (see _event)
        self.n_years = cfg.years
        self.n_months = MONTHS_PER_YEAR * cfg.years
        muni = self.data.municipalities
        self.n_municipalities = len(muni)
        self.municipality_population = muni["population_2024"].to_numpy(dtype=float)
        names, travel = self.data.municipality_names, cfg.model.travel
        # commuting (municipality × municipality) by the adults' mode
        self.travel_mm = travel_matrix(self.data.travel, self.data.site_coordinates, names, names, travel.adult_mode,
                                       travel)
        self.results = Results(cfg.scale)
        self._declare_dimensions()

        self.labour = LabourMarket(self)
        self.labour_supply = LabourSupply(self)
        self.demography = Demography(self)
        self.education = Education(self)
        self.hooks = Hooks.neutral(self.education.programmes.n)
        self.llo = Llo(self)
        self.training = TrainingPurchases(self)
        years = np.arange(cfg.start_year, cfg.start_year + cfg.years + 1)
        self.pop75 = self.demography.population_75plus(years) / cfg.scale
        self.demand_index = demand_index(cfg.economy, cfg.start_year, self.n_months, self.pop75)

        # base year: who lives here, who studies what, who works where
        self.pop = self.demography.build_population()
        self.education.initialise_students()
        unset = np.flatnonzero(self.pop.status == UNSET)
        self.demography.assign_adult_states(unset, self.streams["init.adults"])
        self.labour_supply.initialise()
        self.labour.initialise()
        self.persons_start = self.pop.n
        self.demography.record_start()

        for i, name in enumerate(self.education.institution_names):
            MboInstitution(self, i, name)
        for i, name in enumerate(self.data.municipality_names):
            Municipality(self, i, name, name == centre)

        self.every_year(self.demography.january, JANUARY, first_year=1, priority=Priority.HIGH)
        self.every_year(self.labour_supply.january, JANUARY, first_year=1)
        self.every_year(self.labour.bijstand_january, JANUARY, keeps_jobs=True)  # before the purchases
        self.every_year(self.training.january, JANUARY)
        # these three keep the labour market's count of jobs current themselves (see _event)
        self.every_year(self._institutions_review, APRIL, keeps_jobs=True)
        self.every_year(self.education.end_of_school_year, JULY, keeps_jobs=True)
        self.every_year(self.education.intake_september, SEPTEMBER, keeps_jobs=True)

        self.policy_rows = self.results.declare_records("policies", "policy", ("year", "lever", "quantity", "value"))
        self.policies = build_policies(cfg.policy)
        for policy in self.policies:
            policy.attach(self)

    def _declare_dimensions(self) -> None:
        cfg, r = self.cfg, self.results
        dates = pd.date_range(f"{cfg.start_year}-01-01", periods=self.n_months, freq="MS")
        years = cfg.start_year + np.arange(self.n_years)
        r.add_dim("month", self.n_months, {"date": dates})
        r.add_dim("month_end", self.n_months + 1, {})
        r.add_dim("year", self.n_years, {"year": years})
        # a school year's arrays hold one more year (the intake of the year after the horizon is not reported)
        r.add_dim("school_year", self.n_years + 1, {"school_year": years}, n_export=self.n_years)
        r.add_dim("sector", len(SECTORS), {"sector": np.asarray(SECTORS, dtype=object)})
        r.add_dim("status", len(STATUS_NAMES), {"status": np.asarray(STATUS_NAMES, dtype=object)})
        r.add_dim("level", 5, {"level": np.arange(5)})  # 0 = any level, 1-4 = that mbo level
        names = np.asarray(self.data.municipality_names, dtype=object)
        r.add_dim("municipality", self.n_municipalities,
                  {"municipality": names, "centre": names == self.cfg.region.centre_municipality})

    # --- scheduling -----------------------------------------------------------------------------
    def every_year(self, fn, month_of_year: int, first_year: int = 0, priority=Priority.DEFAULT,
                   keeps_jobs: bool = False) -> None:
        """Run ``fn`` at the start of month ``month_of_year`` of every simulated year from ``first_year``
        (``keeps_jobs``: see :meth:`_event`)."""
        start = start_of_month(MONTHS_PER_YEAR * first_year + month_of_year)
        if start < self.n_months:
            self.schedule_recurring(self._event(fn, keeps_jobs), Schedule(interval=MONTHS_PER_YEAR, start=start),
                                    priority=priority)

    def _event(self, fn, keeps_jobs: bool = False):
        """``fn``, after which the labour market recounts its jobs: events other than the monthly step
        (January's exits and entries, levers) may move persons into or out of jobs. ``keeps_jobs``:
        ``fn`` moves nobody into or out of a counted job (the review, graduation: BBL students keep
        theirs), or updates ``labour.head`` itself (the intake's new BBL students); checked by
        ``tests/test_labour_market.py``. Mesa holds event callbacks by weak reference, so the model
        keeps the wrapper alive."""
        def event() -> None:
            fn()
            self.pop.forget()  # positions the processes remembered (Population.remember)
            if not keeps_jobs:
                self.labour.head_stale = True

        self._events.append(event)
        return event

    def every_month(self, fn, priority=Priority.LOW) -> None:
        """Run ``fn`` at the start of every month, after that month's yearly events (then,
        as after any event, the processes scan the persons anew: Population.forget)."""
        def monthly() -> None:
            fn()
            self.pop.forget()

        self._events.append(monthly)
        self.schedule_recurring(monthly, Schedule(interval=1, start=start_of_month(0)), priority=priority)

    def at_month(self, fn, month: int, priority=Priority.LOW) -> None:
        """Run ``fn`` once at the start of month ``month`` (months from January of start_year)."""
        if 0 <= month < self.n_months:
            self.schedule_event(self._event(fn), at=start_of_month(month), priority=priority)

    # --- calendar ---------------------------------------------------------------------------
    @property
    def month_index(self) -> int:
        """Months since January of start_year (0-based) of the month being processed."""
        return month_index(self.time)

    @property
    def year_index(self) -> int:
        return self.month_index // MONTHS_PER_YEAR

    @property
    def year(self) -> int:
        return self.cfg.start_year + self.year_index

    # --- monthly ----------------------------------------------------------------------------
    def step(self) -> None:
        month = self.steps - 1
        self.labour.step(month)
        self.llo.step(month)
        self.pop.months_in_state += 1
        self.labour.record_month(month)
        self.labour_supply.record_month(month)
        self.demography.record_month(month)

    def run(self) -> None:
        self.run_for(self.n_months)

    # --- yearly, through the agents -------------------------------------------------------------
    def _institutions_review(self) -> None:
        self.education.review()
