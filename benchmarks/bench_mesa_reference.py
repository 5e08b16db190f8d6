"""Time a plain one-Mesa-Agent-per-person reference of demography + job matching against the vectorised model.

    python benchmarks/bench_mesa_reference.py [--region R] [--scales 0.02 0.05 0.25] [--months 24] [--repeats 3]

The reference (``ReferenceModel``) is deliberately plain: each person is a ``PersonAgent``
(``mesa.Agent``); every month ``model.agents.shuffle_do("step")`` lets each person draw its
separation (layoff / to inactive; unemployed <-> inactive; on-the-job search) with the rates of
``configs/model/default.yaml``; vacancies per (sector, work municipality) are refilled to the
target headcount; each sector matches seekers with the Cobb–Douglas function
M_s = A·S_s^α·V_s^(1-α) (capped at V_s and S_s) in plain Python, each seeker hired in sector s
with probability w_is·M_s/S_s, w_is = fit (1 for the qualification's or last job's sector, the
mean off-field ÷ own-field weight of ``data/field_mobility.csv`` otherwise) × commuting access
(exp(-minutes/decay) averaged over the
sector's vacancies by municipality). Each January persons age, retire at the pension age or die
(Gompertz through q50 with the configured slope) and are removed with ``agent.remove()``; the
new 15-year-old cohort enters as new agents. Not modelled in the reference: education, LLO,
municipal budgets, migration, vacancy ageing/abandonment and the economy's demand paths.

The reference starts from the vectorised model's own base year: a ``RegionModel`` with the same
config is built (untimed) and its persons' arrays, travel matrix, vacancies, targets and cohorts
are copied in. Then, on the same scale and number of months, the script times (a) building the
``ReferenceModel`` from those arrays and running it, (b) building a fresh ``RegionModel`` and
running it (the full model: strictly more work), (c) the model's January demography and monthly
labour market alone ("same work"), and, as a diagnostic, (d) the same with the parts of those two
processes the reference does not have switched off (cross-border hires, WW and bijstand, vacancy
ageing and adaptation, migration: ``strict``). Medians over the repeats; one JSON line per scale.
A larger scale is skipped once the reference's median wall exceeds ``--max-reference-s``.

Sanity check: employment and unemployment at start and end of both are printed. They start equal
and track closely for the first months; by the end the full model has more unemployed, because
its July school leavers enter the labour market and employers abandon hard-to-fill vacancies
(lowering targets), neither of which the reference models.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import time

import mesa
import numpy as np
from mesa.time import Priority, Schedule

from sim.codes import N_SECTORS, Status
from sim.hydra_config import compose
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.processes.labour.market import seek_rates

EMPLOYED, UNEMPLOYED, INACTIVE = int(Status.EMPLOYED), int(Status.UNEMPLOYED), int(Status.INACTIVE)
SCHOOL, BBL = int(Status.SCHOOL), int(Status.MBO_BBL)
ENTRY_AGE = 15


class PersonAgent(mesa.Agent):
    """One resident aged 15 up to the pension age."""

    def __init__(self, model: ReferenceModel, age: int, municipality: int, status: int, sector: int,
                 qual_sector: int, work_municipality: int) -> None:
        super().__init__(model)
        self.age = age
        self.municipality = municipality
        self.status = status
        self.sector = sector
        self.qual_sector = qual_sector
        self.work_municipality = work_municipality

    def step(self) -> None:
        """Monthly: separations and flows between unemployment and inactivity; register as seeker."""
        m = self.model
        r = m.random.random()
        status = self.status
        if status == EMPLOYED:
            if r < m.p_leave:
                m.head[self.sector][self.work_municipality] -= 1
                self.work_municipality = -1
                if r < m.layoff_rate:
                    self.status = UNEMPLOYED
                    m.seekers.append(self)
                else:
                    self.status = INACTIVE
            elif r < m.p_leave + m.on_the_job_search:
                m.seekers.append(self)
        elif status == UNEMPLOYED:
            if r < m.unemployed_to_inactive:
                self.status = INACTIVE
            else:
                m.seekers.append(self)
        elif status == INACTIVE and r < m.seek_rate[self.age]:
            self.status = UNEMPLOYED
            m.seekers.append(self)

    def january(self) -> None:
        """Yearly: a year older; retire at the pension age or die (Gompertz), leaving the model."""
        m = self.model
        self.age += 1
        if self.age >= m.pension_age or m.random.random() < m.mortality(self.age):
            if self.status in (EMPLOYED, BBL) and self.work_municipality >= 0:
                m.head[self.sector][self.work_municipality] -= 1
            self.remove()


def off_field_fit() -> float:
    """The reference's single weight of a sector outside one's field, relative to one's own: the
    mean off-field weight ÷ the mean own-field weight of the model's field-mobility table (the
    model itself uses the whole table, ODD §7.8)."""
    import pandas as pd

    from sim.io.loaders import PACKAGE_DATA_DIR

    fm = pd.read_csv(PACKAGE_DATA_DIR / "field_mobility.csv")
    own = fm["field"] == fm["sector"]
    off = fm.loc[~own, "weight"].sum() / (fm["field"].nunique() * (N_SECTORS - 1))
    return float(off / fm.loc[own, "weight"].mean())


class ReferenceModel(mesa.Model):
    """Demography and job matching with one PersonAgent per person; plain Python throughout."""

    def __init__(self, cfg, state: dict, seed: int) -> None:
        super().__init__(rng=seed)
        lab, pop = cfg.model.labour, cfg.model.population
        self.layoff_rate = lab.layoff_rate
        self.p_leave = lab.layoff_rate + lab.to_inactive_rate
        self.on_the_job_search = lab.on_the_job_search
        self.unemployed_to_inactive = lab.unemployed_to_inactive
        self.seek_rate = seek_rates(pop, lab, cfg.region).tolist()  # per age, 0 from seek_max_age
        self.efficiency = lab.matching_efficiency
        self.alpha = lab.matching_elasticity
        self.other_fit = off_field_fit()
        self.pension_age = pop.pension_age
        self.q50, self.slope = pop.mortality_q50, pop.mortality_slope
        self.mortality_factor = cfg.demography.mortality_factor
        travel = state["travel_mm"].tolist()
        self.n_m = len(travel)
        self.commute = [[math.exp(-t / lab.commute_decay_minutes) for t in row] for row in travel]
        self.vacancies = [[int(v) for v in row] for row in state["vacancies"]]
        self.target = [[float(v) for v in row] for row in state["base_target"]]
        self.head = [[0] * self.n_m for _ in range(N_SECTORS)]
        self.cohorts = state["cohorts"]  # year index -> 15-year-olds per municipality
        self.seekers: list[PersonAgent] = []
        self.person_months = 0
        cols = [state[k].tolist() for k in ("age", "municipality", "status", "sector", "qual_sector",
                                             "work_municipality")]
        for age, home, status, sector, qual, work in zip(*cols, strict=True):
            PersonAgent(self, age, home, status, sector, qual, work)
            if status in (EMPLOYED, BBL) and sector >= 0 and work >= 0:
                self.head[sector][work] += 1
        self.n_months = state["months"]
        self.schedule_recurring(self.january, Schedule(interval=12, start=12.5), priority=Priority.HIGH)

    def mortality(self, age: int) -> float:
        return min(self.q50 * math.exp(self.slope * (age - 50)) * self.mortality_factor, 1.0)

    def step(self) -> None:
        self.person_months += len(self.agents)
        self.seekers = []
        self.agents.shuffle_do("step")
        self.post_vacancies()
        self.match()

    def run(self) -> None:
        self.run_for(self.n_months)

    def post_vacancies(self) -> None:
        """Vacancies of each (sector, municipality) refilled to target - headcount."""
        for s in range(N_SECTORS):
            vac, tgt, head = self.vacancies[s], self.target[s], self.head[s]
            for w in range(self.n_m):
                vac[w] = max(round(tgt[w] - head[w]), 0)

    def match(self) -> None:
        """Cobb–Douglas matching per sector over the seekers (in the shuffled order of this month)."""
        seekers, n_m, rnd, vac = self.seekers, self.n_m, self.random.random, self.vacancies
        if not seekers:
            return
        sectors = range(N_SECTORS)
        v_start = [row[:] for row in vac]
        v_sector = [sum(row) for row in v_start]
        # access[s][h]: commuting weight of home h averaged over sector s's vacancies
        access = [
            [sum(v_start[s][w] * self.commute[h][w] for w in range(n_m)) / max(v_sector[s], 1) for h in range(n_m)]
            for s in sectors
        ]
        s_eff = [0.0] * N_SECTORS
        weights = []
        for a in seekers:
            h, qs, ls = a.municipality, a.qual_sector, a.sector
            w = [(1.0 if s == qs or s == ls else self.other_fit) * access[s][h] for s in sectors]
            for s in sectors:
                s_eff[s] += w[s]
            weights.append(w)
        rate = []
        for s in sectors:
            if s_eff[s] > 0:
                m = self.efficiency * s_eff[s] ** self.alpha * v_sector[s] ** (1 - self.alpha)
                rate.append(min(m, v_sector[s], s_eff[s]) / s_eff[s])
            else:
                rate.append(0.0)
        for a, w in zip(seekers, weights, strict=True):
            p = [w[s] * rate[s] for s in sectors]
            total = sum(p)
            u = rnd() * max(total, 1.0)
            if u >= total:
                continue
            acc, sector = 0.0, N_SECTORS - 1
            for s in sectors:
                acc += p[s]
                if u < acc:
                    sector = s
                    break
            # workplace: a municipality with vacancies of that sector, weighted by commuting
            row, cw = v_start[sector], self.commute[a.municipality]
            wp = [row[w2] * cw[w2] for w2 in range(n_m)]
            x, acc, work = rnd() * sum(wp), 0.0, n_m - 1
            for w2 in range(n_m):
                acc += wp[w2]
                if x < acc:
                    work = w2
                    break
            if vac[sector][work] <= 0:  # filled earlier this month
                continue
            if a.status == EMPLOYED:
                self.head[a.sector][a.work_municipality] -= 1
            a.status, a.sector, a.work_municipality = EMPLOYED, sector, work
            vac[sector][work] -= 1
            self.head[sector][work] += 1

    def january(self) -> None:
        self.agents.do("january")
        for home, k in enumerate(self.cohorts[self.steps // 12]):
            for _ in range(k):
                PersonAgent(self, ENTRY_AGE, home, SCHOOL, -1, -1, -1)

    def count(self, status: int) -> int:
        return sum(1 for a in self.agents if a.status == status)


def reference_state(cfg, data) -> dict:
    """The vectorised model's base year as plain arrays (built once, untimed)."""
    model = RegionModel(cfg, data)
    pop = model.pop
    state = {k: getattr(pop, k).astype(np.int64) for k in ("age", "municipality", "status", "sector", "qual_sector",
                                                            "work_municipality")}
    state["travel_mm"] = model.travel_mm
    state["vacancies"] = model.labour.vacancies.sum(-1)
    state["base_target"] = model.labour.base_target
    state["cohorts"] = {k: model.demography.cohort(cfg.start_year + k).tolist() for k in range(1, cfg.years + 1)}
    state["months"] = model.n_months
    return state


def time_reference(cfg, state: dict, seed: int) -> dict:
    t0 = time.perf_counter()
    ref = ReferenceModel(cfg, state, seed)
    t1 = time.perf_counter()
    start = (ref.count(EMPLOYED), ref.count(UNEMPLOYED))
    t2 = time.perf_counter()
    ref.run()
    t3 = time.perf_counter()
    return {"build": t1 - t0, "run": t3 - t2, "pm": ref.person_months, "start": start,
            "end": (ref.count(EMPLOYED), ref.count(UNEMPLOYED)), "persons_end": len(ref.agents)}


def time_vectorised(cfg, data) -> dict:
    t0 = time.perf_counter()
    model = RegionModel(cfg, data)
    t1 = time.perf_counter()
    c = np.bincount(model.pop.status, minlength=len(Status))
    start = (int(c[EMPLOYED]), int(c[UNEMPLOYED]))
    t2 = time.perf_counter()
    model.run()
    t3 = time.perf_counter()
    c = np.bincount(model.pop.status, minlength=len(Status))
    return {"build": t1 - t0, "run": t3 - t2, "pm": int(model.demography.persons[:-1].sum()), "start": start,
            "end": (int(c[EMPLOYED]), int(c[UNEMPLOYED])), "persons_end": model.pop.n}


# no migration in January (in, out, labour migrants): the reference has none
STRICT_OVERRIDES = ["demography.in_migration_factor=0", "demography.out_migration_factor=0",
                    "model.labour.labour_migrant_return_rate=0"]


def time_vectorised_same_work(cfg, data, strict: bool = False) -> float:
    """Only what the reference does, vectorised: January demography and the monthly labour market
    (separations, vacancies, matching) of the RegionModel, timed without education, LLO,
    municipalities or result recording. ``strict``: also without the parts of those two processes
    the reference does not have (cross-border hires, WW and bijstand, vacancy ageing and
    adaptation, migration in January; the config then needs ``STRICT_OVERRIDES``): a diagnostic
    of how much of the time they take, not the measure of the issue's target."""
    model = RegionModel(cfg, data)
    if strict:
        model.labour_supply.monthly = lambda month, looking=None, key=None: None
        model.labour._update_benefits = lambda joined: None
        model.labour._age_vacancies = lambda month: None
    t0 = time.perf_counter()
    for month in range(model.n_months):
        if month and month % 12 == 0:
            model.time = month + 0.5  # the calendar the January event reads
            model.demography.january()
            model.labour.head_stale = True  # as the model's event wrapper marks it: exits change jobs
        model.labour.step(month)
    return time.perf_counter() - t0


def summarise(runs: list[dict]) -> dict:
    total = statistics.median(r["build"] + r["run"] for r in runs)
    run = statistics.median(r["run"] for r in runs)
    last = runs[0]  # seed 1: the run whose base year the reference copies
    return {"wall_s": round(total, 4), "run_s": round(run, 4), "build_s": round(total - run, 4),
            "person_months_per_s": round(last["pm"] / total), "emp_unemp_start": list(last["start"]),
            "emp_unemp_end": list(last["end"]), "persons_end": last["persons_end"]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", default="zuid_limburg")
    ap.add_argument("--scales", nargs="+", type=float, default=[0.02, 0.25, 1.0])
    ap.add_argument("--months", type=int, default=24, help="a multiple of 12")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-reference-s", type=float, default=60.0,
                    help="skip further scales once the reference's median wall exceeds this")
    args = ap.parse_args(argv)
    if args.months % 12:
        ap.error("--months must be a multiple of 12")
    data = load_region(args.region, compose([f"region={args.region}"]).data_dir)
    for scale in args.scales:
        base = [f"region={args.region}", f"scale={scale}", f"years={args.months // 12}", "progress=false"]
        state = reference_state(compose([*base, "seed=1"]), data)
        persons = int(state["age"].size)
        ref_runs, vec_runs, same_work, strict = [], [], [], []
        for rep in range(args.repeats):
            cfg = compose([*base, f"seed={rep + 1}"])
            ref_runs.append(time_reference(cfg, state, seed=rep + 1))
            vec_runs.append(time_vectorised(cfg, data))
            same_work.append(time_vectorised_same_work(cfg, data))
            strict.append(time_vectorised_same_work(compose([*base, f"seed={rep + 1}", *STRICT_OVERRIDES]), data,
                                                    strict=True))
        ref, vec = summarise(ref_runs), summarise(vec_runs)
        same, strict_s = statistics.median(same_work), statistics.median(strict)
        print(json.dumps({
            "region": args.region, "scale": scale, "months": args.months, "persons": persons,
            "repeats": args.repeats, "reference": ref, "vectorised": vec,
            "speed_ratio": round(ref["wall_s"] / vec["wall_s"], 1),
            "speed_ratio_run_only": round(ref["run_s"] / vec["run_s"], 1),
            "vectorised_same_work_run_s": round(same, 4),
            "speed_ratio_same_work": round(ref["run_s"] / same, 1),
            # diagnostic: without the parts of demography and labour market the reference lacks
            "vectorised_strict_same_work_run_s": round(strict_s, 4),
            "speed_ratio_strict_same_work": round(ref["run_s"] / strict_s, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }), flush=True)
        if ref["wall_s"] > args.max_reference_s:
            break


if __name__ == "__main__":
    main()
