"""The programme table: one programme per institution × site × qualification × route.

A programme is one mbo qualification (crebo) × route (BOL/BBL) at a site of an institution, read
from ``data/portfolio.csv`` (base-year students, split from the sourced institution × site ×
sector totals of ``data/institutions.csv``) with the qualification's level, nominal duration and
sector from ``data/qualifications.csv``. The *opleiding* that institutions review is the
programme without its route (``unit``): a qualification at a site, BOL and BBL together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import ROUTE_NAMES, SECTOR_INDEX, SECTORS, Route
from sim.config import EducationConfig
from sim.io.loaders import RegionData


@dataclass
class Programmes:
    """Column table of programmes (one entry per programme)."""

    programme_id: np.ndarray  # str: institution/site/crebo/route (slugs)
    institution: np.ndarray  # int index into the institution names
    site: np.ndarray  # str, municipality name of the site
    site_municipality: np.ndarray  # int index into the region's municipalities, -1 if outside
    crebo: np.ndarray  # int, the qualification
    dossier: np.ndarray  # int, the crebo of its qualification dossier (the levels of one occupation)
    qualification: np.ndarray  # str, its name
    sector: np.ndarray
    level: np.ndarray
    duration: np.ndarray  # nominal study years
    price_factor: np.ndarray  # funding weight of the qualification (bekostigingsfactor)
    route: np.ndarray
    base_enrolment: np.ndarray  # persons at model scale
    base_intake: np.ndarray
    capacity: np.ndarray  # max intake per year (persons at model scale, not rounded), before levers
    open: np.ndarray  # bool
    site_intake: np.ndarray  # the whole site's base intake: = base_intake in the region, larger outside it
    unit: np.ndarray  # int: the "opleiding" (institution × site × qualification), both routes together

    @property
    def n(self) -> int:
        return len(self.sector)

    @property
    def in_region(self) -> np.ndarray:
        """True for programmes at a site in the region (False: a site outside that the region's
        students may choose)."""
        return self.site_municipality >= 0

    def labels(self, institution_names: list[str]) -> dict[str, np.ndarray]:
        """The label columns of a programme in the results tables."""
        return {
            "programme_id": self.programme_id,
            "institution": np.asarray(institution_names, dtype=object)[self.institution],
            "institution_index": self.institution,
            "sector": np.asarray(SECTORS, dtype=object)[self.sector],
            "level": self.level.astype(np.int64),
            "route": np.asarray(ROUTE_NAMES, dtype=object)[self.route],
            "location": self.site,
            "in_region": self.site_municipality >= 0,
            "crebo": self.crebo.astype(np.int64),
            "qualification": self.qualification,
        }

    def survival(self, cfg: EducationConfig) -> np.ndarray:
        """(programmes × study years) share of an intake still enrolled in each study year: each
        July a student drops out with the level's dropout rate (0 beyond the programme's duration)."""
        d = np.asarray(cfg.dropout_rate, dtype=float)[self.level - 1]
        y = np.arange(self.duration.max())
        return np.where(y[None, :] < self.duration[:, None], (1 - d[:, None]) ** y[None, :], 0.0)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def build_programmes(data: RegionData, cfg: EducationConfig, scale: float) -> tuple[Programmes, list[str]]:
    """The region's portfolio as programmes; returns them and the institution names (in order of
    first appearance). Base-year students are the portfolio's × ``scale`` (the model scale times
    the carrying of the source year's students to the start year)."""
    port = data.portfolio
    names = list(dict.fromkeys(port["institution"]))
    muni_index = {n: i for i, n in enumerate(data.municipality_names)}
    route = np.where(port["route"].to_numpy() == "BBL", int(Route.BBL), int(Route.BOL)).astype(np.int64)
    inst = np.array([names.index(i) for i in port["institution"]], dtype=np.int64)
    site = port["site"].to_numpy(dtype=object)
    crebo = port["crebo"].to_numpy(dtype=np.int64)
    ids = np.array([f"{_slug(i)}/{_slug(s)}/{c}/{ROUTE_NAMES[r]}"
                    for i, s, c, r in zip(port["institution"], site, crebo, route, strict=True)], dtype=object)
    p = Programmes(
        programme_id=ids, institution=inst, site=site,
        site_municipality=np.array([muni_index.get(s, -1) for s in site], dtype=np.int64),
        crebo=crebo, dossier=port["dossier_crebo"].to_numpy(dtype=np.int64),
        qualification=port["qualification"].to_numpy(dtype=object),
        sector=np.array([SECTOR_INDEX[s] for s in port["sector"]], dtype=np.int64),
        level=port["level"].to_numpy(dtype=np.int64), duration=port["duration"].to_numpy(dtype=np.int64),
        price_factor=port["price_factor"].to_numpy(dtype=float),
        route=route, base_enrolment=port["students_base"].to_numpy(dtype=float) * scale,
        base_intake=np.zeros(len(port)), capacity=np.zeros(len(port)),
        open=np.ones(len(port), dtype=bool), site_intake=np.zeros(len(port)),
        unit=np.unique(np.stack([inst.astype(str), site.astype(str), crebo.astype(str)]), axis=1,
                       return_inverse=True)[1].ravel(),
    )
    # stock and flow agree: a stock S sustained by a yearly intake I with the configured dropout
    # holds I × Σ_y survival_y students, so I = S / Σ_y survival_y
    p.base_intake = p.base_enrolment / p.survival(cfg).sum(1)
    p.capacity = p.base_intake * cfg.capacity_factor
    p.site_intake = p.base_intake.copy()
    return p, names


def set_outside_targets(p: Programmes, outflow_share: float, youth: np.ndarray, minutes: np.ndarray,
                        travel_per_10_minutes: float, reach_minutes: float, cfg: EducationConfig) -> None:
    """The base-year students of the region at sites outside it (in place).

    ``portfolio.csv`` holds whole outside sites (thousands of students of their own regions). Of
    them the region's students are ``outflow_share`` of all its mbo students: the outside
    programmes' base enrolment is set to outflow_share ÷ (1 − outflow_share) × the in-region base
    enrolment, spread over them in proportion to whole-site students × Σ_m youth_m × exp(β_tt ×
    minutes_mj ÷ 10) over the region's municipalities m within ``reach_minutes`` of the site (nearer
    sites draw more, with the choice model's travel weight; a site beyond every school leaver's
    choice set draws none). ``youth``: 15-19-year-olds per municipality; ``minutes``:
    municipalities × programmes. Their capacity stays that of the whole site: the region's
    students never fill it."""
    out = ~p.in_region
    if not out.any():
        return
    surv = p.survival(cfg).sum(1)
    whole_intake = p.base_enrolment / surv
    p.capacity[out] = whole_intake[out] * cfg.capacity_factor
    near = np.where(minutes <= reach_minutes, np.exp(travel_per_10_minutes * minutes / 10.0), 0.0)
    weight = p.base_enrolment[out] * (youth @ near)[out]
    wanted = outflow_share / max(1.0 - outflow_share, 1e-12) * p.base_enrolment[~out].sum()
    p.base_enrolment[out] = wanted * weight / max(weight.sum(), 1e-300)
    p.base_intake[out] = p.base_enrolment[out] / surv[out]
