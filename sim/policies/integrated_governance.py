"""Integrated regional governance, the Achterhoek model: one integrated public body (Wgr) with a
well-staffed regional office. The report credits it with better reach of residents and firms,
more efficient joint services and less coordination time for the mbo."""

from __future__ import annotations

from dataclasses import dataclass

from sim.policies.base import Policy, check_nonneg, check_share


@dataclass
class GovernanceParams:
    llo_reach_factor: float = 1.5
    matching_factor: float = 1.1
    overhead_reduction: float = 0.5

    def validate(self, key: str) -> None:
        check_nonneg(f"{key}.llo_reach_factor", self.llo_reach_factor)
        check_nonneg(f"{key}.matching_factor", self.matching_factor)
        check_share(f"{key}.overhead_reduction", self.overhead_reduction)


class IntegratedGovernance(Policy):
    name = "integrated_governance"
    Params = GovernanceParams

    def attach(self, model) -> None:
        super().attach(model)
        prm, hooks = self.params, model.hooks
        hooks.llo.reach_factor *= prm.llo_reach_factor
        hooks.labour.matching_factor *= prm.matching_factor
        hooks.education.overhead_factor *= 1 - prm.overhead_reduction

    def yearly(self) -> None:
        edu = self.model.education
        n_inst = int(edu.institution_in_region.sum())  # the region's institutions (outside ones: no overhead here)
        self.record("overhead_saving_eur", edu.cfg.institution_overhead_eur * self.params.overhead_reduction * n_inst)
        self.record("cost_eur", 0.0)
