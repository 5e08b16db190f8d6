"""Minimal coverage (minimaal dekkend aanbod): institutions are jointly responsible for keeping,
per sector cluster (optionally per level), at least one open programme within reach of a set
share of the region's school leavers (motion Peters–Bisschop; the report's central question).
A closure that would push coverage below the share is vetoed; the deficit of the programmes
kept open that way is the rule's cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.codes import SECTOR_INDEX, SECTORS
from sim.policies.base import Policy, check_sector_dict, check_share

CLOSURE_PRIORITY = 10  # before bundling (20): see sim.hooks


@dataclass
class CoverageParams:
    share: float = 0.9
    per_level: bool = False
    sectors: list[str] = field(default_factory=lambda: list(SECTORS))

    def validate(self, key: str) -> None:
        check_share(f"{key}.share", self.share)
        check_sector_dict(f"{key}.sectors", dict.fromkeys(self.sectors), complete=False)


class MinimalCoverage(Policy):
    name = "minimal_coverage"
    Params = CoverageParams

    def attach(self, model) -> None:
        super().attach(model)
        self.sectors = {SECTOR_INDEX[s] for s in self.params.sectors}
        self.protected = np.zeros(model.education.programmes.n, dtype=bool)
        self.vetoes_this_year = 0
        model.hooks.add_closure_handler(CLOSURE_PRIORITY, self.name, self.veto)

    def veto(self, members: np.ndarray) -> tuple[str, str] | None:
        edu = self.model.education
        p = edu.programmes
        sector, level = int(p.sector[members[0]]), int(p.level[members[0]])
        if sector not in self.sectors:
            return None
        youth = edu.youth_by_municipality()
        col = level if self.params.per_level else 0
        before = edu.measure_coverage(p.open, youth)[0][sector, col]
        without = p.open.copy()
        without[members] = False
        after = edu.measure_coverage(without, youth)[0][sector, col]
        if after < self.params.share and after < before - 1e-12:
            self.protected[members] = True
            self.vetoes_this_year += 1
            return "vetoed", (f"minimal coverage: {SECTORS[sector]} would be within reach of {after:.0%} "
                              f"of school leavers, below {self.params.share:.0%}")
        return None

    def yearly(self) -> None:
        edu = self.model.education
        y = self.model.year_index
        p = edu.programmes
        keep = self.protected & p.open
        enrolled = edu.enrolled[y] / self.model.cfg.scale
        deficit = np.maximum(-edu.programme_contribution_eur[y], 0)  # cost − funding, where negative
        students = float(enrolled[keep].sum())
        cost = float(deficit[keep].sum())
        self.record("vetoes", self.vetoes_this_year)
        self.record("protected_programmes", int(keep.sum()))
        self.record("protected_students", students)
        self.record("cost_eur", cost)
        self.record("cost_per_protected_student_eur", cost / students if students else 0.0)
        self.vetoes_this_year = 0
