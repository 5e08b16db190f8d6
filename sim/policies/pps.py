"""Public-private partnership (PPS) per sector: shared facilities and hybrid teachers lower the
viability threshold and the cost per programme, employers offer more BBL places, and teacher
capacity grows — in proportion to how organised the sector's employers are (the report:
VISTA college with the technical and logistics sectors, Scalda with installation and care; it
works only where employers are organised, not in the unorganised part of the mkb)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.codes import SECTOR_INDEX, SECTORS
from sim.policies.base import Policy, check_nonneg, check_sector_dict, check_share


@dataclass
class PartnershipParams:
    organised: dict[str, float] = field(default_factory=lambda: {"technical": 0.6, "care": 0.5})
    threshold_reduction: float = 0.5
    fixed_cost_reduction: float = 0.3
    student_cost_reduction: float = 0.1
    bbl_place_increase: float = 1.0
    capacity_increase: float = 0.5

    def validate(self, key: str) -> None:
        check_sector_dict(f"{key}.organised", self.organised, complete=False)
        for s, v in self.organised.items():
            check_share(f"{key}.organised.{s}", v)
        for k in ("threshold_reduction", "fixed_cost_reduction", "student_cost_reduction"):
            check_share(f"{key}.{k}", getattr(self, k))
        check_nonneg(f"{key}.bbl_place_increase", self.bbl_place_increase)
        check_nonneg(f"{key}.capacity_increase", self.capacity_increase)


class Partnership(Policy):
    name = "pps"
    Params = PartnershipParams

    def attach(self, model) -> None:
        super().attach(model)
        hooks, prm = model.hooks, self.params
        p = model.education.programmes
        self.organised = np.zeros(len(SECTORS))
        for s, v in prm.organised.items():
            self.organised[SECTOR_INDEX[s]] = v
        o_prog = self.organised[p.sector]
        hooks.education.viability_factor *= 1 - prm.threshold_reduction * self.organised
        hooks.education.fixed_cost_factor *= 1 - prm.fixed_cost_reduction * o_prog
        hooks.education.student_cost_factor *= 1 - prm.student_cost_reduction * o_prog
        hooks.education.capacity_factor *= 1 + prm.capacity_increase * o_prog
        hooks.labour.bbl_place_factor *= 1 + prm.bbl_place_increase * self.organised

    def yearly(self) -> None:
        edu = self.model.education
        y = self.model.year_index
        p = edu.programmes
        partnered = self.organised[p.sector] > 0
        without = edu.cfg.programme_fixed_cost_eur * (p.open | (edu.enrolled[y] > 0))
        saving = float(((1 - self.model.hooks.education.fixed_cost_factor) * without)[partnered].sum())
        self.record("partnered_programmes_open", int((p.open & partnered).sum()))
        self.record("cost_saving_eur", saving)
        self.record("cost_eur", 0.0)
