"""Unit tests of the pure education functions: the nested-logit choice and allocation within places."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Route
from sim.config import ChoiceConfig
from sim.processes.education.allocation import Admissions, allocate, available
from sim.processes.education.choice import choice_set, choose, programme_utility, prospects

N = 40_000


def onehot(sectors: np.ndarray, n_sectors: int) -> np.ndarray:
    out = np.zeros((sectors.size, n_sectors))
    out[np.arange(sectors.size), sectors] = 1.0
    return out


def test_prospects_standardised_and_ordered():
    z = prospects(np.array([10.0, 100.0, 1000.0]), np.array([100, 100, 100]))
    assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
    assert z[0] < z[1] < z[2]
    assert (prospects(np.array([5.0, 5.0]), np.array([3, 3])) == 0).all()  # no spread: no signal


def test_utility_terms_have_their_weights():
    w = ChoiceConfig(travel_per_10_minutes=-0.5, level_mismatch=-2.0, bbl_constant=-1.0)
    v = programme_utility(np.array([1.0, 2.0]), np.array([[20.0, 0.0]]), np.array([[1, 0]]),
                          np.array([False, True]), w)
    assert v.tolist() == [[1.0 - 1.0 - 2.0, 2.0 - 1.0]]


def test_choice_set_has_no_fallback():
    """Nothing within the cut-off: an empty choice set (that school leaver stays out of mbo)."""
    travel = np.array([[10.0, 50.0, 30.0], [60.0, 70.0, 80.0]])
    available = np.array([True, True, False])
    ok = choice_set(travel, available, 45.0)
    assert ok.tolist() == [[True, False, False], [False, False, False]]


def test_plain_logit_shares_follow_exp_utility():
    """With one sector and λ = 1 the choice is a multinomial logit: shares ∝ exp(v)."""
    rng = np.random.default_rng(1)
    v_row = np.log(np.array([1.0, 2.0, 5.0]))
    v = np.repeat(v_row[None, :], N, axis=0)
    ok = np.ones_like(v, dtype=bool)
    sector = np.zeros(3, dtype=np.int64)
    c = choose(rng, v, ok, sector, onehot(sector, 1), np.zeros(1), nest_scale=1.0)
    share = np.bincount(c, minlength=3) / N
    expected = np.array([1, 2, 5]) / 8
    assert np.abs(share - expected).max() < 4 * np.sqrt(expected * (1 - expected) / N).max()


def test_nested_logit_sector_shares_use_the_inclusive_value():
    """Sector shares ∝ exp(x_s + λ log Σ exp(v/λ)); within a sector, programme shares ∝ exp(v/λ)."""
    rng = np.random.default_rng(2)
    lam = 0.5
    v_row = np.log(np.array([1.0, 1.0, 3.0]))  # sector 0: programmes 0, 1; sector 1: programme 2
    sector = np.array([0, 0, 1])
    x = np.array([0.3, 0.0])
    v = np.repeat(v_row[None, :], N, axis=0)
    c = choose(rng, v, np.ones_like(v, dtype=bool), sector, onehot(sector, 2), x, nest_scale=lam)
    iv = lam * np.log(np.array([np.exp(v_row[:2] / lam).sum(), np.exp(v_row[2] / lam)]))
    p_sector = np.exp(x + iv) / np.exp(x + iv).sum()
    got = np.array([(c < 2).mean(), (c == 2).mean()])
    assert np.abs(got - p_sector).max() < 4 * np.sqrt(p_sector[0] * p_sector[1] / N)
    within = np.bincount(c[c < 2], minlength=2) / (c < 2).sum()
    assert within == pytest.approx([0.5, 0.5], abs=0.02)


def test_choice_respects_the_choice_set_and_marks_empty_sets():
    rng = np.random.default_rng(3)
    v = np.zeros((4, 3))
    ok = np.array([[True, False, False], [False, False, True], [False, False, False], [False, True, True]])
    sector = np.array([0, 1, 1])
    c = choose(rng, v, ok, sector, onehot(sector, 2), np.zeros(2), nest_scale=0.5)
    assert c[0] == 0 and c[1] == 2 and c[2] == -1 and c[3] in (1, 2)


def test_allocation_within_places_and_bbl_places():
    rng = np.random.default_rng(4)
    route = np.array([Route.BOL, Route.BBL, Route.BOL])
    sector = np.array([0, 0, 1])
    places = np.array([30, 100, 1000])
    bbl_places = np.array([20, 0])

    def everyone_wants_the_first_available(pending, available):
        first = np.argmax(available) if available.any() else -1
        return np.full(pending.size, first), np.zeros(3)

    result = allocate(rng, 500, Admissions(places, 1.0), bbl_places, route, sector, everyone_wants_the_first_available)
    counts = np.bincount(result[result >= 0], minlength=3)
    assert counts[0] == 30  # BOL places bind
    assert counts[1] == 20  # BBL places of the sector bind before the programme's places
    assert counts[2] == 450  # the rest choose again and get the third
    assert (result >= 0).all()


def test_allocation_stops_when_nothing_is_available():
    rng = np.random.default_rng(5)
    calls = []

    def chooser(pending, available):
        calls.append(available.copy())
        return np.where(available.any(), np.argmax(available), -1) * np.ones(pending.size, dtype=np.int64), np.zeros(2)

    result = allocate(rng, 10, Admissions(np.array([3, 0]), 1.0), np.zeros(1, dtype=np.int64),
                      np.array([Route.BOL, Route.BOL]), np.array([0, 0]), chooser)
    assert (result == 0).sum() == 3 and (result == -1).sum() == 7
    assert len(calls) == 2 and not calls[-1].any()  # second round: nothing left, everyone stops


def test_probabilities_are_what_choose_draws_from():
    """The analytic probabilities (used by the calibration) match the frequencies of the draws."""
    from sim.processes.education.choice import probabilities

    rng = np.random.default_rng(6)
    sector = np.array([0, 0, 1, 2, 2])
    v_row = np.array([0.2, -0.4, 0.5, 0.0, 0.3])
    ok_row = np.array([True, True, True, False, True])
    x = np.array([0.1, -0.2, 0.4])
    v = np.repeat(v_row[None, :], N, axis=0)
    ok = np.repeat(ok_row[None, :], N, axis=0)
    p = probabilities(v[:1], ok[:1], onehot(sector, 3), x, 0.6)[0]
    assert p.sum() == pytest.approx(1.0) and p[3] == 0.0
    c = choose(rng, v, ok, sector, onehot(sector, 3), x, nest_scale=0.6)
    freq = np.bincount(c, minlength=5) / N
    assert np.abs(freq - p).max() < 4 * np.sqrt(p.max() * (1 - p.min()) / N)
    assert (probabilities(v[:1], np.zeros_like(ok[:1]), onehot(sector, 3), x, 0.6) == 0).all()


@pytest.mark.parametrize("lam, places", [(0.7, 1), (1.5, 2), (6.0, 7), (6.0, 3), (2.0, 0), (3.0, 2.5), (40.0, 1000),
                                         (45.0, 48), (120.0, 130), (80.0, 60.5)])
def test_admitted_mean_is_the_mean_of_poisson_choosers_within_the_places(lam, places):
    """E[min(N, c)] for N ~ Poisson(λ), against a simulation (and λ when the places never bind)."""
    from sim.processes.education.allocation import admitted_mean

    draws = np.random.default_rng(7).poisson(lam, 400_000)
    sim_mean = np.minimum(draws, places).mean()
    # exact below λ = 30; the normal approximation above is within 0.05 persons
    tolerance = 0.01 if lam < 30 else 0.05
    assert admitted_mean(np.array([lam]), np.array([places]))[0] == pytest.approx(sim_mean, abs=tolerance)


def test_admissions_count_the_rejected_only_in_what_they_can_still_get():
    """Two rounds at scale 1: a full programme's expectation stops at its places, and the places
    left fall by the admitted."""
    from sim.processes.education.allocation import admitted_mean

    a = Admissions(np.array([2, 10]), 1.0)
    np.testing.assert_array_equal(a.admit(np.array([5.0, 1.0])), [2, 10])
    a.admitted(np.array([2, 1]))
    np.testing.assert_array_equal(a.left, [0, 9])
    np.testing.assert_array_equal(a.admit(np.array([0.0, 3.0])), [0, 9])
    np.testing.assert_allclose(a.total, [admitted_mean(5.0, 2), admitted_mean(1.0, 10) + admitted_mean(3.0, 9)])
    assert a.total[0] < 2


@pytest.mark.parametrize("lam_real, left", [(13.0, 1), (0.3, 1), (2.0, 2), (8.0, 10), (25.0, 12), (0.0, 3),
                                            (60.0, 200), (4.0, 0.6), (400.0, 390), (600.0, 150)])
@pytest.mark.parametrize("scale", [0.25, 0.1])
def test_matched_places_admit_what_the_real_region_would(lam_real, left, scale):
    """At a reduced scale the model's choosers come in lumps of 1/s persons. Its places for the
    round, K = k or k + 1, admit min(N, K) of N ~ Poisson(s·λ) with the real region's expectation
    s·E[min(N', left)], N' ~ Poisson(λ): checked by simulation. Scaling the places instead (K =
    ⌈s·left⌉, the old rule) admits 4 times a tiny programme's one place when many choose it (13
    choosers, 1 place: 0.25 model persons = 1 real against ⌈0.25⌉ = 1 model person = 4 real), and
    rounding them at random starves one with few choosers. (K is found from the whole curve of
    E[min(N, k)] where s·λ < 30, by bisection above: λ 400 and 600.)"""
    from sim.processes.education.allocation import admitted_mean, matched_places

    rng = np.random.default_rng(11)
    lam = np.full(20_000, scale * lam_real)
    places, expected = matched_places(rng, lam, np.full(lam.size, float(left)), scale)
    n = rng.poisson(lam)
    real = scale * admitted_mean(lam_real, left)
    assert expected[0] == pytest.approx(real)
    admitted = np.minimum(n, places).mean()
    assert admitted == pytest.approx(real, abs=4 * np.sqrt(real / lam.size) + 1e-3)
    if lam_real == 13.0:  # the old rule: a whole model place
        assert np.minimum(n, np.ceil(scale * left)).mean() > 3 * real


def test_matched_places_are_the_places_at_scale_one_without_a_draw():
    from sim.processes.education.allocation import admitted_mean, matched_places

    rng = np.random.default_rng(12)
    state = rng.bit_generator.state
    places, expected = matched_places(rng, np.array([0.0, 3.0, 50.0]), np.array([4.0, 2.0, 30.0]), 1.0)
    np.testing.assert_array_equal(places, [4, 2, 30])
    np.testing.assert_allclose(expected, admitted_mean(np.array([0.0, 3.0, 50.0]), np.array([4, 2, 30])))
    assert rng.bit_generator.state == state  # no draw at scale 1: the draws of whole-person runs stay
    doubled, _ = matched_places(rng, np.array([6.0]), np.array([2.0]), 2.0)  # a synthetic region of 2 copies
    assert doubled[0] == 4


def test_admissions_judge_what_a_round_used_of_the_places():
    """The places left fall by the admitted as judged, T + √s (A − T): at a reduced scale a round
    that admits a lump of 1/s persons into a programme with a few places does not empty it more
    than a real round would on average, and one that admits none still uses its expectation."""
    a = Admissions(np.array([10.0, 10.0]), 0.25, np.random.default_rng(13))
    a.admit(np.array([1.0, 1.0]))  # 4 real choosers each
    t = a.total.copy()
    a.admitted(np.array([2, 0]))
    judged = t + 0.5 * (np.array([2, 0]) - t)
    np.testing.assert_allclose(a.left, 10 - judged / 0.25)
    assert a.left[0] < 10 - 4 and a.left[1] < 10  # a lump of 2 model persons used more than 4 real places
    # and a programme with less than half a place left is full
    assert list(available(np.array([0.4, 0.5]), np.zeros(1), np.array([Route.BOL, Route.BOL]), np.zeros(2, int))) \
        == [False, True]


def test_the_first_round_expectation_is_before_the_participation_draw():
    from sim.processes.education.allocation import first_round

    seen = []

    def chooser(pending, available):
        seen.append(pending.size)
        return np.zeros(pending.size, dtype=np.int64), np.full(1, float(pending.size))

    wrapped = first_round(chooser, np.array([7.5]))
    assert wrapped(np.arange(3), np.ones(1, bool))[1][0] == 7.5  # the expectation before the draw
    assert wrapped(np.arange(2), np.ones(1, bool))[1][0] == 2.0  # later rounds: the chooser's own


def test_adult_bbl_rows_follow_the_rule(small_cfg):
    """Each adult group's row: the open, available BBL programmes of its sector at a level ≥ its
    own, within ``max_travel_minutes`` if any is (else anywhere), in proportion to base intake ×
    fitted constant × travel weight; all zero where none fits. Checked against the rule written
    out on the whole keys × programmes matrix (the code pairs only each key's sector)."""
    from sim.io.loaders import load_region
    from sim.model import RegionModel

    cfg = small_cfg(region="zuid_limburg", scale=0.2, years=1)
    model = RegionModel(cfg, load_region("zuid_limburg", cfg.data_dir))
    edu, p = model.education, model.education.programmes
    cand, rate = edu.adult_bbl_candidates()
    keys = np.unique(edu.adult_bbl_key(cand))
    m, s, lv = keys // 80, (keys // 5) % 16, keys % 5
    available = (np.random.default_rng(3).random(p.n) < 0.7) & (p.sector != s[0])  # one sector full
    rows = edu.adult_bbl_rows(keys, available)
    ok = ((p.open & (p.route == Route.BBL) & available)[None, :] & (p.sector[None, :] == s[:, None])
          & (p.level[None, :] >= lv[:, None]))
    tt = edu.travel_adult_hp[m]
    near = ok & (tt <= cfg.model.travel.max_travel_minutes)
    ok = np.where(near.any(1, keepdims=True), near, ok)
    w = np.where(ok, edu.adult_weight[None, :] * np.exp(edu.cfg.choice.travel_per_10_minutes * tt / 10), 0.0)
    total = w.sum(1, keepdims=True)
    np.testing.assert_allclose(rows, np.divide(w, total, out=np.zeros_like(w), where=total > 0), atol=1e-12)
    assert 0 < (rows.sum(1) > 0).sum() < keys.size  # some groups have a programme, some none
    np.testing.assert_allclose(rows.sum(1)[rows.sum(1) > 0], 1.0)
