"""The institutions' assumed finances against the sector's annual accounts (sim.analysis.finances)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import small_overrides

from sim.analysis import finances
from sim.hydra_config import compose
from sim.runner import run
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
    assert "| input |" in out and "rentabiliteit" in out and "Yearly results" not in out


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    exp = tmp_path_factory.mktemp("finances") / "exp"
    for rep in range(2):
        run(compose(small_overrides(region="achterhoek", scale=0.05, years=3, replicate=rep)), exp / "runs" / f"r{rep}")
    return exp


def test_model_results_of_the_regions_own_institutions(experiment, capsys):
    """The experiment's yearly results: the region's own institutions only (the outside sites'
    count only the region's students there), by period, recomputed by hand; the base year is
    ``base_result_share`` of the funding up to the municipal revenue's draw."""
    res = finances.model_results(experiment)
    assert res["region"].iloc[0] == "sector (DUO 2012-2016)" and res["institution_years"].iloc[0] == 322
    own = {i for r, i in finances.in_region_institutions() if r == "achterhoek"}
    assert own == {"Graafschap College", "Zone.college"}
    parts = [pd.read_parquet(experiment / "runs" / f"r{rep}" / "institutions.parquet") for rep in range(2)]
    inst = pd.concat(parts)
    assert set(inst["institution"]) > own  # the outside sites' institutions are in the table, not in the results
    assert (inst["in_region"] == inst["institution"].isin(own)).all()  # the table's column agrees with the data
    inst = inst[inst["institution"].isin(own)]
    share = inst["result_eur"] / (inst["funding_eur"] + inst["municipal_revenue_eur"])
    row = res[res["region"] == "achterhoek"].iloc[0]
    assert row["period"] == "2025-2030" and row["institution_years"] == len(share) == 2 * 2 * 3
    assert row["p50"] == pytest.approx(share.median()) and row["loss_share"] == pytest.approx((share < 0).mean())
    first = share[inst["school_year"] == inst["school_year"].min()]
    # base_result_share of funding, plus the municipal revenue's draw around its expectation
    # (exact identity: tests/test_institutions.py::test_outside_institutions_carry_no_overhead)
    assert ((first > 0) & (first < 0.02)).all(), first
    finances.main([str(experiment)])
    md = (experiment / "finances" / "finances.md").read_text()
    assert "## Yearly results" in md and "sector (DUO 2012-2016)" in md
    assert (experiment / "finances" / "results.csv").exists()
    assert "## Yearly results" in capsys.readouterr().out


def test_model_results_of_results_without_the_in_region_column(experiment, tmp_path):
    """Results written before ``institutions.parquet`` had ``in_region``: the data file says which
    institutions are the region's own, with the same answer."""
    old = tmp_path / "exp"
    shutil.copytree(experiment / "runs", old / "runs")
    for f in (old / "runs").glob("*/institutions.parquet"):
        pd.read_parquet(f).drop(columns="in_region").to_parquet(f)
    pd.testing.assert_frame_equal(finances.model_results(old), finances.model_results(experiment))
