"""Teachers per sector: a pool that competes with the sector's own labour market.

The region's mbo needs ``enrolled ÷ students_per_teacher`` teachers per sector. Each July a share
``teacher_exit_rate`` leaves; the vacancies to reach next year's need are filled with success
1 / (1 + ``teacher_competition`` × max(ln(T_s / T_s⁰), 0)), where T_s is the sector's UWV tightness
over the last year and T_s⁰ its base-year level: when the sector's own employers are short of
people, fewer of them become or stay teachers (the report's teacher shortage). Where the pool
falls short of the need, the sector's programmes can take proportionally fewer new students.
In the base year's conditions hiring fills every vacancy, so the pool does not bind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS

if TYPE_CHECKING:
    from sim.processes.education.process import Education


class TeacherPool:
    def __init__(self, edu: Education) -> None:
        self.edu = edu
        self.cfg = edu.model.cfg.model.institutions
        self.teachers: np.ndarray | None = None  # real persons per sector, set from the base-year students
        self.base_tightness: np.ndarray | None = None
        self.ratio = np.ones(N_SECTORS)  # teachers ÷ need, at most 1: the share of places that can be taught

    def need(self) -> np.ndarray:
        edu = self.edu
        p = edu.programmes
        by_prog = np.where(p.in_region, edu.enrolment(), 0)  # outside sites have their own teachers
        by_sector = np.bincount(p.sector, weights=by_prog, minlength=N_SECTORS)
        return by_sector / edu.model.cfg.scale / self.cfg.students_per_teacher

    def july(self) -> None:
        """After the school year: teachers leave, vacancies are filled as the labour market allows."""
        need = self.need()
        tightness = self.edu.model.labour.uwv_tightness_last_year()
        if self.teachers is None:  # the base year: as many teachers as the students need
            self.teachers, self.base_tightness = need.copy(), tightness.copy()
        stay = self.teachers * (1 - self.cfg.teacher_exit_rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            rise = np.log(np.maximum(tightness, 1e-9) / np.maximum(self.base_tightness, 1e-9))
        fill = 1.0 / (1.0 + self.cfg.teacher_competition * np.maximum(rise, 0.0))
        self.teachers = stay + np.maximum(need - stay, 0.0) * fill
        self.ratio = np.minimum(np.divide(self.teachers, need, out=np.ones(N_SECTORS), where=need > 0), 1.0)
