"""The labour-market report's yearly figures (sim/analysis/labour_check.py) on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.labour_check import seasonal_swing, yearly


def frames(growth: float) -> dict[str, pd.DataFrame]:
    """Two sectors over two years; sector a's demand (jobs + vacancies) grows by ``growth`` a year,
    each sector has 10 exits a month, and vacancies per job seeker are 2 in Q2 and 1 otherwise."""
    dates = pd.date_range("2025-01-01", periods=24, freq="MS")
    rows = []
    for i, d in enumerate(dates):
        year = i // 12
        for sector in ("a", "b"):
            employed = 1000.0 + (growth * year if sector == "a" else 0.0)
            q2 = d.quarter == 2
            rows.append({"date": d, "sector": sector, "employed": employed, "vacancies": 100.0 if q2 else 50.0,
                         "job_seekers": 50.0, "hard_to_fill": 0.0, "unmet_demand": 0.0, "posted": 40.0,
                         "exits": 10.0})
    population = pd.DataFrame({"year": [2025, 2025, 2026, 2026], "status": ["employed", "unemployed"] * 2,
                               "persons": [1900.0, 100.0, 1900.0, 100.0]})
    return {"labour": pd.DataFrame(rows), "population": population}


def test_replacement_share_is_exits_over_exits_and_expansion():
    y = yearly(frames(growth=60.0))
    # 2026: exits 2 sectors × 12 × 10 = 240, expansion 60 (sector a's demand), so 240 / 300
    assert y.loc[2026, "replacement_share"] == pytest.approx(240 / 300)
    assert y.loc[2025, "replacement_share"] == pytest.approx(1.0)  # no earlier year: no expansion
    flat = yearly(frames(growth=0.0))
    assert flat.loc[2026, "replacement_share"] == pytest.approx(1.0)


def test_seasonal_swing_and_rates():
    y = yearly(frames(growth=0.0))
    assert y.loc[2025, "vu_swing"] == pytest.approx(2.0)  # V/U 2 in Q2, 1 in the other quarters
    assert y.loc[2025, "unemployment_rate"] == pytest.approx(0.05)
    assert np.isclose(y.loc[2025, "vu"], (3 * 200 + 9 * 100) / 12 / 100)


def test_seasonal_swing_leaves_out_the_trend():
    months = pd.date_range("2025-01-01", periods=48, freq="MS")
    t = np.arange(48)
    trend = pd.Series(1.2 * 1.15 ** (t / 12), index=months)  # V/U up 15 % a year, no season
    raw = trend.groupby([months.year, months.quarter]).mean().groupby(level=0)
    assert (raw.max() / raw.min()).loc[2026] > 1.1  # the raw quarters see the trend
    assert seasonal_swing(trend).between(1.0, 1.01).all()
    season = trend * np.where(months.quarter == 3, 1.4, 1.0)  # and a Q3 peak of 1.4 on top
    inner = seasonal_swing(season).loc[2026:2027]
    assert inner.between(1.3, 1.5).all(), inner
    assert set(seasonal_swing(season).index) == {2025, 2026, 2027, 2028}
