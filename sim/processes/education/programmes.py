"""The programme table: one programme per institution × site × sector × level × route.

A programme is one sector cluster × level × route (BOL/BBL) × site of an institution, expanded
from ``data/institutions.csv`` (institution × site × sector, with levels, routes and base-year
students). The *opleiding* that institutions review is the programme without its route
(``unit``): BOL and BBL of one sector, level and site together.
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

    programme_id: np.ndarray  # str
    institution: np.ndarray  # int index into the institution names
    site: np.ndarray  # str, municipality name of the site
    site_municipality: np.ndarray  # int index into the region's municipalities, -1 if outside
    sector: np.ndarray
    level: np.ndarray
    route: np.ndarray
    base_enrolment: np.ndarray  # persons at model scale
    base_intake: np.ndarray
    capacity: np.ndarray  # max intake per year (persons at model scale), before levers
    open: np.ndarray  # bool
    unit: np.ndarray  # int: the "opleiding" (institution × site × sector × level), both routes together

    @property
    def n(self) -> int:
        return len(self.sector)

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
        }


def survival(cfg: EducationConfig) -> np.ndarray:
    """(levels 1-4 × study years) share of an intake still enrolled in each study year: each July
    a student drops out with the level's dropout rate (0 beyond the programme's length)."""
    d = np.asarray(cfg.dropout_rate, dtype=float)
    years = np.asarray(cfg.programme_years)
    y = np.arange(years.max())
    return np.where(y[None, :] < years[:, None], (1 - d[:, None]) ** y[None, :], 0.0)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def build_programmes(data: RegionData, cfg: EducationConfig, scale: float) -> tuple[Programmes, list[str]]:
    """Expand the institutions table (institution × site × sector) into programmes; returns the
    programmes and the institution names (in order of first appearance)."""
    inst = data.institutions
    names = list(dict.fromkeys(inst["institution"]))
    muni_index = {n: i for i, n in enumerate(data.municipality_names)}
    level_shares = np.asarray(cfg.enrolment_level_shares, dtype=float)
    rows: list[tuple] = []
    for r in inst.itertuples():
        levels = np.arange(r.min_level, r.max_level + 1)
        ls = level_shares[levels - 1]
        ls = ls / ls.sum()
        routes = [(Route.BOL, 1 - r.bbl_share if r.bbl else 1.0)] if r.bol else []
        if r.bbl:
            routes.append((Route.BBL, r.bbl_share if r.bol else 1.0))
        for level, lshare in zip(levels, ls, strict=True):
            for route, rshare in routes:
                enrol = r.students_base * lshare * rshare * scale
                pid = f"{_slug(r.institution)}/{_slug(r.site)}/{r.sector}/L{level}/{ROUTE_NAMES[route]}"
                rows.append((pid, names.index(r.institution), r.site, muni_index.get(r.site, -1),
                             SECTOR_INDEX[r.sector], level, int(route), enrol))
    ids, inst_i, site, site_m, sector, level, route, enrol = (np.asarray(c) for c in zip(*rows, strict=True))
    # stock and flow agree: a stock S sustained by a yearly intake I with the configured dropout
    # holds I × Σ_y survival_y students, so I = S / Σ_y survival_y
    base_intake = enrol / survival(cfg).sum(1)[level - 1]
    return (
        Programmes(
            programme_id=ids, institution=inst_i.astype(np.int64), site=site,
            site_municipality=site_m.astype(np.int64), sector=sector.astype(np.int64),
            level=level.astype(np.int64), route=route.astype(np.int64),
            base_enrolment=enrol.astype(float), base_intake=base_intake.astype(float),
            capacity=np.ceil(base_intake * cfg.capacity_factor).astype(np.int64),
            open=np.ones(len(ids), dtype=bool),
            unit=np.unique(np.stack([inst_i.astype(str), site, sector.astype(str), level.astype(str)]), axis=1,
                           return_inverse=True)[1].ravel(),
        ),
        names,
    )
