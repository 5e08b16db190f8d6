"""Labour supply that responds to tightness: cross-border commuters and labour migrants.

- **Cross-border commuters in** (living in Belgium or Germany, working in the region) are a stock of
  jobs per (sector, work municipality), not persons: they do not live here. They leave at the
  residents' separation rates; each month, employers on the border hire
  ``base × separation rate × (vacancy-rate ratio)^η`` of them, so the base-year stock is
  stationary and grows when the region's sector is tighter than in the base year.
- **Cross-border commuters out** are residents of the border municipalities who work abroad
  (``work_municipality = ABROAD``): employed persons, but they hold no job in the region. They
  separate like everyone; each month ``base × separation rate × (1 / vacancy-rate ratio)^η``
  unemployed residents of the border municipalities take a job abroad: fewer when the region is
  tight.
- **Labour migrants** (EU workers, whom the report names for Zeeland's agriculture, hospitality
  and industry) are persons with ``labour_migrant = 1``. Each January a share
  ``labour_migrant_return_rate`` leaves, and ``base × return rate × (vacancy-rate ratio)^η``
  arrive per sector, straight into open vacancies (recruited for them), capped by those.

η is ``cross_border_elasticity`` and ``labour_migration_elasticity``; the ratio is the sector's
vacancies per job over the last 12 months ÷ the base year's
(:meth:`LabourMarket.vacancy_rate_ratio`). Base-year levels: ``data/cross_border_commuting.csv``,
``data/labour_migration.csv``, placed by ``data/border_municipalities.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import N_SECTORS, Status
from sim.processes.labour.market import remove_from_buckets, search_by_row
from sim.sampling import first_within_capacity

if TYPE_CHECKING:
    from sim.model import RegionModel

ABROAD = -2  # work_municipality of residents who work across the border
MIGRANT_AGES = (20, 45)  # assumption: EU labour migrants arrive aged 20-44 (most are 20-40, CBS)


class LabourSupply:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        self.cfg = model.cfg.model.labour
        d, k = model.data.labour, model.cfg.scale
        self.base_in = d.commuters_in * k  # model scale
        self.base_out = d.commuters_out * k
        self.base_migrants = d.labour_migrants * k
        self.border = d.border_weight
        self._border_table: np.ndarray | None = None  # LabourMarket.search_table of the border weights
        self.rng = model.streams["labour.supply"]
        self.new_abroad = np.zeros(0, dtype=np.int64)  # hired abroad since the last record
        r = model.results
        ms = ("month", "sector")
        self.measures = {
            "commuters_in": r.declare("labour_supply", "commuters_in", ms, "persons",
                                      doc="jobs in the region held by persons living abroad (end of month)"),
            "commuters_out": r.declare("labour_supply", "commuters_out", ms, "persons",
                                       doc="residents working abroad (end of month)"),
            "migrant_arrivals": r.declare("labour_supply", "migrant_arrivals", ms, "persons",
                                          doc="labour migrants who arrived (January) into open vacancies"),
            "migrant_departures": r.declare("labour_supply", "migrant_departures", ms, "persons",
                                            doc="labour migrants who left the region (January)"),
        }

    # --- base year ----------------------------------------------------------------------------
    def initialise(self) -> None:
        """Before the labour market's own: place the base-year cross-border commuters and flag the
        labour migrants among the employed (the registered population includes them)."""
        model, pop, rng = self.model, self.model.pop, self.rng
        n_m = model.n_municipalities
        employed = np.flatnonzero(pop.status == Status.EMPLOYED)
        # residents of the border who work abroad, by sector
        w = self.border[pop.municipality[employed]]
        for s in range(N_SECTORS):
            cand = employed[(pop.sector[employed] == s) & (w > 0) & (pop.work_municipality[employed] >= 0)]
            n = min(int(rng.poisson(self.base_out[s])), cand.size)
            if n:
                p = self.border[pop.municipality[cand]]
                pick = rng.choice(cand, size=n, replace=False, p=p / p.sum())
                pop.work_municipality[pick] = ABROAD
        # labour migrants: employed persons of migrant age in the sector
        young = employed[(pop.age[employed] >= MIGRANT_AGES[0]) & (pop.age[employed] < MIGRANT_AGES[1])]
        for s in range(N_SECTORS):
            cand = young[(pop.sector[young] == s) & (pop.work_municipality[young] >= 0)]
            n = min(int(rng.poisson(self.base_migrants[s])), cand.size)
            if n:
                pop.labour_migrant[rng.choice(cand, size=n, replace=False)] = 1
        # commuters in: jobs in the border municipalities
        if self.border.sum() > 0:
            for s in range(N_SECTORS):
                n = int(rng.poisson(self.base_in[s]))
                self.model.labour.commuters_in[s] = np.bincount(rng.choice(n_m, size=n, p=self.border), minlength=n_m)

    # --- every month --------------------------------------------------------------------------
    def monthly(self, month: int, looking: np.ndarray | None = None, key: np.ndarray | None = None) -> None:
        """Cross-border hires, after the month's vacancies are posted and before residents match.
        ``looking``: the unemployed looking for work, if the caller has them (else found here), and
        ``key``, their rows of the search tables (:meth:`LabourMarket.search_key`), if it has them."""
        lab, cfg, rng = self.model.labour, self.cfg, self.rng
        ratio = lab.vacancy_rate_ratio()
        sep = cfg.layoff_rate + cfg.to_inactive_rate
        if self.border.sum() > 0:
            # hires of commuters from abroad: by the border's weight among the sector's vacancies
            lam = self.base_in * sep * ratio**cfg.cross_border_elasticity
            n = rng.poisson(lam)
            v_cell = lab.vacancies.sum(-1)
            fills = np.zeros_like(v_cell)
            for s in np.flatnonzero(n):
                w = v_cell[s] * self.border
                if w.sum() > 0:
                    fills[s] = np.minimum(rng.multinomial(n[s], w / w.sum()), v_cell[s])
            lab.commuters_in += fills
            lab.head += fills
            lab.hires += fills.sum(1)
            lab.vacancies = remove_from_buckets(lab.vacancies, fills, oldest_first=True)
            looking = lab.unemployed_looking() if looking is None else looking
            self._out_hires(self.base_out * sep * (1 / ratio) ** cfg.cross_border_elasticity, looking,
                            lab.search_key(looking) if key is None else key)

    def _out_hires(self, lam: np.ndarray, looking: np.ndarray, key: np.ndarray) -> None:
        """Unemployed residents of the border municipalities take a job abroad: ``lam[s]`` are
        expected in sector s, spread over the seekers by their search in s and their home's
        border weight (one draw per seeker, then the sector among their terms). ``key``: the
        seekers' rows of the search tables."""
        pop, rng = self.model.pop, self.rng
        near = self.border[pop.municipality[looking]] > 0
        unemp, key = looking[near], key[near]
        if unemp.size == 0 or lam.sum() == 0:
            return
        # search per (search type, home): the search rows times the home's border weight (fixed,
        # as the search rows are: made once)
        if self._border_table is None:
            self._border_table = self.model.labour.search_table(self.border)
        table = self._border_table
        search = search_by_row(table, key)[1]
        terms = table * (lam / np.maximum(search, 1e-12))[None, :]
        total = terms.sum(1)
        over = total > 1
        terms[over] /= total[over, None]
        total = np.minimum(total, 1.0)
        hit = np.flatnonzero(rng.random(unemp.size) < total[key])
        who, key = unemp[hit], key[hit]
        if who.size == 0:
            return
        cum = np.cumsum(terms[key], axis=1)  # only the rows of those hired
        sector = (rng.random(who.size)[:, None] * cum[:, -1:] >= cum).sum(1)
        pop.status[who] = Status.EMPLOYED
        pop.sector[who] = np.minimum(sector, N_SECTORS - 1)
        pop.work_municipality[who] = ABROAD
        self.new_abroad = np.concatenate([self.new_abroad, who])
        pop.benefit[who] = 0
        pop.benefit_months[who] = 0
        pop.months_in_state[who] = 0

    def record_month(self, month: int) -> None:
        pop = self.model.pop
        # those working abroad, kept from the last record (Population.tracked): the month's new ones
        # added, those who left their job abroad taken out
        abroad = pop.tracked("abroad", lambda i: pop.work_municipality[i] == ABROAD, added=self.new_abroad)
        self.new_abroad = np.zeros(0, dtype=np.int64)
        abroad = abroad[pop.status[abroad] == Status.EMPLOYED]
        self.measures["commuters_out"][month] = pop.count("sector", N_SECTORS, where=abroad)
        self.measures["commuters_in"][month] = self.model.labour.commuters_in.sum(1)

    # --- every January ------------------------------------------------------------------------
    def departures(self, leaving: np.ndarray) -> np.ndarray:
        """January, within the demography's (which removes everyone leaving at once): a share
        ``labour_migrant_return_rate`` of the labour migrants not leaving otherwise goes home.
        Marks them in ``leaving`` (a mask over persons) and returns their positions."""
        pop, month = self.model.pop, self.model.month_index
        migrants = np.flatnonzero(pop.labour_migrant == 1)
        migrants = migrants[~leaving[migrants]]
        home = migrants[self.rng.random(migrants.size) < self.cfg.labour_migrant_return_rate]
        leaving[home] = True
        self.measures["migrant_departures"][month] = np.bincount(pop.sector[home].astype(np.intp) + 1,
                                                                 minlength=N_SECTORS + 1)[1:]
        return home

    def january(self) -> None:
        """Labour migrants arrive (after the demography's January, where others went home)."""
        model, pop, cfg, rng, lab = self.model, self.model.pop, self.cfg, self.rng, self.model.labour
        month = model.month_index
        m = self.measures
        ratio = lab.vacancy_rate_ratio() ** cfg.labour_migration_elasticity
        lam = self.base_migrants * cfg.labour_migrant_return_rate * ratio
        want = rng.poisson(lam)
        v_cell = lab.vacancies.sum(-1)
        n_m = model.n_municipalities
        sector, work = [], []
        for s in np.flatnonzero(want):
            if v_cell[s].sum() == 0:
                continue
            cells = rng.choice(n_m, size=int(want[s]), p=v_cell[s] / v_cell[s].sum())
            sector.append(np.full(cells.size, s))
            work.append(cells)
        if not sector:
            return
        sector, work = np.concatenate(sector), np.concatenate(work)
        keep = first_within_capacity(rng, sector * n_m + work, v_cell.ravel())
        sector, work = sector[keep], work[keep]
        n = sector.size
        pcfg = model.cfg.model.population
        levels = np.asarray(pcfg.level_shares_adults)
        new = pop.append(n, age=rng.integers(*MIGRANT_AGES, size=n), municipality=work, status=Status.EMPLOYED,
                         sector=sector, work_municipality=work, qual_sector=sector,
                         qual_level=rng.choice(levels.size, size=n, p=levels / levels.sum()),
                         labour_migrant=1)
        pop.aptitude[new] = model.demography.draw_aptitude(rng, n)
        fills = np.bincount(sector * n_m + work, minlength=N_SECTORS * n_m).reshape(N_SECTORS, n_m)
        lab.vacancies = remove_from_buckets(lab.vacancies, fills, oldest_first=True)
        model.demography.entries["in_migration"][month] += n
        m["migrant_arrivals"][month] = np.bincount(sector, minlength=N_SECTORS)
