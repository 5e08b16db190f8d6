"""The institutions' assumed finances against the sector's annual accounts (sim.analysis.finances)."""

import pandas as pd
import pytest

from sim.analysis import finances
from sim.hydra_config import compose
from sim.sensitivity.registry import load_registry


@pytest.fixture(scope="module")
def registry():
    params, _ = load_registry()
    return {p.key: (p.low, p.high) for p in params}


@pytest.fixture(scope="module")
def inst():
    return compose().model.institutions


@pytest.mark.parametrize("indicator", ["rentabiliteit", "solvabiliteit_2"])
def test_bands_are_whole_years_of_all_institutions(indicator):
    df = pd.read_csv(finances.FINANCES)
    df = df[df["indicator"] == indicator]
    assert df["source"].str.strip().str.len().gt(0).all()
    for year, g in df.groupby("year"):
        # one open band at each end, the others meeting edge to edge
        assert g["lower"].isna().sum() == 1 and g["upper"].isna().sum() == 1, year
        inner = g.sort_values("upper", na_position="last")
        assert (inner["lower"].iloc[1:].to_numpy() == inner["upper"].iloc[:-1].to_numpy()).all(), year
        assert g["institutions"].sum() == (62 if year == 2012 else 65), year  # the institutions of that year


def test_quantile_and_percentile_are_inverse():
    b = pd.DataFrame({"lower": [0.0, 1.0, 2.0], "upper": [1.0, 2.0, 4.0], "institutions": [10, 30, 60]})
    assert finances.quantile(b, 0.1) == pytest.approx(1.0)
    assert finances.quantile(b, 0.25) == pytest.approx(1.5)
    assert finances.quantile(b, 0.7) == pytest.approx(3.0)
    for x in (0.3, 1.2, 2.5, 3.9):
        assert finances.quantile(b, finances.percentile_of(b, x)) == pytest.approx(x)


def test_open_bands_closed_at_their_neighbours_width():
    b = finances.bands("rentabiliteit")
    assert b["lower"].iloc[0] == pytest.approx(-0.06) and b["upper"].iloc[-1] == pytest.approx(0.06)
    assert b["institutions"].sum() == 62 + 4 * 65


def test_unknown_indicator_is_named():
    with pytest.raises(ValueError, match="'liquiditeit'.*rentabiliteit"):
        finances.bands("liquiditeit")


def test_base_result_and_its_range_within_the_sectors_results(inst, registry):
    """The base-year result is a typical institution's (between the quartiles of the yearly
    results 2012-2016), and its range stays within their 10th to 90th percentile."""
    b = finances.bands("rentabiliteit")
    assert finances.quantile(b, 0.25) < inst.base_result_share < finances.quantile(b, 0.75)
    lo, hi = registry["model.institutions.base_result_share"]
    assert finances.quantile(b, 0.1) <= lo < 0 < hi <= finances.quantile(b, 0.9)  # loss-makers included


def test_free_reserve_and_its_range_within_the_sectors_solvency(inst, registry):
    """The reserve above the floor is that of a typical institution's solvency above the
    Inspectie's signal (between the quartiles), its range within the 10th to 90th percentile."""
    fig = finances.figures()
    ratio, signal = finances.balance_to_costs(fig), fig["solvency_2_signal"]
    assert 1.0 < ratio < 1.1  # ROC Midden Nederland 2021: the balance sheet about a year's costs
    b = finances.bands("solvabiliteit_2")
    implied = finances.implied_solvency(inst.reserve_initial_share, inst.reserve_floor_share, ratio, signal)
    assert finances.quantile(b, 0.25) < implied < finances.quantile(b, 0.75)
    for r in registry["model.institutions.reserve_initial_share"]:
        s = finances.implied_solvency(r, inst.reserve_floor_share, ratio, signal)
        assert finances.quantile(b, 0.1) <= s <= finances.quantile(b, 0.9)


def test_summary_table(inst, registry, capsys):
    s = finances.summary(inst, registry)
    assert list(s["data"]) == ["rentabiliteit", "solvabiliteit_2"]
    assert s["model_percentile"].between(0.25, 0.75).all()
    finances.main([])
    out = capsys.readouterr().out
    assert out.startswith("| input |") and "rentabiliteit" in out
