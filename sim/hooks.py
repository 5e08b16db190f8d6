"""The lever surface: every knob a policy lever may turn, declared in one place.

Processes read these values and nothing else that a lever sets; a lever changes them in its
``attach`` (once) or in the events it schedules (during the run). Every knob is neutral by
default, so a model without levers runs on the configured behaviour alone. Adding a lever means
writing its module in ``sim/policies/``, its config in ``configs/policy/`` and its docs; it never
needs a change in ``sim/processes/``.

Closure handlers let a lever take over the closure of a failing opleiding (veto it, bundle it).
They run in the order of their ``priority`` (lowest first, then by lever name); the first that
takes the closure decides. Each lever states its priority in its own module. Minimal coverage
(10) decides before bundling (20): the rule is the region's joint duty of care, and bundling
closes the opleiding to new students at its site — the very loss of reach the rule exists to
prevent. A vetoed opleiding stays open; one the rule lets go may still be bundled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.codes import N_SECTORS

NO_CAP = np.inf

# A closure handler gets the programme indices of one failing opleiding (both routes) and returns
# (event, note) if it takes the closure over, else None.
ClosureDecision = Callable[[np.ndarray], "tuple[str, str] | None"]


@dataclass
class ClosureHandler:
    priority: int
    name: str
    decide: ClosureDecision


@dataclass
class EducationHooks:
    """Programme choice, capacity, viability and costs (per sector: 11; per programme: P)."""

    sector_image: np.ndarray  # change of each sector's image (utility units, added to the configured image)
    sector_employership: np.ndarray  # change of each sector's employership (utility units)
    prospects_weight: float | None  # weight of job prospects in choice; None = model.education.choice.prospects
    capacity_factor: np.ndarray  # per programme: teaching capacity × this
    extra_capacity: np.ndarray  # per programme: places added to the capacity (a merged programme's places; model scale)
    fixus_cap: np.ndarray  # per programme: at most this many new students a year (numerus fixus); NO_CAP = none
    viability_factor: np.ndarray  # per sector: the viability threshold × this
    fixed_cost_factor: np.ndarray  # per programme: fixed cost × this
    student_cost_factor: np.ndarray  # per programme: cost per student × this
    overhead_factor: float  # institutions' coordination overhead × this

    @classmethod
    def neutral(cls, n_programmes: int) -> EducationHooks:
        return cls(
            sector_image=np.zeros(N_SECTORS), sector_employership=np.zeros(N_SECTORS), prospects_weight=None,
            capacity_factor=np.ones(n_programmes), extra_capacity=np.zeros(n_programmes),
            fixus_cap=np.full(n_programmes, NO_CAP), viability_factor=np.ones(N_SECTORS),
            fixed_cost_factor=np.ones(n_programmes), student_cost_factor=np.ones(n_programmes), overhead_factor=1.0,
        )


@dataclass
class LabourHooks:
    """Matching, BBL places and separations (per sector)."""

    matching_factor: float = 1.0  # matching efficiency × this
    bbl_place_factor: np.ndarray = field(default_factory=lambda: np.ones(N_SECTORS))  # BBL places × this
    separation_factor: np.ndarray = field(default_factory=lambda: np.ones(N_SECTORS))  # lay-offs, inactivity × this


@dataclass
class LloHooks:
    reach_factor: float = 1.0  # share of latent retraining need that becomes a trajectory × this


@dataclass
class MunicipalityHooks:
    mbo_procurement_share: float | None = None  # share of training bought from the mbo; None = configured


@dataclass
class Hooks:
    education: EducationHooks
    labour: LabourHooks = field(default_factory=LabourHooks)
    llo: LloHooks = field(default_factory=LloHooks)
    municipality: MunicipalityHooks = field(default_factory=MunicipalityHooks)
    closure_handlers: list[ClosureHandler] = field(default_factory=list)

    @classmethod
    def neutral(cls, n_programmes: int) -> Hooks:
        return cls(education=EducationHooks.neutral(n_programmes))

    def add_closure_handler(self, priority: int, name: str, decide: ClosureDecision) -> None:
        """Register a lever's closure handler; handlers are asked in order of priority."""
        self.closure_handlers.append(ClosureHandler(priority, name, decide))
        self.closure_handlers.sort(key=lambda h: (h.priority, h.name))
