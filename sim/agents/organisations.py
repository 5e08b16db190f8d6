"""The few, larger agents: employers, mbo institutions and municipalities (Mesa agents).

Persons are arrays (:mod:`sim.agents.population`); these agents are tens to hundreds of Mesa
``Agent`` objects. Employers are the (sector × municipality) cells of the labour market, whose
vacancies and hiring are computed for all cells at once in :mod:`sim.processes.labour`; the
agent gives each cell its own identity and view. Institutions decide yearly which programmes
stay open; municipalities buy re-integration training for their social-assistance clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.codes import SECTORS, Benefit

if TYPE_CHECKING:
    from sim.model import RegionModel


class Employer(mesa.Agent):
    """The establishments of one sector in one municipality."""

    def __init__(self, model: RegionModel, sector: int, municipality: int) -> None:
        super().__init__(model)
        self.sector = sector
        self.municipality = municipality

    @property
    def headcount(self) -> int:
        return int(self.model.labour.head[self.sector, self.municipality])

    @property
    def vacancies(self) -> int:
        return int(self.model.labour.vacancies[self.sector, self.municipality].sum())

    def __repr__(self) -> str:
        name = self.model.data.municipality_names[self.municipality]
        return f"Employer({SECTORS[self.sector]}, {name})"


class MboInstitution(mesa.Agent):
    """An ROC or AOC with its programmes; reviews them every spring for the next school year."""

    def __init__(self, model: RegionModel, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.municipal_revenue_eur = 0.0  # re-integration training bought this year

    @property
    def programme_indices(self) -> np.ndarray:
        return np.flatnonzero(self.model.education.programmes.institution == self.index)

    def review_programmes(self) -> None:
        """Close an opleiding (sector × level × site, BOL and BBL together) whose intake stayed
        under the viability threshold for k years.

        Thresholds are in real persons (intake at model scale ÷ scale). A closed programme
        takes no new students; those enrolled finish (teach-out). Policies may take a closure
        over (veto it, bundle the programme) through ``model.closure_handlers``.
        """
        model = self.model
        edu = model.education
        progs = edu.programmes
        cfg = model.cfg.model.education
        k = cfg.viability_years
        if edu.intakes_recorded < k:
            return
        y = model.year_index
        n_units = progs.unit.max() + 1
        last = np.stack([np.bincount(progs.unit, weights=edu.intake[t], minlength=n_units)
                         for t in range(y - k, y)]) / model.cfg.scale  # the last k September intakes
        unit_sector = np.zeros(n_units, dtype=np.int64)
        unit_sector[progs.unit] = progs.sector
        weak_unit = (last < edu.viability_threshold[unit_sector]).all(axis=0)
        idx = self.programme_indices
        idx = idx[progs.open[idx] & weak_unit[progs.unit[idx]]]
        for unit in np.unique(progs.unit[idx]):
            members = idx[progs.unit[idx] == unit]
            reason = f"intake below {edu.viability_threshold[unit_sector[unit]]:g} for {k} years"
            for handler in model.closure_handlers:
                taken = handler(members)
                if taken is not None:
                    event, note = taken
                    for p in members:
                        model.log_event(p, event, f"{reason}; {note}")
                    break
            else:
                progs.open[members] = False
                for p in members:
                    model.log_event(p, "closed", reason)


class Municipality(mesa.Agent):
    """A municipality: social-assistance clients and a re-integration budget."""

    def __init__(self, model: RegionModel, index: int, name: str, is_centre: bool) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.is_centre = is_centre

    def clients(self) -> np.ndarray:
        pop = self.model.pop
        return np.flatnonzero((pop.benefit == Benefit.MUNICIPALITY) & (pop.municipality == self.index))

    def buy_training(self) -> None:
        """Each January: spend the re-integration budget on training trajectories for clients,
        from the mbo (as partner) for a share, else from the cheapest (private) provider."""
        model = self.model
        mcfg = model.cfg.model.municipality
        clients = self.clients()
        real_clients = clients.size / model.cfg.scale
        budget = real_clients * mcfg.reintegration_budget_per_client_eur
        trajectories = budget / mcfg.training_price_eur  # real persons
        n = min(clients.size, int(model.streams["municipalities"].poisson(trajectories * model.cfg.scale)))
        rng = model.streams["municipalities"]
        chosen = rng.choice(clients, size=n, replace=False) if n else clients[:0]
        chosen = chosen[model.pop.llo_months_left[chosen] == 0]
        prog = model.llo.start(chosen, "municipality", model.month_index, mbo_share=model.procurement_mbo_share,
                               rng=rng)
        # the revenue goes to the institutions whose programmes took the trajectories
        edu = model.education
        price = mcfg.training_price_eur / model.cfg.scale
        revenue = np.bincount(edu.programmes.institution[prog], minlength=len(edu.institution_names)) * price
        edu.municipal_revenue_eur[model.year_index] += revenue
        model.results.record_municipality(
            self, real_clients, budget, chosen.size / model.cfg.scale, float(revenue.sum())
        )
