"""Bundling: instead of closing a failing opleiding, the institution merges it into a partner
programme of the same qualification dossier (the levels of one occupation): another level of
the dossier at the same site, or the same level at another site (optionally of another
institution) within ``max_extra_minutes`` (the report: ROCs bundle levels, locations and target
groups). The merged programme's students travel further; the partner takes its capacity and the
fixed cost of one programme is saved."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import ConfigError
from sim.geography import travel_matrix
from sim.policies.base import Policy, check_nonneg

CLOSURE_PRIORITY = 20  # after minimal coverage (10): see sim.hooks


@dataclass
class BundlingParams:
    max_extra_minutes: float = 40.0
    across_levels: bool = True
    across_sites: bool = True
    across_institutions: bool = False

    def validate(self, key: str) -> None:
        check_nonneg(f"{key}.max_extra_minutes", self.max_extra_minutes)
        if not (self.across_levels or self.across_sites):
            raise ConfigError(f"{key}: at least one of across_levels, across_sites must be true")


class Bundling(Policy):
    name = "bundling"
    Params = BundlingParams

    def attach(self, model) -> None:
        super().attach(model)
        p = model.education.programmes
        sites, travel = list(p.site), model.cfg.model.travel
        # between sites by the students' mode; an outside site is never a partner of an in-region one
        self.site_minutes = travel_matrix(model.data.travel, model.data.site_coordinates, sites, sites, travel.mode,
                                          travel, missing="inf")
        np.fill_diagonal(self.site_minutes, 0.0)
        self.bundled_this_year = 0
        self.students_moved = 0
        model.hooks.add_closure_handler(CLOSURE_PRIORITY, self.name, self.bundle)

    def bundle(self, members: np.ndarray) -> tuple[str, str] | None:
        edu, prm = self.model.education, self.params
        p = edu.programmes
        m = members[0]
        same_site = p.site == p.site[m]
        ok = p.open & (p.dossier == p.dossier[m]) & ~np.isin(np.arange(p.n), members)
        if not prm.across_institutions:
            ok &= p.institution == p.institution[m]
        level_partner = ok & same_site & (p.level != p.level[m]) if prm.across_levels else ok & False
        site_partner = (ok & ~same_site & (p.level == p.level[m])
                        & (self.site_minutes[m] <= prm.max_extra_minutes)) if prm.across_sites else ok & False
        partners = np.flatnonzero(level_partner | site_partner)
        if partners.size == 0:
            return None
        # the partner: the same qualification elsewhere first, then the nearest, then the nearest
        # level, then the largest
        other_qual = p.crebo[partners] != p.crebo[m]
        order = np.lexsort((-p.base_intake[partners], np.abs(p.level[partners] - p.level[m]),
                            self.site_minutes[m, partners], other_qual))
        partner = partners[order[0]]
        cap = edu.intake_cap
        p.open[members] = False
        self.model.hooks.education.extra_capacity[partner] += cap[members].sum()
        # a real merger: students of the same qualification continue at the partner's site, route by
        # route, where it is within reach of their home; the others finish where they are
        moved = 0
        if p.crebo[partner] == p.crebo[m]:
            for j in members:
                twin = np.flatnonzero((p.unit == p.unit[partner]) & (p.route == p.route[j]))
                if twin.size:
                    moved += edu.transfer_students(j, twin[0])
        self.bundled_this_year += 1
        self.students_moved += moved
        return "bundled", f"merged into {p.programme_id[partner]}; {moved} students moved"

    def yearly(self) -> None:
        edu = self.model.education
        self.record("bundled", self.bundled_this_year)
        self.record("students_moved", self.students_moved / self.model.cfg.scale)
        self.record("intake_travel_minutes", float(edu.intake_travel_minutes[self.model.year_index]))
        self.record("cost_eur", 0.0)
        self.bundled_this_year = 0
        self.students_moved = 0
