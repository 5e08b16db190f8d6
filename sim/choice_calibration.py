"""Fitting the education choice to the base year: one constant per programme (school leavers
and adults) and the constant κ of the ring's leavers for the region's programmes.

Target: the base-year intake of every programme, I_j = S_j / Σ_y survival_y (its base-year
students S_j sustained by a steady intake with the configured dropout; see
``sim.processes.education.programmes``). The September intake of a programme is school leavers
who choose it, plus doorstroom from the level below (decided in July) plus employed adults who
start a BBL programme. In the base-year September state (the model run to the end of August of
``start_year``, averaged over seeds):

- the expected doorstroom D_j and adult entrants A_j are counted from the state;
- students from the ring around the region (:mod:`sim.processes.education.inflow`) take the
  inflow share of the region's own programmes: their constant κ (added to the region's programmes
  in their choice) by κ ← κ + ln(R / E_R(κ)), R the share × the region's programmes' intake, E_R the
  ring's expected entrants under the same nested logit;
- the region's school leavers fill the rest: T = Σ_j I_j − Σ_j (D_j + A_j + R_j) entrants of N
  leavers (T ÷ N clipped to [0.05, 0.95]), each programme's share of it in proportion to
  max(I_j − D_j − A_j − R_j, ε·I_j);
- each programme constant δ_j is found by the fixed-point iteration for alternative-specific
  constants with an outside good (Berry 1994; Train 2009, ch. 2.8), δ_j ← δ_j + λ·ln(T_j / E_j(δ)),
  where T_j is its target of school leavers and E_j(δ) = Σ_g n_g·P_g(mbo)·P_g(j | mbo) the expected
  number of school leavers choosing it under the nested logit with the outside option of not
  enrolling (P_g(mbo) = logistic(c_mbo + μ·IV_g), IV_g the log-sum of the mbo choice of group g;
  the analytic probabilities that the model's draws follow), summed over the leavers' home
  municipalities and aptitudes. Not enrolling anchors the level of the δ's, so they need no
  normalisation, and c_mbo (collinear with that level) is 0. Until the largest |ln(T_j / E_j)|
  is below the tolerance; |δ_j| ≤ ``DELTA_BOUND`` (a programme hardly any leaver can reach keeps
  its gap, which the fit reports).

Capacity limits are left out of the expectation (programmes take up to 1.5 × their base intake).
The programme constants subsume the sector constants, which the fit sets to 0. The constants are
written to ``configs/calibration/<region>.yaml`` with the other fitted values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import SECTORS, Route, Status
from sim.hydra_config import compose
from sim.model import RegionModel
from sim.processes.education import choice
from sim.processes.education.inflow import aptitude_shares

MIN_TARGET_SHARE = 0.05  # ε: a programme's school-leaver target is at least this share of its intake
MAX_STEP = 2.0  # |λ·ln ratio| per iteration, for a stable start from far away
DELTA_BOUND = 15.0  # |δ_j| at most: a programme hardly anyone can reach is not pushed to infinity (the
# fit then reports its gap)
ALPHA_BOUND = 30.0  # |α_j| likewise for the adults' constants


@dataclass
class BaseYearState:
    """The parts of the base-year September state that the expected intake needs."""

    groups: np.ndarray  # (G, 2): municipality, aptitude of the school leavers
    leavers: np.ndarray  # (G,) school leavers in each group (mbo or not)
    doorstroom: np.ndarray  # (P,) students continuing from the level below (decided in July)
    adult_groups: np.ndarray  # (H,) expected adult BBL entrants per group (home, sector, level)
    adult_weights: np.ndarray  # (H, P) their weights of the programmes, without fitted constants
    target: np.ndarray  # (P,) base-year intake per programme
    sector_utility: np.ndarray  # (S,)
    available: np.ndarray  # (P,) open and, for BBL, with BBL places in the sector
    ring_leavers: np.ndarray  # (R,) school leavers of the ring municipalities
    aptitude_shares: np.ndarray  # (5,) of the region's school leavers


def base_year_state(model: RegionModel) -> BaseYearState:
    """Read the state at the end of August of the base year (run the model to month 8 first)."""
    edu, pop, cfg = model.education, model.pop, model.education.cfg
    p = edu.programmes
    leaving = np.flatnonzero((pop.status == Status.SCHOOL) & (pop.age >= cfg.vo_leave_age - 1))
    key = pop.municipality[leaving].astype(np.int64) * 5 + pop.aptitude[leaving]
    keys, counts = np.unique(key, return_counts=True)
    groups = np.stack([keys // 5, keys % 5], axis=1)
    # adults: employed in the age range start a BBL programme of their sector at the rate
    cand, rate = edu.adult_bbl_candidates()
    group, _, prob = edu.adult_bbl_groups(cand)  # the model was built without fitted constants
    adult_groups = np.bincount(group, weights=rate, minlength=prob.shape[0])
    bbl_left = model.labour.bbl_places()
    available = p.open & ~((p.route == Route.BBL) & (bbl_left[p.sector] <= 0))
    ring = edu.ring.school_leavers(model.year, cfg.vo_leave_age).astype(float)
    return BaseYearState(groups, counts.astype(float), edu.continuing[model.year_index].astype(float),
                         adult_groups, prob, p.base_intake.copy(), edu.sector_utility(), available, ring,
                         aptitude_shares(pop.aptitude[leaving]))


def expected_adults(state: BaseYearState, alpha: np.ndarray) -> np.ndarray:
    """Expected adult BBL entrants per programme with adult constants ``alpha`` (before capacity)."""
    w = state.adult_weights * np.exp(alpha)[None, :]
    total = w.sum(1, keepdims=True)
    prob = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    return state.adult_groups @ prob


def expected_choices(model: RegionModel, state: BaseYearState, asc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the programme probabilities of one mbo entrant (G × P) and the log-sum IV_mbo (G,)."""
    edu, p, ch = model.education, model.education.programmes, model.education.cfg.choice
    tt = edu.travel_hp[state.groups[:, 0]]
    gap = np.abs(p.level[None, :] - state.groups[:, 1][:, None])
    v = choice.programme_utility(asc, tt, gap, p.route == Route.BBL, ch)
    ok = choice.choice_set(tt, state.available, model.cfg.model.travel.choice_set_minutes)
    return choice.nested(v, ok, edu.sector_onehot, state.sector_utility, ch.nest_scale)


@dataclass
class ChoiceFit:
    programme_constants: dict[str, float]  # school leavers' constant per programme
    adult_constants: dict[str, float]  # adults' constant per BBL programme
    participation_constant: float  # c_mbo
    inflow_constant: float  # κ of the ring's school leavers for the region's programmes
    participation: float  # the target base-year participation: school-leaver entrants ÷ leavers
    expected_participation: float  # what the fitted constants give (below the target where programmes are unfitted)
    gap: float  # the largest remaining |ln(target / expected)| of the school leavers (programmes within the bound)
    unfitted: int  # programmes whose constant reached DELTA_BOUND (hardly any school leaver can reach them)

    def summary(self) -> str:
        """One line for the calibration's output: the participation it reached, and what it could not."""
        line = (f"participation {self.expected_participation:.3f} (target {self.participation:.3f}), "
                f"c_mbo {self.participation_constant:+.4f}, largest |ln(target/expected)| {self.gap:.1e}")
        if self.unfitted:
            line += (f"; {self.unfitted} programme constants at the bound ±{DELTA_BOUND:g}: their school leavers' "
                     f"targets are out of reach within the choice sets (ODD, Known simplifications)")
        return line


def fit_programme_constants(region: str, overrides: list[str], seeds: tuple[int, ...] = (1, 2),
                            iterations: int = 2000, tol: float = 1e-4) -> ChoiceFit:
    """Fit the programme constants (school leavers and adults) and the participation constant of
    ``region``.

    Adults and school leavers share a BBL programme's target in the proportion of all adult
    entrants to the whole BBL target (the data do not say who starts which programme)."""
    models, states = [], []
    for seed in seeds:
        cfg = compose([f"region={region}", "scale=1", f"seed={seed}", "years=1", "progress=false", *overrides,
                       *(f"model.education.sector_constant.{s}=0" for s in SECTORS)])
        cfg.model.education.constants_file = None
        cfg.model.education.programme_constants = {}  # (an override {} would merge, not clear)
        cfg.model.education.adult_constants = {}
        model = RegionModel(cfg)
        model.run_for(8)  # to the end of August: July's doorstroom is known
        models.append(model)
        states.append(base_year_state(model))
    model, n = models[0], len(seeds)
    edu = model.education
    lam, mu = edu.cfg.choice.nest_scale, edu.cfg.choice.participation_scale
    target = states[0].target
    doorstroom = sum(s.doorstroom for s in states) / n
    leavers = sum(s.leavers.sum() for s in states) / n
    capacity = edu.intake_cap.astype(float)
    bbl = edu.programmes.route == Route.BBL
    adult_total = sum(s.adult_groups.sum() for s in states) / n
    adult_wanted = np.where(bbl, target * min(adult_total / max(target[bbl].sum(), 1e-9), 1.0), 0.0)
    base_asc = choice.intake_constants(target, lam)
    delta, alpha = np.zeros(edu.programmes.n), np.zeros(edu.programmes.n)
    expected = np.zeros(edu.programmes.n)
    gap, share = np.inf, 0.5
    c_mbo = 0.0  # the level of the programme constants carries the participation (see below)
    # the ring's students: the inflow share of the region's own programmes' intake, fitted by κ
    kappa, in_region = 0.0, edu.programmes.in_region
    ring_target = edu.ring.share * float(target[in_region].sum())
    for _ in range(iterations):
        raw_adults = sum(expected_adults(s, alpha) for s in states) / n
        step = np.clip(np.log(np.maximum(adult_wanted, 1e-9) / np.maximum(raw_adults, 1e-9)), -MAX_STEP, MAX_STEP)
        alpha = np.clip(alpha + np.where(bbl & (raw_adults > 0), step, 0.0), -ALPHA_BOUND, ALPHA_BOUND)
        # adults take what the school leavers and doorstroom leave of the places
        adults = np.minimum(raw_adults, np.maximum(capacity - doorstroom - expected, 0))
        ring = sum(m.education.ring.expected_entrants(s.available, s.ring_leavers, s.aptitude_shares, kappa,
                                                      base_asc + delta, c_mbo) for m, s in zip(models, states,
                                                                                               strict=True)) / n
        if ring_target > 0 and ring.sum() > 0:
            kappa += float(np.clip(np.log(ring_target / ring.sum()), -MAX_STEP, MAX_STEP))
        others = doorstroom + adults + ring
        share = float(np.clip((target.sum() - others.sum()) / leavers, 0.05, 0.95))
        wanted = np.maximum(target - others, MIN_TARGET_SHARE * target)
        wanted *= share * leavers / wanted.sum()  # the leavers fill what is left
        asc = base_asc + delta
        expected = np.zeros(edu.programmes.n)
        entrants = 0.0
        for m, s in zip(models, states, strict=True):
            prob, iv = expected_choices(m, s, asc)
            p_mbo = choice.participation_from_iv(iv, c_mbo, mu)
            expected += (s.leavers * p_mbo) @ prob / n
            entrants += float(s.leavers @ p_mbo) / n
        # a programme no school leaver has in the choice set cannot be fitted (its target is met
        # by doorstroom and adults, or not at all)
        ratio = np.where(expected > 1e-9, np.log(np.maximum(wanted, 1e-9) / np.maximum(expected, 1e-9)), 0.0)
        free = np.abs(delta) < DELTA_BOUND  # a programme at the bound keeps its gap (reported as unfitted)
        gap = float(np.abs(ratio[free]).max()) if free.any() else 0.0
        if gap < tol:
            break
        # each programme's constant by the contraction on its share of all school leavers (the
        # outside option, not enrolling, anchors the level: no normalisation; c_mbo stays as
        # configured, collinear with the level of the δ's)
        delta = np.clip(delta + np.clip(lam * ratio, -MAX_STEP, MAX_STEP), -DELTA_BOUND, DELTA_BOUND)
    ids = edu.programmes.programme_id
    return ChoiceFit({pid: round(float(d), 5) for pid, d in zip(ids, delta, strict=True)},
                     {pid: round(float(a), 5) for pid, a, b in zip(ids, alpha, bbl, strict=True) if b},
                     round(c_mbo, 5), round(kappa, 5), share, entrants / leavers, gap,
                     int((np.abs(delta) >= DELTA_BOUND).sum()))

