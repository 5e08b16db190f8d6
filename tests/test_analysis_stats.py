"""sim.analysis.stats: the paired difference interval and the Kaplan–Meier curve, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.stats import kaplan_meier, paired_differences

T_975_DF4 = 2.7764451051977987  # Student t, 97.5 % quantile, 4 degrees of freedom (tables: 2.776)
SEEDS = pd.Index([11, 12, 13, 14, 15], name="seed")


def _arms() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed: arm − base = 1, 2, 3, 4, 5 in x (mean 3, sd √2.5) and 0 in y, while x itself
    varies across seeds far more than the differences do."""
    base = pd.DataFrame({"x": [100.0, 10.0, 50.0, 0.0, 70.0], "y": [1.0, 2.0, 3.0, 4.0, 5.0]}, index=SEEDS)
    arm = base + pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": 0.0}, index=SEEDS)
    return base, arm


def test_known_mean_and_interval():
    base, arm = _arms()
    t = paired_differences(base, arm, ["x", "y"]).set_index("metric")
    half = T_975_DF4 * math.sqrt(2.5) / math.sqrt(5)  # = 1.9632...
    assert t.loc["x", "diff_mean"] == pytest.approx(3.0)
    assert t.loc["x", "ci_low"] == pytest.approx(3.0 - half, rel=1e-9)
    assert t.loc["x", "ci_high"] == pytest.approx(3.0 + half, rel=1e-9)
    assert t.loc["x", "ci_low"] == pytest.approx(1.0368, abs=1e-4)
    assert list(t["n"]) == [5, 5]
    # no difference in any pair: a zero-width interval at 0
    assert list(t.loc["y", ["diff_mean", "ci_low", "ci_high"]]) == [0.0, 0.0, 0.0]
    assert list(paired_differences(base, arm, ["y", "x"])["metric"]) == ["y", "x"]


def test_pairs_by_seed_not_by_position():
    base, arm = _arms()
    expected = paired_differences(base, arm, ["x"])
    # the arm's runs in another order: the same pairs, the same result
    pd.testing.assert_frame_equal(paired_differences(base, arm.iloc[[3, 0, 4, 2, 1]], ["x"]), expected)
    pd.testing.assert_frame_equal(paired_differences(base.iloc[::-1], arm, ["x"]), expected)
    # the same values paired with other seeds: the spread across seeds enters, the interval widens
    mispaired = arm.set_axis(SEEDS[[1, 2, 3, 4, 0]])
    other = paired_differences(base, mispaired, ["x"]).iloc[0]
    assert other["diff_mean"] == pytest.approx(3.0)  # the mean of a difference does not depend on pairing ...
    width = (expected["ci_high"] - expected["ci_low"]).iloc[0]
    assert other["ci_high"] - other["ci_low"] > 20 * width  # ... its interval does


def test_unpaired_rows_are_left_out():
    base, arm = _arms()
    extra = pd.DataFrame({"x": [1e6], "y": [1e6]}, index=pd.Index([99], name="seed"))
    t = paired_differences(pd.concat([base, extra]), arm.iloc[1:], ["x"]).iloc[0]
    d = np.array([2.0, 3.0, 4.0, 5.0])  # seed 11 has no arm run, seed 99 no partner
    assert t["n"] == 4
    assert t["diff_mean"] == pytest.approx(d.mean())
    half = 3.182446305284263 * d.std(ddof=1) / 2  # t(0.975, 3 df) = 3.182
    assert t["ci_high"] == pytest.approx(d.mean() + half)


def test_one_pair_has_no_interval_and_none_no_mean():
    base, arm = _arms()
    one = paired_differences(base, arm.iloc[:1], ["x"]).iloc[0]
    assert one["diff_mean"] == 1.0 and one["n"] == 1
    assert math.isnan(one["ci_low"]) and math.isnan(one["ci_high"])
    none = paired_differences(base, arm.set_axis(SEEDS + 100), ["x"]).iloc[0]
    assert none["n"] == 0 and math.isnan(none["diff_mean"])


def test_multi_key_pairing():
    """Pairs keyed by several columns (region, replicate), as the report pairs its arms."""
    keys = pd.MultiIndex.from_tuples([("a", 0), ("a", 1), ("b", 0), ("b", 1)], names=["region", "replicate"])
    base = pd.DataFrame({"x": [10.0, 20.0, 30.0, 40.0]}, index=keys)
    arm = pd.DataFrame({"x": [43.0, 31.0, 23.0, 11.0]}, index=keys[::-1])  # differences 3, 1, 3, 1
    t = paired_differences(base, arm, ["x"]).iloc[0]
    assert t["diff_mean"] == pytest.approx(2.0)
    assert t["n"] == 4
    assert t["ci_high"] - 2.0 == pytest.approx(3.182446305284263 * np.std([1, 3, 1, 3], ddof=1) / 2)


def test_kaplan_meier_by_hand():
    # five programmes: ended at 2, 4 and 4 months; two censored at 6 (the horizon)
    km = kaplan_meier(np.array([2.0, 4.0, 4.0, 6.0, 6.0]), np.array([True, True, True, False, False]),
                      np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0]))
    np.testing.assert_allclose(km["survival"], [1.0, 1.0, 0.8, 0.8, 0.4, 0.4])
    assert (km["low"] <= km["survival"] + 1e-12).all() and (km["survival"] <= km["high"] + 1e-12).all()
    # Greenwood's variance at 3 months: 0.8² · 1/(5·4); the 95 % band is ± 1.96 standard errors
    se = 0.8 * math.sqrt(1 / (5 * 4))
    assert km["low"][3] == pytest.approx(0.8 - 1.959963984540054 * se)


def test_decline_differences_pair_replicates_within_region():
    """strong − mild and baseline − mild per region, paired by replicate (known values)."""
    import pandas as pd

    from sim.analysis.decline import METRICS, differences

    rows = []
    for region, offset in (("zeeland", 0.0), ("achterhoek", 10.0)):
        for rep in range(4):
            for demo, shift in (("mild_decline", 0.0), ("baseline", 1.0), ("strong_decline", 3.0)):
                rows.append({"region": region, "demography": demo, "replicate": rep,
                             **{m: offset + rep + shift for m in METRICS}})
    diff = differences(pd.DataFrame(rows))
    assert set(diff["comparison"]) == {"baseline − mild_decline", "strong_decline − mild_decline"}
    strong = diff[diff["comparison"].str.startswith("strong")]
    assert (strong["diff_mean"] == 3.0).all() and (strong["ci_low"] == 3.0).all() and (strong["n"] == 4).all()
    assert (diff[diff["comparison"].str.startswith("baseline")]["diff_mean"] == 1.0).all()
    assert len(diff) == 2 * 2 * len(METRICS)
