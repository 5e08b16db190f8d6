"""The choice not to enrol (issue 12): the participation nest above the mbo choice.

- The pure function ``choice.participation``: the analytic formula on hand examples, monotone in
  travel time, its limits in μ, zero for an empty choice set.
- Closures in paired runs (same seed, common random numbers): a closure with nearby alternatives
  mostly shifts school leavers to other programmes; closing every programme in the region leaves
  only the out-of-region site and mostly lowers participation; a sector closed in the region
  loses school leavers to other sectors, the out-of-region site and non-enrolment.
- After the calibration the base-year participation matches its target within sampling noise.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA_DIR

from sim.choice_calibration import fit_programme_constants
from sim.codes import SECTORS, Route, Status
from sim.config import ChoiceConfig
from sim.hydra_config import compose
from sim.model import RegionModel
from sim.processes.education.choice import choice_set, nested, participation, probabilities, programme_utility


def onehot(sectors: np.ndarray, n_sectors: int) -> np.ndarray:
    out = np.zeros((sectors.size, n_sectors))
    out[np.arange(sectors.size), sectors] = 1.0
    return out


# --- the pure function ------------------------------------------------------------------------------
def test_participation_hand_example_one_sector():
    """One sector, λ = μ = 1: an MNL over {not enrolling (0), programmes (c + v_j)}."""
    v = np.log(np.array([[1.0, 2.0, 5.0]]))
    ok = np.ones_like(v, dtype=bool)
    sector = np.zeros(3, dtype=np.int64)
    p = participation(v, ok, onehot(sector, 1), np.zeros(1), 1.0, constant=0.0, scale=1.0)
    assert p[0] == pytest.approx(8 / 9)
    p = participation(v, ok, onehot(sector, 1), np.zeros(1), 1.0, constant=np.log(0.5), scale=1.0)
    assert p[0] == pytest.approx(4 / 5)
    # with λ = μ = 1 the three levels collapse to one MNL: P(mbo)·P(j | mbo) = e^{c+v_j} / (1 + Σ e^{c+v_k})
    joint = p[0] * probabilities(v, ok, onehot(sector, 1), np.zeros(1), 1.0)[0]
    assert joint == pytest.approx(0.5 * np.array([1, 2, 5]) / (1 + 0.5 * 8))


def test_participation_hand_example_two_sectors():
    """Two sectors, λ = 0.5, μ = 0.4, sector utilities W: IV_s = λ·ln Σ_{j∈s} e^{v_j/λ},
    IV_mbo = ln Σ_s e^{W_s + IV_s}, P(mbo) = logistic(c + μ·IV_mbo)."""
    v = np.array([[0.2, -0.3, 0.5, 1.0]])
    sector = np.array([0, 0, 1, 1])
    w = np.array([0.1, -0.4])
    lam, mu, c = 0.5, 0.4, -0.7
    ok = np.array([[True, True, True, False]])
    iv_s = [lam * np.log(np.exp(0.2 / lam) + np.exp(-0.3 / lam)), lam * np.log(np.exp(0.5 / lam))]
    iv_mbo = np.log(np.exp(w[0] + iv_s[0]) + np.exp(w[1] + iv_s[1]))
    expected = 1 / (1 + np.exp(-(c + mu * iv_mbo)))
    _, iv = nested(v, ok, onehot(sector, 2), w, lam)
    assert iv[0] == pytest.approx(iv_mbo)
    assert participation(v, ok, onehot(sector, 2), w, lam, c, mu)[0] == pytest.approx(expected)


def test_participation_falls_with_travel_and_is_zero_without_choice():
    rng = np.random.default_rng(3)
    n, k = 50, 12
    sector = rng.integers(0, 4, k)
    asc = rng.normal(0, 1, k)
    travel = rng.uniform(5, 60, (n, k))
    gap = rng.integers(0, 3, (n, k))
    w = ChoiceConfig()
    su = rng.normal(0, 0.5, 4)
    available = rng.random(k) < 0.8
    prev = None
    for extra in (0.0, 10.0, 30.0, 60.0):  # raise travel to every programme
        tt = travel + extra
        v = programme_utility(asc, tt, gap, np.zeros(k, dtype=bool), w)
        ok = np.broadcast_to(available[None, :], (n, k))  # the same set: only utility changes
        p = participation(v, ok, onehot(sector, 4), su, 0.5, constant=1.0, scale=0.5)
        assert ((p > 0) & (p < 1)).all()
        if prev is not None:
            assert (p < prev).all()
        prev = p
    # the cut-off: nothing within the choice set, no mbo
    tt = travel + 200.0
    v = programme_utility(asc, tt, gap, np.zeros(k, dtype=bool), w)
    ok = choice_set(tt, available, 90.0)
    assert (participation(v, ok, onehot(sector, 4), su, 0.5, 1.0, 0.5) == 0).all()


def test_participation_scale_limits():
    v = np.array([[0.0, 1.0], [-3.0, -2.0]])
    ok = np.ones_like(v, dtype=bool)
    sector = np.array([0, 1])
    c = 0.3
    # μ → 0: the log-sum no longer matters, P → logistic(c) for every row
    p = participation(v, ok, onehot(sector, 2), np.zeros(2), 0.5, c, 1e-9)
    assert p == pytest.approx(np.full(2, 1 / (1 + np.exp(-c))))
    # μ = 1 vs smaller μ: the row with the better programmes (IV_mbo > 0) gains from a larger μ,
    # the worse row (IV_mbo < 0) loses
    _, iv = nested(v, ok, onehot(sector, 2), np.zeros(2), 0.5)
    assert iv[0] > 0 > iv[1]
    p1 = participation(v, ok, onehot(sector, 2), np.zeros(2), 0.5, c, 1.0)
    p_half = participation(v, ok, onehot(sector, 2), np.zeros(2), 0.5, c, 0.5)
    assert p1[0] > p_half[0] and p1[1] < p_half[1]


# --- closures in paired runs --------------------------------------------------------------------------
SCALE = 0.5


def intake_after(close=None, seed: int = 3):
    """Run Zuid-Limburg to the end of August of the second school year, close the programmes
    ``close(model)`` selects, run the September intake; return the education process."""
    cfg = compose(["region=zuid_limburg", f"scale={SCALE}", "years=2", f"seed={seed}", "progress=false",
                   "write_plots=false", f"data_dir={DATA_DIR}"])
    model = RegionModel(cfg)
    model.run_for(12 + 8)
    if close is not None:
        model.education.programmes.open[close(model.education.programmes)] = False
    model.run_for(1)  # the September intake of school year 1
    return model.education


def entrants(edu, y: int = 1) -> float:
    return float(edu.leavers_enrolled_in_region[y].sum() + edu.leavers_enrolled_out_of_region[y].sum())


@pytest.fixture(scope="module")
def base():
    return intake_after()


def test_closure_with_nearby_alternatives_mostly_shifts_students(base):
    p = base.programmes
    # the three largest in-region BOL programmes (no adult entrants) whose qualification is taught
    # at another in-region site
    other_site = np.array([((p.crebo == p.crebo[j]) & (p.site != p.site[j]) & (p.site_municipality >= 0)).any()
                           for j in range(p.n)])
    size = np.where((p.site_municipality >= 0) & other_site & (p.route == Route.BOL), p.base_intake, 0)
    close = np.argsort(-size, kind="stable")[:3]
    closed = intake_after(lambda prog: close)
    leavers_there = float((base.intake[1, close] - base.continuing[1, close]).sum())  # BOL: no adults
    assert leavers_there > 20
    lost = entrants(base) - entrants(closed)
    # most of the school leavers who chose the closed programmes enrol elsewhere
    assert lost < 0.2 * leavers_there, (lost, leavers_there)
    assert abs(closed.participation[1] - base.participation[1]) < 0.01
    assert (closed.intake[1, close] == closed.continuing[1, close]).all()  # only July's doorstroom


def test_closing_every_programme_in_the_region_lowers_participation(base):
    closed = intake_after(lambda prog: prog.site_municipality >= 0)
    assert closed.leavers_enrolled_in_region[1].sum() == 0
    # only the sites outside the region (Gilde, Roermond and Venlo) are left: more go there, the
    # rest (most of those who lose their programme) do not enrol
    out_before = base.leavers_enrolled_out_of_region[1].sum()
    out_after = closed.leavers_enrolled_out_of_region[1].sum()
    assert out_after > out_before
    assert closed.participation[1] < 0.6 * base.participation[1]
    lost = entrants(base) - entrants(closed)
    gained_out = out_after - out_before
    not_enrolled_rise = closed.leavers_not_enrolled[1].sum() - base.leavers_not_enrolled[1].sum()
    assert not_enrolled_rise == pytest.approx(lost, rel=1e-9)
    assert not_enrolled_rise > 0 and gained_out > 0
    # every entrant lost in the region either goes out of the region or does not enrol
    in_lost = base.leavers_enrolled_in_region[1].sum()
    assert in_lost == pytest.approx(not_enrolled_rise + gained_out, rel=1e-9)
    # the table balances: every school leaver is in exactly one of its columns
    total = (closed.leavers_enrolled_in_region[1].sum() + out_after + closed.leavers_not_enrolled[1].sum())
    assert total == pytest.approx(closed.school_leavers[1])


def test_closing_a_sector_in_the_region(base):
    """Care closed in the region: its school leavers go to other sectors (the sector is a choice
    within mbo), to care at the out-of-region site, or do not enrol; none goes to care in the region."""
    p = base.programmes
    s = SECTORS.index("care")
    closed = intake_after(lambda prog: (prog.site_municipality >= 0) & (prog.sector == s))
    assert closed.leavers_enrolled_in_region[1][:, s].sum() == 0
    lost_care = base.leavers_enrolled_in_region[1][:, s].sum()
    assert lost_care > 50
    other = [i for i in range(len(SECTORS)) if i != s]
    to_other = closed.leavers_enrolled_in_region[1][:, other].sum() - base.leavers_enrolled_in_region[1][:, other].sum()
    not_enrolled = closed.leavers_not_enrolled[1].sum() - base.leavers_not_enrolled[1].sum()
    assert to_other > 0 and not_enrolled > 0
    assert to_other + not_enrolled + (closed.leavers_enrolled_out_of_region[1].sum()
                                      - base.leavers_enrolled_out_of_region[1].sum()) == pytest.approx(lost_care)
    assert closed.participation[1] < base.participation[1]
    if ((p.site_municipality < 0) & (p.sector == s)).any():
        out = closed.leavers_enrolled_out_of_region[1][:, s].sum()
        assert out >= base.leavers_enrolled_out_of_region[1][:, s].sum()


def test_no_programme_within_the_choice_set_means_no_mbo():
    """With a choice set of 15 minutes, school leavers of municipalities without a site that near
    do not enrol; those with one do."""
    cfg = compose(["region=zuid_limburg", f"scale={SCALE}", "years=1", "seed=1", "progress=false",
                   "write_plots=false", f"data_dir={DATA_DIR}", "model.travel.choice_set_minutes=15"])
    model = RegionModel(cfg)
    model.run_for(9)
    edu = model.education
    near = (edu.travel_hp <= 15).any(1)
    assert near.any() and (~near).any()
    entered = edu.leavers_enrolled_in_region[0].sum(1) + edu.leavers_enrolled_out_of_region[0].sum(1)
    assert (entered[~near] == 0).all()
    assert (entered[near] > 0).all()


# --- calibration -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("region", ["achterhoek", "zeeland", "zuid_limburg"])
def test_base_year_participation_matches_the_fit(region):
    """The shipped calibration (configs/calibration/<region>.yaml) gives the base-year participation
    the choice fit expects, within sampling noise (binomial, mean of three seeds at full scale); the
    fit reaches its target where every programme can be fitted (Zeeland, Zuid-Limburg; in the
    Achterhoek a few far outside programmes stay at the bound of their constant)."""
    fit = fit_programme_constants(region, [f"data_dir={DATA_DIR}"])
    assert fit.gap < 1e-3
    shares, leavers = [], []
    for seed in (1, 2, 3):
        cfg = compose([f"region={region}", "scale=1", "years=1", f"seed={seed}", "progress=false",
                       "write_plots=false", f"data_dir={DATA_DIR}"])
        model = RegionModel(cfg)
        model.run_for(9)
        shares.append(model.education.participation[0])
        leavers.append(model.education.school_leavers[0])
    p = fit.expected_participation
    noise = np.sqrt(p * (1 - p) / (np.mean(leavers) * 3))
    assert abs(np.mean(shares) - p) < 4 * noise + 0.005, (np.mean(shares), p)
    if fit.unfitted == 0:
        assert abs(p - fit.participation) < 0.005
    cfg = compose([f"region={region}"])
    assert cfg.model.education.participation_constant == pytest.approx(fit.participation_constant, abs=2e-3)


# --- the shift from vmbo to havo/vwo ----------------------------------------------------------------------
def test_the_havo_shift_moves_school_leavers_from_mbo_to_other_education():
    """``havo_shift_per_year`` h: school leavers' P(mbo) is (1 − h)^t times the choice model's t
    years after the start year (ODD §7.10). Paired runs (Zeeland 1:1, the same seed) with h = 0 and
    an exaggerated h = 0.05: the base year is the same to the person (the factor is 1 and the draws
    are the same); in the later years participation falls by about the factor (binomial noise: one
    standard deviation of the ratio is about 1.3 %); those who do not enrol go to other education;
    and fewer of the ring's school leavers come in."""
    from sim.runner import simulate

    def run(h):
        return simulate(compose(["region=zeeland", "scale=1", "years=4", "seed=2", "progress=false",
                                 "write_plots=false", f"data_dir={DATA_DIR}",
                                 f"model.education.havo_shift_per_year={h}"]))

    a, b = run(0.0), run(0.05)
    ea, eb = a.education, b.education
    assert eb.participation[0] == ea.participation[0]
    assert (eb.intake[0] == ea.intake[0]).all()
    for y in (1, 2, 3):
        ratio = eb.participation[y] / ea.participation[y]
        assert abs(ratio - 0.95**y) < 0.04, (y, ratio, 0.95**y)
    assert eb.leavers_not_enrolled[3].sum() > ea.leavers_not_enrolled[3].sum()
    other = int(Status.OTHER_EDUCATION)
    assert np.count_nonzero(b.pop.status == other) > np.count_nonzero(a.pop.status == other)
    ring_a, ring_b = ea.ring.entrants[1:].sum(), eb.ring.entrants[1:].sum()
    assert ring_a > 20 and ring_b < ring_a, (ring_a, ring_b)
