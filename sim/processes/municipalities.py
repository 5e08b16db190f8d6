"""Municipal training purchases: each January every municipality spends its re-integration budget
on training trajectories for its social-assistance (bijstand) clients, from the mbo as partner
for a share, else from the cheapest (private) provider. The municipalities are Mesa agents
(:class:`sim.agents.organisations.Municipality`) that decide; this process records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.organisations import Municipality
from sim.codes import Benefit

if TYPE_CHECKING:
    from sim.model import RegionModel


class TrainingPurchases:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        r = model.results
        ym = ("year", "municipality")
        self.clients = r.declare("municipalities", "clients", ym, "persons", dtype=float, scaled=False,
                                 doc="residents on bijstand in January")
        self.budget_eur = r.declare("municipalities", "budget_eur", ym, "eur", dtype=float)
        self.trajectories = r.declare("municipalities", "trajectories", ym, "persons", dtype=float, scaled=False)
        self.mbo_revenue_eur = r.declare("municipalities", "mbo_revenue_eur", ym, "eur", dtype=float)
        self.institution_revenue_eur = r.declare(
            "municipalities", "municipal_revenue_eur", ("school_year", "institution"), "eur", dtype=float,
            doc="training bought from each institution in January (at a reduced scale as the accounts "
                "judge it: ODD §7.17)")
        # its expectation, on which the base year balances the institutions' other costs (§7.17)
        self.expected_revenue_eur = np.zeros_like(self.institution_revenue_eur)

    def mbo_share(self) -> float:
        """Share of trajectories bought from the mbo (a lever may change the procurement stance)."""
        share = self.model.hooks.municipality.mbo_procurement_share
        return self.model.cfg.model.municipality.mbo_procurement_share if share is None else share

    def january(self) -> None:
        model = self.model
        y = model.year_index
        on_assistance = np.flatnonzero(model.pop.benefit == Benefit.MUNICIPALITY)
        # the expectation for every municipality at once: one's purchases start trajectories only
        # for its own clients, so those not yet training are the same before each municipality buys
        mbo_share = self.mbo_share()
        free = on_assistance[model.pop.llo_months_left[on_assistance] == 0]
        expected_each = model.llo.expected_at_institutions(free, mbo_share)
        drawn = np.zeros_like(self.institution_revenue_eur[y])
        for m in model.agents_by_type[Municipality]:  # llo.start changes no benefit: one scan serves all
            clients, budget, trajectories, revenue, expected = m.buy_training(mbo_share, expected_each[m.index],
                                                                              on_assistance)
            self.clients[y, m.index] = clients
            self.budget_eur[y, m.index] = budget
            self.trajectories[y, m.index] = trajectories
            self.mbo_revenue_eur[y, m.index] = float(revenue.sum())
            drawn += revenue
            self.expected_revenue_eur[y] += expected
        # the institutions' accounts judge the revenue as they judge the students
        # (provision.JudgedEnrolment): its expectation plus the draw's deviation scaled by √s, so
        # that at a reduced scale it scatters as a real region's does, not 1/√s times more
        e, s = self.expected_revenue_eur[y], model.cfg.scale
        self.institution_revenue_eur[y] = drawn if s == 1.0 else e + np.sqrt(s) * (drawn - e)
