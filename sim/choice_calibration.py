"""Fitting the education choice to the base year: one constant per programme and the constant
c_mbo of the choice to enrol in mbo at all (the participation constant).

Target: the base-year intake of every programme, I_j = S_j / Σ_y survival_y (its base-year
students S_j sustained by a steady intake with the configured dropout; see
``sim.processes.education.programmes``). The September intake of a programme is school leavers
who choose it, plus doorstroom from the level below (decided in July) plus employed adults who
start a BBL programme. In the base-year September state (the model run to the end of August of
``start_year``, averaged over seeds):

- the expected doorstroom D_j and adult entrants A_j are counted from the state;
- school leavers fill the rest: T = Σ_j I_j − Σ_j (D_j + A_j) entrants of N leavers, the target
  participation T ÷ N (clipped to [0.05, 0.95]);
- the participation constant c_mbo is found by the logit contraction
  c ← c + ln(T / E) − ln((N − T) / (N − E)), where E = Σ_g n_g·P_g(mbo) is the expected number of
  entrants under the top level of the nested logit (``choice.participation``: P_g(mbo) =
  logistic(c + μ·IV_g), IV_g the log-sum of the mbo choice of group g);
- each programme constant δ_j is found by the fixed-point iteration for alternative-specific
  constants (Berry 1994; Train 2009, ch. 2.8), δ_j ← δ_j + λ·ln(T_j / E_j(δ)), where T_j =
  max(I_j − D_j − A_j, ε·I_j) is its target of school leavers and E_j(δ) = Σ_g n_g·P_g(mbo)·P_g(j | mbo)
  the expected number of school leavers choosing it under the nested logit (the analytic
  probabilities that the model's draws follow), summed over the leavers' home municipalities and
  aptitudes. Both updates run together until the largest |ln(T_j / E_j)| is below the tolerance.

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

MIN_TARGET_SHARE = 0.05  # ε: a programme's school-leaver target is at least this share of its intake
MAX_STEP = 2.0  # |λ·ln ratio| per iteration, for a stable start from far away


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
    adult_groups = np.bincount(group, minlength=prob.shape[0]) * rate
    bbl_left = model.labour.bbl_places()
    available = p.open & ~((p.route == Route.BBL) & (bbl_left[p.sector] <= 0))
    return BaseYearState(groups, counts.astype(float), edu.continuing[model.year_index].astype(float),
                         adult_groups, prob, p.base_intake.copy(), edu.sector_utility(), available)


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
    participation: float  # the target (and fitted) base-year participation: school-leaver entrants ÷ leavers
    gap: float  # the largest remaining |ln(target / expected)| of the school leavers


def fit_programme_constants(region: str, overrides: list[str], seeds: tuple[int, ...] = (1, 2),
                            iterations: int = 300, tol: float = 1e-4) -> ChoiceFit:
    """Fit the programme constants (school leavers and adults) and the participation constant of
    ``region``.

    Adults and school leavers share a BBL programme's target in the proportion of all adult
    entrants to the whole BBL target (the data do not say who starts which programme)."""
    models, states = [], []
    for seed in seeds:
        cfg = compose([f"region={region}", "scale=1", f"seed={seed}", "years=1", "progress=false", *overrides,
                       *(f"model.education.sector_constant.{s}=0" for s in SECTORS)])
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
    c_mbo = float(edu.cfg.participation_constant)
    for _ in range(iterations):
        raw_adults = sum(expected_adults(s, alpha) for s in states) / n
        alpha += np.where(bbl & (raw_adults > 0), np.clip(np.log(np.maximum(adult_wanted, 1e-9) / np.maximum(
            raw_adults, 1e-9)), -MAX_STEP, MAX_STEP), 0.0)
        # adults take what the school leavers and doorstroom leave of the places
        adults = np.minimum(raw_adults, np.maximum(capacity - doorstroom - expected, 0))
        others = doorstroom + adults
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
        ratio = np.log(np.maximum(wanted, 1e-9) / np.maximum(expected, 1e-9))
        gap = float(np.abs(ratio).max())
        if gap < tol:
            break
        # participation: the logit contraction on the total; programmes: their shares within mbo
        c_step = np.log(share / max(entrants / leavers, 1e-12)) - np.log((1 - share) / max(1 - entrants / leavers,
                                                                                            1e-12))
        c_mbo += float(np.clip(c_step, -MAX_STEP, MAX_STEP))
        delta += np.clip(lam * ratio, -MAX_STEP, MAX_STEP)
        delta -= delta.mean()
    ids = edu.programmes.programme_id
    return ChoiceFit({pid: round(float(d), 5) for pid, d in zip(ids, delta, strict=True)},
                     {pid: round(float(a), 5) for pid, a, b in zip(ids, alpha, bbl, strict=True) if b},
                     round(c_mbo, 5), share, gap)

