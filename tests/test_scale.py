"""Results must not depend on ``scale`` beyond sampling noise where rules act on small counts:
the places of a programme (rounding) and the April review (minimum group size)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CLOSING

from sim.codes import Status
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.processes.education.provision import judged_intake, review_cut
from sim.runner import simulate


def closed_units(model) -> int:
    p = model.education.programmes
    return int(np.unique(p.unit[~p.open]).size)


@pytest.mark.parametrize("region", ["zuid_limburg", "achterhoek"])
def test_closures_do_not_depend_on_scale(small_cfg, region):
    """20 years, seeds 1-16: the mean number of opleidingen closed at scale 0.25 is that of scale 1
    within sampling noise or 15 %. (Zuid-Limburg, with the rule "intake below θ in each of k years"
    on the drawn intake and places rounded down: 30.5 against 24 a run, +27 %; with the judged
    intake 12-17 %. Three causes were mended then: the base-year students rounded to whole persons
    (``test_base_year_students_do_not_depend_on_scale``), a continuous judged intake compared with
    θ itself (``review_cut``), an expected intake that counted the rejected again in each round.
    The Achterhoek (the dashboard's default, at 0.25) was still +17 %: places rounded up to whole
    model places gave a small programme four real places at 0.25, and the money test judged each
    programme on its drawn students, which scatter 1/s more. With places matched to what the real
    region would admit (``matched_places``) and the accounts kept on judged students
    (``JudgedEnrolment``): Zuid-Limburg 31.75 → 31.94 (+0.6 %), Achterhoek 24.94 → 26.44 (+6.0 %);
    since the Achterhoek's enrolment was revised, seeds 1–48: Zuid-Limburg 29.54 → 31.44 (+6.4 %),
    Achterhoek 17.71 → 18.25 (+3.1 %). ODD Known simplifications.) Since the bijstand stock no
    longer drains (ODD §7.9) the default closes next to nothing in 20 years, so the test runs a
    set-up in which the reserves run out (``conftest.CLOSING``)."""
    counts = {}
    for scale in (1.0, 0.25):
        counts[scale] = np.array([closed_units(simulate(small_cfg(*CLOSING, region=region, scale=scale, years=20,
                                                                  seed=seed))) for seed in range(1, 17)])
    full, reduced = counts[1.0], counts[0.25]
    se = np.sqrt(full.var(ddof=1) / full.size + reduced.var(ddof=1) / reduced.size)
    assert full.mean() > 5, "the test needs closures to compare"
    assert abs(reduced.mean() - full.mean()) <= max(2.5 * se, 0.15 * full.mean()), counts


def test_base_year_students_do_not_depend_on_scale(small_cfg):
    """The base-year mbo students placed at the build, in real persons, are the same at scale 1 and
    0.1 (within 2 %). Rounding each programme's students of an age to the nearest whole person
    dropped the small cells: 10,791 at scale 1 and 8,330 at 0.1 (-23 %) in Zuid-Limburg, whose
    finances and closures then depended on scale."""
    placed = {}
    for scale in (1.0, 0.1):
        cfg = small_cfg(region="zuid_limburg", scale=scale, years=1)
        model = RegionModel(cfg, load_region("zuid_limburg", cfg.data_dir))
        status = model.pop.status
        placed[scale] = np.count_nonzero((status == Status.MBO_BOL) | (status == Status.MBO_BBL)) / scale
    assert abs(placed[0.1] / placed[1.0] - 1) < 0.02, placed


@pytest.mark.parametrize("threshold", [8.0, 7.5, 6.4, 10.0])
@pytest.mark.parametrize("k", [1, 3, 4])
def test_the_review_cut_takes_the_decisions_of_whole_persons(threshold, k):
    """At scale 1 (whole-person intakes) the cut decides as "mean below θ" does; it lies halfway
    between the largest failing and the smallest passing sum, so a continuous judged intake (a
    reduced scale) is not called weak for the half person a rounded count would not show."""
    sums = np.arange(0, 60)
    cut = review_cut(threshold, k)
    np.testing.assert_array_equal(sums / k < cut, sums / k < threshold)
    failing, passing = sums[sums / k < threshold].max(), sums[sums / k >= threshold].min()
    assert cut == pytest.approx((failing + passing) / 2 / k)


def test_judged_intake_is_the_intake_at_scale_one_and_shrunk_below(small_cfg):
    """J = (E + √s (X − E)) / s: the drawn intake itself at scale 1; at scale s the deviation from
    the expectation E (what the real region would admit, the places matched to it) is shrunk by
    √s, so that its variance in real persons is that of scale 1."""
    for scale in (1.0, 0.25):
        model = simulate(small_cfg(region="achterhoek", scale=scale, years=4))
        edu, p = model.education, model.education.programmes
        years = range(0, 4)
        j = judged_intake(edu, years)
        n_units = p.unit.max() + 1
        x = np.stack([np.bincount(p.unit, weights=edu.intake[t], minlength=n_units) for t in years]) / scale
        e = np.stack([np.bincount(p.unit, weights=edu.expected_intake[t], minlength=n_units) for t in years]) / scale
        if scale == 1.0:
            assert np.allclose(j, x)
        else:
            assert not np.allclose(j, x)
            assert np.allclose(j, np.maximum(e + np.sqrt(scale) * (x - e), 0))
        # the expectation is an expectation of the intake: totals agree within a few per cent
        assert abs(e.sum() / x.sum() - 1) < 0.05


def test_judged_students_are_the_drawn_at_scale_one_and_scatter_like_them_below(small_cfg):
    """The accounts (and the review's money test) count the students as judged: at scale 1 the
    drawn ones; at 0.25 the same in expectation, with each cohort's deviation shrunk by √s, so
    that their scatter over seeds in real persons is near that of scale 1 (the drawn students
    scatter about twice as much)."""
    spread = {}
    for scale in (1.0, 0.25):
        drawn, judged = [], []
        for seed in range(1, 7):
            edu = simulate(small_cfg(region="zeeland", scale=scale, years=5, seed=seed)).education
            if scale == 1.0:
                assert not edu.judged.active and np.array_equal(edu.judged.enrolled(edu.enrolled[4]), edu.enrolled[4])
            drawn.append(edu.enrolled[4].sum() / scale)
            judged.append(edu.judged.enrolled(edu.enrolled[4]).sum() / scale)
        spread[scale] = np.std(drawn, ddof=1), np.std(judged, ddof=1), np.mean(drawn), np.mean(judged)
    full, reduced = spread[1.0], spread[0.25]
    assert abs(reduced[3] / reduced[2] - 1) < 0.01  # the same students in expectation
    assert full[0] < reduced[0]  # the premise: drawn students at 0.25 scatter more than at 1
    assert reduced[1] < 0.75 * reduced[0]  # the judged scatter less than the drawn


def test_expected_intake_tracks_the_intake_of_small_opleidingen(small_cfg):
    """Over the opleidingen with 3-16 entrants a year, the drawn intake scatters around the
    expected one without bias, with about the variance of a count (Poisson-like), at scale 1."""
    model = simulate(small_cfg(region="zuid_limburg", scale=1.0, years=4))
    edu, p = model.education, model.education.programmes
    n_units = p.unit.max() + 1
    d, ev = [], []
    for t in range(4):
        x = np.bincount(p.unit, weights=edu.intake[t], minlength=n_units)
        e = np.bincount(p.unit, weights=edu.expected_intake[t], minlength=n_units)
        sel = (e > 3) & (e < 16)
        d.append(x[sel] - e[sel])
        ev.append(e[sel])
    d, ev = np.concatenate(d), np.concatenate(ev)
    assert abs(d.mean()) < 0.5
    assert 0.4 < d.var() / ev.mean() < 1.5


def test_places_are_rounded_without_bias(small_cfg):
    """A teacher ratio below 1 takes its share of a small programme's places in expectation, not a
    whole place (the floor did: ⌊3 × 0.99⌋ = 2)."""
    model = simulate(small_cfg(region="zeeland", scale=0.05, years=1))
    edu = model.education
    edu.teachers.ratio[:] = 0.9
    cap = np.ceil(edu.intake_cap / 0.05)  # whole places of the real region
    now, rows = model.year_index, edu.place_rounding.copy()
    draws = []
    for y in range(rows.shape[0]):  # the draws of every school year, as if each were this year's
        edu.place_rounding[now] = rows[y]
        draws.append(edu.places())
    mean = np.mean(draws, axis=0)
    open_ = edu.programmes.open & edu.programmes.in_region  # sites outside have their own teachers
    assert (np.floor(cap * 0.9) < cap * 0.9)[open_].any()
    # over the school years the mean places are near cap × 0.9, above the floor on average
    assert mean[open_].sum() > np.floor(cap * 0.9)[open_].sum()
    assert abs(mean[open_].sum() / (cap * 0.9)[open_].sum() - 1) < 0.05


def test_synthetic_large_region_replicates_the_residents(small_cfg):
    """``synthetic=true`` (a benchmark option) allows scale > 1: every resident simulated ``scale``
    times. The population is then ``scale`` times that of scale 1, and results, in real persons,
    are those of the real region within sampling noise; without the option scale > 1 is refused."""

    from sim.config import ConfigError

    with pytest.raises(ConfigError, match=r"scale = 2.0: must be in \(0, 1\]"):
        small_cfg(region="zeeland", scale=2.0)
    with pytest.raises(ConfigError, match=r"synthetic=true, must be in \(0, 50\]"):
        small_cfg("synthetic=true", region="zeeland", scale=51)
    one = simulate(small_cfg(region="zeeland", scale=1.0, years=1))
    two = simulate(small_cfg("synthetic=true", region="zeeland", scale=2.0, years=1))
    assert abs(two.persons_start / one.persons_start - 2) < 0.01
    employed = [m.labour.measures["employed"].sum() / m.cfg.scale for m in (one, two)]  # real person-months
    assert abs(employed[1] / employed[0] - 1) < 0.01, employed
