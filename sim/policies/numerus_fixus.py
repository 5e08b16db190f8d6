"""Numerus fixus and LOB steering: ROCs cap intake in programmes with poor labour-market
prospects, and study-career guidance (LOB) raises the weight of prospects in choice (the report:
institutions use a numerus fixus; students choose by image and employership, hardly by
prospects). Prospects are the sector's UWV tightness (vacancies per short WW benefit) over the
last 12 months; below ``poor_prospects_below`` the sector's programmes are capped (set each June
for the coming school year, before doorstroom and intake)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim._mesa import Priority
from sim.calendar import JUNE
from sim.hooks import NO_CAP
from sim.policies.base import Policy, check_nonneg, check_share


@dataclass
class NumerusFixusParams:
    poor_prospects_below: float = 1.5
    cap_share: float = 0.8
    lob_steering: bool = False
    prospects_weight: float = 1.0

    def validate(self, key: str) -> None:
        check_nonneg(f"{key}.poor_prospects_below", self.poor_prospects_below)
        check_share(f"{key}.cap_share", self.cap_share)
        check_nonneg(f"{key}.prospects_weight", self.prospects_weight)


class NumerusFixus(Policy):
    name = "numerus_fixus"
    Params = NumerusFixusParams

    def attach(self, model) -> None:
        super().attach(model)
        self.capped = np.zeros(model.education.programmes.n, dtype=bool)
        if self.params.lob_steering:
            model.hooks.education.prospects_weight = self.params.prospects_weight

    def schedule(self, model) -> None:
        model.every_year(self.set_caps, JUNE, priority=Priority.LOW)

    def set_caps(self) -> None:
        """Each June, for the coming school year: cap the programmes of sectors with poor prospects."""
        model = self.model
        tightness = model.labour.uwv_tightness_last_year()  # the months recorded in the last 12
        poor = tightness < self.params.poor_prospects_below
        p = model.education.programmes
        self.capped = poor[p.sector]
        cap = np.maximum(p.base_intake * self.params.cap_share, model.cfg.scale)  # at least one real person
        model.hooks.education.fixus_cap[:] = np.where(self.capped, cap, NO_CAP)
        self.record("capped_programmes", int((self.capped & p.open).sum()))
        self.record("sectors_with_poor_prospects", int(poor.sum()))
        self.record("cost_eur", 0.0)
