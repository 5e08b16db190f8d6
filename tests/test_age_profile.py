"""The base year's age profile carried through time: single years of age from the five-year
bands, retirement from 55 on as the base year's employment by age implies, and the return
from inactivity that balances the flows into it (ODD Initialisation, Retirement, Participation)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA_DIR

from sim.cohorts import band_rates, base_status_rates, single_year_table, spread_bands
from sim.config import ConfigError
from sim.hydra_config import compose
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.processes.labour.market import seek_rates
from sim.runner import simulate


def test_spread_bands_keeps_each_band_and_changes_smoothly():
    data = load_region("achterhoek", DATA_DIR)
    bands = data.population_bands.astype(float)
    years = spread_bands(bands)
    assert years.shape == (bands.shape[0], 100)
    assert (years >= 0).all()
    np.testing.assert_allclose(years.reshape(bands.shape[0], 20, 5).sum(2), bands, rtol=1e-12)
    # from one age to the next, the region's counts change far less than at the old steps
    total, uniform = years.sum(0)[5:90], np.repeat(bands.sum(0) / 5, 5)[5:90]
    step = np.abs(np.diff(total) / total[1:]).max()
    assert step < 0.5 * np.abs(np.diff(uniform) / uniform[1:]).max(), step
    # flat bands stay flat; a band between empty ones stays inside its own ages
    np.testing.assert_allclose(spread_bands(np.array([[5.0, 5.0, 5.0]])), 1.0)
    lone = spread_bands(np.array([[0.0, 10.0, 0.0]]))[0]
    assert lone[:5].sum() == lone[10:].sum() == 0 and lone[5:10].sum() == pytest.approx(10)


def test_single_year_table_keeps_every_municipality_total():
    data = load_region("zeeland", DATA_DIR)
    for scale in (1.0, 0.25):
        table = single_year_table(data.population_bands, scale)
        assert table.dtype == np.int64 and (table >= 0).all()
        np.testing.assert_allclose(table.sum(1), data.population_bands.sum(1) * scale, atol=1)


def test_retirement_probability_follows_the_fall_in_employment_by_age(small_cfg):
    cfg = small_cfg()
    model = RegionModel(cfg, load_region(cfg.region.name, cfg.data_dir))
    pcfg = cfg.model.population
    e = band_rates(dict(pcfg.employment_rate_by_age))
    p = model.demography.retire_p
    assert p[pcfg.pension_age - 1] == 1.0
    assert p[64] == pytest.approx(1 - e[65] / e[64])  # 60-64 -> 65-66
    assert p[59] == pytest.approx(1 - e[60] / e[59])  # 55-59 -> 60-64
    assert p[54] == pytest.approx(1 - e[55] / e[54])  # from retirement_from_age (55)
    assert p[54] > 0
    assert (p[: pcfg.retirement_from_age - 1] == 0).all()  # younger: cohorts, not exits
    assert (p[pcfg.retirement_from_age - 1 : pcfg.pension_age - 1] < 1).all()


def test_employment_of_the_older_ages_stays_the_base_years(small_cfg):
    """Under a stationary population the employed share of 60-64 and 65-66-year-olds stays near
    the base year's (within a fifth: moves to inactivity at any age still add to the exits);
    without retirement before the pension age that of 65-66 more than doubled in three years."""
    model = simulate(small_cfg(region="achterhoek", scale=0.25, years=5, demography="steady_state"))
    pop = model.results.frames()["population"]
    share = pop.pivot_table(index=["age_band", "year"], columns="status", values="persons", aggfunc="sum")
    share = share["employed"] / share.sum(axis=1)
    for band in ("60-64", "65-66"):
        first, last = share[band].iloc[0], share[band].iloc[-1]
        assert abs(last - first) < 0.2 * first, (band, share[band].round(3).tolist())


def test_seek_rates_balance_the_flows_into_inactivity():
    cfg = compose(["region=zuid_limburg"])
    pcfg, lcfg, rcfg = cfg.model.population, cfg.model.labour, cfg.region
    rate = seek_rates(pcfg, lcfg, rcfg)
    e, u = base_status_rates(pcfg, rcfg)
    ages = np.arange(18, lcfg.seek_max_age)
    inflow = lcfg.to_inactive_rate * e[ages] + lcfg.unemployed_to_inactive * u[ages]
    np.testing.assert_allclose(rate[ages] * (1 - e[ages] - u[ages]), inflow)
    assert (rate[lcfg.seek_max_age :] == 0).all()
    # more leave for inactivity -> more must come back for the same stocks
    more = seek_rates(pcfg, compose(["region=zuid_limburg", "model.labour.to_inactive_rate=0.004"]).model.labour, rcfg)
    assert (more[ages] > rate[ages]).all()


def test_prime_age_inactivity_stays_the_base_years(small_cfg):
    """25-54: inactive share after five stationary years within a tenth of the base year's (it rose
    from 11 % to 18 % when the return rate was an unrelated constant)."""
    model = simulate(small_cfg(region="achterhoek", scale=0.25, years=5, demography="steady_state"))
    pop = model.results.frames()["population"]
    prime = pop[pop["age_band"].isin(["25-29", "30-34", "35-39", "40-44", "45-49", "50-54"])]
    by = prime.pivot_table(index="year", columns="status", values="persons", aggfunc="sum")
    inactive = by["inactive"] / by.sum(axis=1)
    assert abs(inactive.iloc[-1] - inactive.iloc[0]) < 0.1 * inactive.iloc[0], inactive.round(3).tolist()


def test_retirement_from_age_is_checked():
    with pytest.raises(ConfigError, match="model.population.retirement_from_age"):
        compose(["model.population.retirement_from_age=70"])
