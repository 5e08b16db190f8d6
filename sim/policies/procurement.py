"""Procurement stance of municipalities (and UWV): buy re-integration training from the mbo as a
strategic partner, or from the cheapest provider (the report, recommendation 5: partners in the
region and at the same time client and supplier; carry the shared regional interest into the
procurement strategy). The revenue counts in the institutions' budgets."""

from __future__ import annotations

from dataclasses import dataclass

from sim.policies.base import Policy, check_share


@dataclass
class ProcurementParams:
    mbo_share: float = 0.8

    def validate(self, key: str) -> None:
        check_share(f"{key}.mbo_share", self.mbo_share)


class Procurement(Policy):
    name = "procurement"
    Params = ProcurementParams

    def attach(self, model) -> None:
        super().attach(model)
        model.hooks.municipality.mbo_procurement_share = self.params.mbo_share

    def yearly(self) -> None:
        revenue = self.model.training.institution_revenue_eur[self.model.year_index]
        self.record("mbo_revenue_eur", float(revenue.sum()))
        self.record("cost_eur", 0.0)
