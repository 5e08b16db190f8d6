"""Students from the ring around the region: school leavers of the municipalities just outside it
(``data/ring_municipalities.csv``) who study at the region's sites.

Each September the ring's school leavers — their own cohorts, ``ring_population_by_age_band_2021``
aged forward without migration, cohorts born after 2021 following the scenario's
``cohort_growth_after_data`` as the region's do — choose by the same nested logit as the region's
own (participation, sector, programme), with the travel minutes from their municipality and the
constant κ = ``model.education.inflow_constant`` added to every programme in the region (fitted so
that in the base year the ring's students are the sourced inflow share of the region's intake,
``data/study_flows.csv``). Those who choose a programme in the region take its remaining places
(no second choice); those who choose a site outside the region study there and leave the model.

Ring students are not residents of the region: they are a stock per programme and study year,
with the configured dropout, that graduates and leaves (no labour market, no doorstroom). They
count in the programmes' intake, enrolment, funding and teacher need. The base-year students of
the region's programmes include them: a share ``inflow share`` of each programme's base-year
students starts as ring students (:meth:`RingInflow.initial_stock`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import Route
from sim.cohorts import DATA_YEAR, single_year_table, stationary_youth
from sim.geography import travel_matrix
from sim.processes.education import choice

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def inflow_share(flows: dict[str, float], institutions: list[str]) -> float:
    """The region's inflow share: the mean of the ``inflow_share_<institution>`` rows of
    ``study_flows.csv`` for the region's own institutions (0 if there is none)."""
    values = [flows[f"inflow_share_{name}"] for name in institutions if f"inflow_share_{name}" in flows]
    return float(np.mean(values)) if values else 0.0


class RingInflow:
    def __init__(self, edu: Education) -> None:
        model, p = edu.model, edu.programmes
        cfg, data = model.cfg, model.data
        self.edu = edu
        self.names = list(data.ring)
        self.table = single_year_table(data.ring_bands, cfg.scale) if self.names else np.zeros((0, 100), np.int64)
        if cfg.demography.stationary:  # the model check: constant cohorts here too
            self.table = stationary_youth(self.table, cfg.demography.stationary_ages)
        self.growth = cfg.demography.cohort_growth_after_data
        travel = cfg.model.travel
        self.travel = (travel_matrix(data.travel, data.site_coordinates, self.names, list(p.site), travel.mode, travel)
                       if self.names else np.zeros((0, p.n)))
        own = sorted(set(np.asarray(edu.institution_names)[p.institution[p.in_region]]))
        self.share = inflow_share(data.flows, own)
        self.rng = model.streams["education.inflow"]
        # the ring's own constants: the region's for its programmes (+ κ), and for the sites outside
        # it their whole size (for a ring leaver in Zutphen, Aventus Zutphen is the local school; the
        # region's fitted constants of outside sites say how far they are for the region's leavers)
        out = ~p.in_region
        self.outside_asc = edu.cfg.choice.nest_scale * np.log(np.maximum(p.site_intake[out], 1e-9)
                                                              / max(p.base_intake.sum(), 1e-9))
        self.stock = np.zeros((p.n, int(p.duration.max())), dtype=np.int64)  # programme × study year
        r = model.results
        r.add_dim("ring_municipality", len(self.names),
                  {"ring_municipality": np.asarray(self.names, dtype=object)})
        ring = ("school_year", "ring_municipality")
        self.leavers = r.declare("education", "ring_school_leavers", ring, "persons",
                                 doc="secondary-school leavers of the ring municipality this September")
        self.entrants = r.declare("education", "ring_entrants", ring, "persons",
                                  doc="of them, entrants at a programme in the region")
        self.intake = np.zeros((model.n_years + 1, p.n), dtype=np.int64)  # their intake per programme

    # --- cohorts ---------------------------------------------------------------------------------
    def school_leavers(self, year: int, leave_age: int) -> np.ndarray:
        """Leavers per ring municipality in ``year`` (model scale): those aged ``leave_age − 1`` on
        1 January, aged forward from 2021; cohorts born after 2021 follow the youngest with the
        scenario's yearly growth."""
        age_2021 = leave_age - 1 - (year - DATA_YEAR)
        if age_2021 >= 0:
            return self.table[:, age_2021].copy()
        return np.rint(self.table[:, 0] * (1 + self.growth) ** (-age_2021)).astype(np.int64)

    # --- base year -------------------------------------------------------------------------------
    def initial_stock(self, surv: np.ndarray) -> np.ndarray:
        """The ring's share of each in-region programme's base-year students by study year (model
        scale, rounded); returns the expected students per programme and study year that the
        residents do not fill (for the placement of the base year)."""
        p = self.edu.programmes
        if not self.names or self.share <= 0:
            return np.zeros_like(surv)
        expected = np.where(p.in_region[:, None], p.base_intake[:, None] * surv * self.share, 0.0)
        self.stock[:, : surv.shape[1]] = self.rng.poisson(expected)
        return expected

    # --- September -------------------------------------------------------------------------------
    def september(self, y: int, year: int, places: np.ndarray, available: np.ndarray,
                  aptitude_shares: np.ndarray) -> np.ndarray:
        """The ring's leavers choose; those choosing a programme in the region enter it within
        ``places``. Returns the entrants per programme (model scale)."""
        edu, p = self.edu, self.edu.programmes
        entrants = np.zeros(p.n, dtype=np.int64)
        if not self.names:
            return entrants
        leavers = self.school_leavers(year, edu.cfg.vo_leave_age)
        self.leavers[y] = leavers
        # groups: ring municipality × aptitude, sized by a multinomial draw of the leavers
        n_g = np.stack([self.rng.multinomial(n, aptitude_shares) for n in leavers]).ravel()  # (R × 5)
        prob, p_mbo = self.group_choice(available, edu.asc, edu.cfg.inflow_constant, edu.cfg.participation_constant)
        to_mbo = self.rng.binomial(n_g, p_mbo)
        chosen = np.zeros((n_g.size, p.n), dtype=np.int64)
        for g in np.flatnonzero(to_mbo > 0):
            chosen[g] = self.rng.multinomial(to_mbo[g], prob[g] / prob[g].sum())
        want = np.where(p.in_region[None, :], chosen, 0)
        # the places: in random order of the choosers, as many as each programme has left
        total = want.sum(0)
        admitted = np.minimum(total, places)
        for j in np.flatnonzero(total > admitted):  # who gets the places: a random draw among them
            want[:, j] = self.rng.multivariate_hypergeometric(want[:, j], admitted[j])
        entrants = want.sum(0)
        self.entrants[y] = want.sum(1).reshape(len(self.names), 5).sum(1)
        self.stock[:, 0] += entrants
        self.intake[y] = entrants
        return entrants

    def expected_entrants(self, available: np.ndarray, leavers: np.ndarray, aptitude_shares: np.ndarray,
                          constant: float, asc: np.ndarray | None = None, participation_constant: float | None = None
                          ) -> np.ndarray:
        """Expected ring entrants per programme (before places) with ``constant`` as κ (and the
        programme constants ``asc``, c_mbo ``participation_constant``, the model's by default):
        the analytic counterpart of :meth:`september`, for the review's expected intake and the
        calibration."""
        edu, p = self.edu, self.edu.programmes
        if not self.names:
            return np.zeros(p.n)
        n_g = (leavers[:, None] * aptitude_shares[None, :]).ravel()
        prob, p_mbo = self.group_choice(available, edu.asc if asc is None else asc, constant,
                                        edu.cfg.participation_constant if participation_constant is None
                                        else participation_constant)
        return np.where(p.in_region, (n_g * p_mbo) @ prob, 0.0)

    def group_choice(self, available: np.ndarray, asc: np.ndarray, constant: float, c_mbo: float
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Per group (ring municipality × aptitude, in that order): P(programme | mbo) (groups ×
        programmes) and P(mbo), by the region's nested logit with the ring's constants."""
        edu, p, ch = self.edu, self.edu.programmes, self.edu.cfg.choice
        m, apt = np.divmod(np.arange(len(self.names) * 5), 5)
        tt = self.travel[m]
        gap = np.abs(p.level[None, :] - apt[:, None])
        v = choice.programme_utility(self.ring_asc(asc, constant), tt, gap, p.route == Route.BBL, ch)
        ok = choice.choice_set(tt, available, edu.model.cfg.model.travel.choice_set_minutes)
        prob, iv = choice.nested(v, ok, edu.sector_onehot, edu.sector_utility(), ch.nest_scale)
        return prob, edu.p_mbo(iv, c_mbo)  # with the region's shift to havo/vwo

    def ring_asc(self, asc: np.ndarray, constant: float) -> np.ndarray:
        """The ring leavers' programme constants: ``asc`` + κ in the region, whole-site size outside."""
        p = self.edu.programmes
        out = np.where(p.in_region, asc + constant, 0.0)
        out[~p.in_region] = self.outside_asc
        return out

    # --- July ------------------------------------------------------------------------------------
    def july(self, y: int) -> tuple[np.ndarray, np.ndarray]:
        """End of the school year: dropout at the level's rate, then a study year up; those past
        the programme's duration graduate and leave. Returns graduates and dropouts per programme."""
        p, cfg = self.edu.programmes, self.edu.cfg
        rate = np.asarray(cfg.dropout_rate, dtype=float)[p.level - 1]
        drop = self.rng.binomial(self.stock, np.broadcast_to(rate[:, None], self.stock.shape))
        stay = self.stock - drop
        years = np.arange(self.stock.shape[1])
        done = years[None, :] == (p.duration[:, None] - 1)
        graduates = np.where(done, stay, 0).sum(1)
        stay = np.where(done, 0, stay)
        self.stock = np.zeros_like(stay)
        self.stock[:, 1:] = stay[:, :-1]
        return graduates, drop.sum(1)

    def enrolled(self) -> np.ndarray:
        return self.stock.sum(1)

    def move(self, source: int, target: int) -> int:
        """A merger: the ring students of ``source`` continue at ``target`` (they keep their study year)."""
        n = int(self.stock[source].sum())
        width = min(self.stock.shape[1], int(self.edu.programmes.duration[target]))
        self.stock[target, :width] += self.stock[source, :width]
        self.stock[source] = 0
        return n


def aptitude_shares(aptitude: np.ndarray) -> np.ndarray:
    """Shares of the five aptitude levels (0..4) among ``aptitude`` (uniform if empty)."""
    counts = np.bincount(aptitude, minlength=5).astype(float)[:5]
    return counts / counts.sum() if counts.sum() > 0 else np.full(5, 0.2)

