"""Lifelong learning (LLO, leven lang ontwikkelen): adults retrain into another sector.

Adults (min_age..max_age) employed in a declining sector, and job seekers, carry a latent need
to retrain. It becomes an actual trajectory with a probability set by *reach* (Leerwerkloket,
employer service points, vouchers, governance — the report's central point: reach is too low).
A trajectory lasts duration_months, is followed at an mbo programme of the target sector or
with a private provider, and on completion changes the person's qualification sector. Target
sectors are drawn in proportion to their hard-to-fill vacancies (retraining follows shortage).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, Status
from sim.sampling import thinned_subset

if TYPE_CHECKING:
    from sim.model import RegionModel

SOURCES = ("individual", "municipality", "voucher")


class Llo:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.llo
        self.rng = model.streams["llo"]
        r = model.results
        r.add_dim("llo_source", len(SOURCES), {"source": np.asarray(SOURCES, dtype=object)})
        dims = ("llo_source", "month", "sector")
        self.starts = r.declare("llo", "starts", dims, "persons", doc="trajectories started, by target sector")
        self.starts_at_mbo = r.declare("llo", "starts_at_mbo", dims, "persons",
                                       doc="of those, followed at an mbo programme")
        self.completions = r.declare("llo", "retrained_into", ("month", "sector"), "persons",
                                     doc="completed trajectories into the sector (qualification changed)")
        self.starts_by_programme = r.declare("llo", "llo_starts", ("school_year", "programme"), "persons",
                                             doc="trajectories started at the programme in the calendar year")

    def declining_sectors(self, month: int) -> np.ndarray:
        d = self.model.demand_index
        return d[month] < d[max(month - 12, 0)] - 1e-12 if month > 0 else d[min(12, len(d) - 1)] < d[0]

    def step(self, month: int) -> None:
        pop, cfg, rng = self.model.pop, self.cfg, self.rng
        # progress and completion; those following a trajectory are kept from the last step
        # (Population.tracked) if nothing else ran since
        following = lambda i: pop.llo_months_left[i] > 0  # noqa: E731
        active = pop.tracked("llo_active", following)
        pop.llo_months_left[active] -= 1
        done = active[pop.llo_months_left[active] == 0]
        self.completions[month] = np.bincount(pop.llo_sector[done], minlength=N_SECTORS)
        pop.qual_sector[done] = pop.llo_sector[done]
        up = rng.random(done.size) < cfg.level_up
        # at least an mbo-2 qualification in the new sector; never lower than what one had
        pop.qual_level[done] = np.maximum(pop.qual_level[done], np.clip(pop.qual_level[done] + up, 2, 4))
        at_mbo = done[(pop.programme[done] >= 0) & (pop.status[done] != Status.MBO_BOL)
                      & (pop.status[done] != Status.MBO_BBL)]
        pop.programme[at_mbo] = -1
        # new trajectories: latent need × reach, annual probabilities turned monthly
        reach = min(cfg.reach * self.model.hooks.llo.reach_factor, 1.0)
        h_emp = 1 - (1 - cfg.need_declining_sector * reach) ** (1 / 12)
        h_unemp = 1 - (1 - cfg.need_unemployed * reach) ** (1 / 12)
        declining = self.declining_sectors(month)

        def hazard(c: np.ndarray) -> np.ndarray:
            status, sector = pop.status[c], pop.sector[c]
            in_declining = (status == Status.EMPLOYED) & (sector >= 0) & declining[np.maximum(sector, 0)]
            h = np.where(status == Status.UNEMPLOYED, h_unemp, np.where(in_declining, h_emp, 0.0))
            ok = (pop.age[c] >= cfg.min_age) & (pop.age[c] <= cfg.max_age) & (pop.llo_months_left[c] == 0)
            return np.where(ok, h, 0.0)

        start = thinned_subset(rng, pop.n, max(h_emp, h_unemp), hazard)
        self.start(start, "individual", month)
        pop.tracked("llo_active", following, added=start)  # for the next step: the continuing and the new

    def target_sector_probabilities(self, own: np.ndarray) -> np.ndarray:
        """P(target sector) for persons qualified in sector ``own`` (-1: none): in proportion to
        the hard-to-fill vacancies (+1), never one's own sector. Rows: persons; columns: sectors."""
        htf = self.model.labour.hard_to_fill().astype(float) + 1.0
        w = np.repeat(htf[None, :], own.size, axis=0)
        w[np.arange(own.size)[own >= 0], own[own >= 0]] = 0.0
        return w / w.sum(1, keepdims=True)

    def expected_at_institutions(self, persons: np.ndarray, mbo_share: float) -> np.ndarray:
        """The expected number of trajectories of ``persons`` (each starting one) that
        :meth:`start` places at each mbo institution, per home municipality (homes ×
        institutions): the sector and mbo draws averaged out, the nearest programme found for
        every sector. Persons of one home and one own sector share the answer, so it costs a
        lookup per (home, sector) pair, not per person; a home's row is what the call with its
        persons alone would give, to the last bit (its groups are summed in the same order)."""
        edu, pop = self.model.education, self.model.pop
        n_inst, n_m = len(edu.institution_names), self.model.n_municipalities
        if persons.size == 0:
            return np.zeros((n_m, n_inst))
        own = pop.qual_sector[persons].astype(np.int64)
        key = pop.municipality[persons].astype(np.int64) * (N_SECTORS + 1) + own + 1
        groups, first, count = np.unique(key, return_index=True, return_counts=True)
        rep = persons[first]  # one person of each (home, own sector) group
        prob = self.target_sector_probabilities(own[first])  # groups × sectors
        prog = edu.nearest_open_programme(np.repeat(rep, N_SECTORS), np.tile(np.arange(N_SECTORS), rep.size),
                                          adults=True).reshape(rep.size, N_SECTORS)
        weight = count[:, None] * prob * mbo_share
        placed = prog >= 0
        home = np.repeat(groups // (N_SECTORS + 1), N_SECTORS).reshape(placed.shape)
        cell = home[placed] * n_inst + edu.programmes.institution[prog[placed]]
        return np.bincount(cell, weights=weight[placed], minlength=n_m * n_inst).reshape(n_m, n_inst)

    def start(self, persons: np.ndarray, source: str, month: int, mbo_share: float | None = None,
              rng: np.random.Generator | None = None) -> np.ndarray:
        """Start trajectories for ``persons`` (recorded by source); returns the mbo programme
        that took each trajectory followed at an mbo (private trajectories are left out).

        Callers other than this process pass their own random stream, so that (say) a change
        of procurement does not shift the draws of individual LLO uptake."""
        if persons.size == 0:
            return np.empty(0, dtype=np.int64)
        pop = self.model.pop
        rng = self.rng if rng is None else rng
        cum = np.cumsum(self.target_sector_probabilities(pop.qual_sector[persons]), axis=1)
        target = np.minimum((rng.random(persons.size)[:, None] >= cum).sum(1), N_SECTORS - 1)
        pop.llo_sector[persons] = target
        pop.llo_months_left[persons] = self.cfg.duration_months
        share = self.cfg.mbo_share if mbo_share is None else mbo_share
        mbo = rng.random(persons.size) < share
        prog = self.model.education.nearest_open_programme(persons[mbo], target[mbo], adults=True)
        placed = persons[mbo][prog >= 0]
        pop.programme[placed] = prog[prog >= 0]
        self.starts_by_programme[self.model.year_index] += np.bincount(
            prog[prog >= 0], minlength=self.model.education.programmes.n
        )
        self.starts[SOURCES.index(source), month] += np.bincount(target, minlength=N_SECTORS)
        self.starts_at_mbo[SOURCES.index(source), month] += np.bincount(target[mbo][prog >= 0], minlength=N_SECTORS)
        return prog[prog >= 0]
