"""Unit tests of the pure education functions: the nested-logit choice and allocation within places."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Route
from sim.config import ChoiceConfig
from sim.processes.education.allocation import allocate
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

    def everyone_wants_the_first_available(pending, available, left):
        first = np.argmax(available) if available.any() else -1
        return np.full(pending.size, first)

    result = allocate(rng, 500, places, bbl_places, route, sector, everyone_wants_the_first_available)
    counts = np.bincount(result[result >= 0], minlength=3)
    assert counts[0] == 30  # BOL places bind
    assert counts[1] == 20  # BBL places of the sector bind before the programme's places
    assert counts[2] == 450  # the rest choose again and get the third
    assert (result >= 0).all()


def test_allocation_stops_when_nothing_is_available():
    rng = np.random.default_rng(5)
    calls = []

    def chooser(pending, available, left):
        calls.append(available.copy())
        return np.where(available.any(), np.argmax(available), -1) * np.ones(pending.size, dtype=np.int64)

    result = allocate(rng, 10, np.array([3, 0]), np.zeros(1, dtype=np.int64),
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


def test_expected_intake_counts_the_rejected_only_in_what_they_can_still_get():
    """Two rounds: a full programme's expectation stops at its places; at scale 1 the real-region
    counterpart is the model's own, below scale 1 it admits more (less chance overflow)."""
    from sim.processes.education.allocation import ExpectedIntake, admitted_mean

    e = ExpectedIntake(2, 1.0)
    e.add(np.array([5.0, 1.0]), np.array([2, 10]))
    e.add(np.array([0.0, 3.0]), np.array([0, 9]))
    np.testing.assert_allclose(e.model, [admitted_mean(5.0, 2), 1.0 + admitted_mean(3.0, 9)])
    np.testing.assert_allclose(e.real, e.model)
    assert e.model[0] < 2
    small = ExpectedIntake(2, 0.25)
    small.add(np.array([5.0, 1.0]), np.array([2, 10]))
    assert (small.real >= small.model).all() and small.real[0] > small.model[0]
