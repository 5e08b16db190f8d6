"""The few, larger agents: mbo institutions and municipalities (Mesa agents).

Persons are arrays (:mod:`sim.agents.population`); employers are the (sector × municipality)
cells of the labour market, computed for all cells at once in :mod:`sim.processes.labour`.
Institutions review their programmes each April; municipalities buy re-integration training for
their social-assistance clients each January.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim._mesa import mesa
from sim.codes import Benefit

if TYPE_CHECKING:
    from sim.model import RegionModel


class MboInstitution(mesa.Agent):
    """An ROC or AOC with its programmes and its reserve; each April it decides which of its weak
    opleidingen it carries another year (:func:`sim.processes.education.provision.review`)."""

    def __init__(self, model: RegionModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name

    def carry(self, units: np.ndarray, contribution: np.ndarray, year: int) -> set[int]:
        """Which of its weak opleidingen (``units``, with their yearly ``contribution``, EUR) the
        institution keeps another year: those that pay for themselves, and loss-makers, smallest
        loss first, as long as their losses fit in what it can spend of its reserve this year."""
        from sim.processes.education.finance import carry_budget

        budget = carry_budget(self.model.education, self.index, year)
        keep: set[int] = set()
        for i in np.argsort(-contribution, kind="stable"):
            loss = max(-float(contribution[i]), 0.0)
            if loss <= budget:
                budget -= loss
                keep.add(int(units[i]))
        return keep


class Municipality(mesa.Agent):
    """A municipality: social-assistance clients and a re-integration budget."""

    def __init__(self, model: RegionModel, index: int, name: str, is_centre: bool) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.is_centre = is_centre

    def clients(self, on_assistance: np.ndarray | None = None) -> np.ndarray:
        """Residents on social assistance (bijstand), in index order; ``on_assistance``: those of the
        whole region, if the caller has them (one scan for all municipalities)."""
        pop = self.model.pop
        if on_assistance is None:
            on_assistance = np.flatnonzero(pop.benefit == Benefit.MUNICIPALITY)
        return on_assistance[pop.municipality[on_assistance] == self.index]

    def buy_training(self, mbo_share: float, expected_each: np.ndarray, on_assistance: np.ndarray | None = None
                     ) -> tuple[float, float, float, np.ndarray, np.ndarray]:
        """Each January: spend the re-integration budget on training trajectories for clients,
        from the mbo (as partner) for ``mbo_share``, else from the cheapest (private) provider.

        Returns clients, budget (EUR), trajectories (real persons), the revenue per mbo
        institution (EUR) of the programmes that took the trajectories, and its expectation
        (EUR): the number of trajectories, who takes them, their sector and provider averaged out
        (the accounts judge the revenue by it, ODD §7.17). ``expected_each``: the trajectories
        each institution would expect if every client not yet training took one
        (:meth:`Llo.expected_at_institutions`, this municipality's row; one call serves all
        municipalities)."""
        model = self.model
        mcfg = model.cfg.model.municipality
        clients = self.clients(on_assistance)
        real_clients = clients.size / model.cfg.scale
        budget = real_clients * mcfg.reintegration_budget_per_client_eur
        trajectories = budget / mcfg.training_price_eur  # real persons
        rng = model.streams["municipalities"]
        n = min(clients.size, int(rng.poisson(trajectories * model.cfg.scale)))
        chosen = rng.choice(clients, size=n, replace=False) if n else clients[:0]
        chosen = chosen[model.pop.llo_months_left[chosen] == 0]
        # expected: min(λ, C) of the C clients (Poisson λ, capped), those not yet training starting
        share = min(trajectories * model.cfg.scale, clients.size) / max(clients.size, 1)
        price = mcfg.training_price_eur / model.cfg.scale
        expected = expected_each * share * price
        prog = model.llo.start(chosen, "municipality", model.month_index, mbo_share=mbo_share, rng=rng)
        edu = model.education
        revenue = np.bincount(edu.programmes.institution[prog], minlength=len(edu.institution_names)) * price
        return real_clients, budget, chosen.size / model.cfg.scale, revenue, expected
