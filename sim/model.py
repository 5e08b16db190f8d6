"""The model: one region, month by month (a ``mesa.Model``).

Wiring only: which processes exist, in what order they run each month, and which yearly events
are scheduled when. Persons are arrays (``model.pop``); employers, institutions and
municipalities are Mesa agents (``model.agents_by_type``). Every random draw comes from a
per-process stream of ``model.streams``, all derived from the one seed.

Calendar: step ``t`` (model time t = 1, 2, …) is month ``t - 1`` counted from January of
``start_year``. Yearly events run at time ``12·k + m + 0.5``, i.e. at the start of month ``m`` of
year ``k`` before that month's step: January demography and municipal budgets, April
institution reviews, July end of the school year, September intake.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
from mesa.time import Priority, Schedule

from sim.agents.organisations import Employer, MboInstitution, Municipality
from sim.codes import N_SECTORS, Status
from sim.config import Config
from sim.geography import travel_minutes
from sim.io.loaders import RegionData, load_region
from sim.policies import build_policies
from sim.processes.demography import Demography
from sim.processes.economy import demand_index
from sim.processes.education import UNSET, Education
from sim.processes.labour import LabourMarket
from sim.processes.llo import Llo
from sim.results import Results
from sim.streams import Streams

JANUARY, APRIL, JULY, SEPTEMBER = 0, 3, 6, 8


class RegionModel(mesa.Model):
    def __init__(self, cfg: Config, data: RegionData | None = None) -> None:
        super().__init__(rng=cfg.run_seed)
        self.cfg = cfg
        self.data = data if data is not None else load_region(cfg.region.name, cfg.data_dir)
        self.streams = Streams(cfg.run_seed)
        self.n_years = cfg.years
        self.n_months = 12 * cfg.years
        muni = self.data.municipalities
        self.n_municipalities = len(muni)
        self.municipality_population = muni["population_2024"].to_numpy(dtype=float)
        centres = list(zip(muni["centre_lat"], muni["centre_lon"], strict=True))
        self.travel_mm = travel_minutes(centres, centres, cfg.model.travel)
        # hooks policies use to change decisions without touching the processes: a closure
        # handler gets the programmes of a failing opleiding and may take the closure over
        # (veto, bundle), returning (event, note); the procurement stance of municipalities
        self.closure_handlers: list = []
        self.procurement_mbo_share = cfg.model.municipality.mbo_procurement_share
        self.events: list[dict] = []
        self.policy_rows: list[dict] = []

        self.labour = LabourMarket(self)
        self.education = Education(self)
        self.demography = Demography(self)
        self.llo = Llo(self)
        years = np.arange(cfg.start_year, cfg.start_year + cfg.years + 1)
        self.pop75 = self.demography.population_75plus(years) / cfg.scale
        self.demand_index = demand_index(cfg.economy, cfg.start_year, self.n_months, self.pop75)

        # base year: who lives here, who studies what, who works where
        self.pop = self.demography.build_population()
        self.education.initialise_students()
        unset = np.flatnonzero(self.pop.status == UNSET)
        self.demography.assign_adult_states(unset, self.streams["init.adults"])
        self.labour.initialise()
        self.persons_start = self.pop.n

        for s in range(N_SECTORS):
            for m in range(self.n_municipalities):
                Employer(self, s, m)
        self.institutions = [MboInstitution(self, i, n) for i, n in enumerate(self.education.institution_names)]
        centre = cfg.region.centre_municipality
        if centre not in self.data.municipality_names:
            from sim.config import ConfigError

            raise ConfigError(
                f"region.centre_municipality = {centre!r}: not a municipality of {cfg.region.label}; "
                f"allowed: {self.data.municipality_names}"
            )
        for i, name in enumerate(self.data.municipality_names):
            Municipality(self, i, name, name == centre)

        self.results = Results(self)
        self.policies = build_policies(cfg.policy)
        for policy in self.policies:
            policy.attach(self)

        self._yearly(self.demography.january, JANUARY, first_year=1, priority=Priority.HIGH)
        self._yearly(self._municipalities_buy_training, JANUARY)
        self._yearly(self._institutions_review, APRIL)
        self._yearly(self.education.end_of_school_year, JULY)
        self._yearly(self.education.intake_september, SEPTEMBER)

    def _yearly(self, fn, month_of_year: int, first_year: int = 0, priority=Priority.DEFAULT) -> None:
        start = 12 * first_year + month_of_year + 0.5
        if start < self.n_months:
            self.schedule_recurring(fn, Schedule(interval=12, start=start), priority=priority)

    # --- calendar ---------------------------------------------------------------------------
    @property
    def month_index(self) -> int:
        """Months since January of start_year (0-based) of the month being processed."""
        return max(math.ceil(self.time) - 1, 0)

    @property
    def year_index(self) -> int:
        return self.month_index // 12

    @property
    def year(self) -> int:
        return self.cfg.start_year + self.year_index

    # --- monthly ----------------------------------------------------------------------------
    def step(self) -> None:
        month = self.steps - 1
        for policy in self.policies:
            policy.step(month)
        self.labour.step(month)
        self.llo.step(month)
        self.pop.months_in_state += 1
        self.results.record_month(month)

    def run(self) -> None:
        self.run_for(self.n_months)

    # --- yearly, through the agents -------------------------------------------------------------
    def _municipalities_buy_training(self) -> None:
        self.agents_by_type[Municipality].do("buy_training")

    def _institutions_review(self) -> None:
        self.agents_by_type[MboInstitution].do("review_programmes")

    # --- events -----------------------------------------------------------------------------
    def log_event(self, programme: int, event: str, reason: str) -> None:
        """Record a programme event; its attributes are joined when the events table is written."""
        self.events.append({"month": self.month_index, "programme": int(programme), "event": event, "reason": reason})

    def count_status(self) -> np.ndarray:
        return np.bincount(self.pop.status, minlength=len(Status))
