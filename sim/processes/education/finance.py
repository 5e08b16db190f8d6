"""Institution accounts: funding per student, programme costs, coordination overhead (EUR, real persons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def programme_costs(edu: Education, enrolled: np.ndarray) -> np.ndarray:
    """Yearly cost of each programme (EUR): fixed while open or teaching out, plus per student."""
    cfg, p, hooks = edu.cfg, edu.programmes, edu.model.hooks.education
    running = p.open | (enrolled > 0)
    scale = edu.model.cfg.scale
    return (running * cfg.programme_fixed_cost_eur * hooks.fixed_cost_factor
            + enrolled / scale * cfg.cost_per_student_eur * hooks.student_cost_factor)


def account(edu: Education, y: int) -> None:
    """The school year's funding and costs per institution."""
    p, cfg = edu.programmes, edu.cfg
    enrolled = edu.enrolled[y]
    n_inst = len(edu.institution_names)
    edu.programme_cost_eur[y] = programme_costs(edu, enrolled)
    edu.funding_eur[y] = np.bincount(p.institution, weights=enrolled / edu.model.cfg.scale,
                                     minlength=n_inst) * cfg.funding_per_student_eur
    edu.cost_eur[y] = (np.bincount(p.institution, weights=edu.programme_cost_eur[y], minlength=n_inst)
                       + cfg.institution_overhead_eur * edu.model.hooks.education.overhead_factor)
