"""The bijstand stock (ODD §7.9): clients leave by work, other exits and the pension age, and
residents of working age without work, study or benefit come in, so that the stock stays at the
region's base-year share of residents 18 to the pension age and the municipalities' training bought
from the mbo does not drain away with it (before, only WW's end brought anyone in, and the stock
fell to a quarter in 20 years)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_overrides

from sim.codes import Benefit, Status
from sim.hydra_config import compose
from sim.model import RegionModel
from sim.runner import simulate


def _run(region: str, scale: float, years: int, **kw):
    return _run_seed(region, scale, years, 3, **kw)


def _run_seed(region: str, scale: float, years: int, seed: int, **kw):
    return simulate(compose(small_overrides(region=region, scale=scale, years=years, seed=seed, **kw)))


@pytest.mark.parametrize("scale", [1.0, 0.1])  # the stock's target is in whole persons: both scales
def test_bijstand_stock_keeps_its_share_of_working_age_residents(scale):
    m = _run("zeeland", scale, 10)
    pop, cfg = m.pop, m.cfg
    pension = cfg.model.population.pension_age
    # the municipalities count their clients each January, after the stock's flows; ages and
    # residents change only in January, so the working-age residents now are those of then
    yearly = m.training.clients.sum(1)  # real persons
    working_age = np.count_nonzero((pop.age >= 18) & (pop.age < pension)) / scale
    assert yearly[-1] / working_age == pytest.approx(cfg.region.social_assistance_share, rel=0.01)
    # it follows the working-age population, it does not drain (it fell to about half in ten
    # years before)
    assert yearly[-1] > 0.85 * yearly[0], yearly
    clients = pop.benefit == Benefit.MUNICIPALITY
    assert not np.any(clients & (pop.age >= pension)), "clients past the pension age (AOW takes over)"
    without_work = np.isin(pop.status, [Status.UNEMPLOYED, Status.INACTIVE])
    assert not np.any(clients & ~without_work), "clients in work or education"


def test_the_other_exits_turn_the_stock_over_at_the_same_size():
    """With the other exits (12 % a year, CBS) clients leave and new ones come in: fewer of the
    base year's clients are still on bijstand after five years, and the January stock is the same."""
    kept, stock = {}, {}
    for rate in (0.0, 0.5):
        m = RegionModel(compose(small_overrides(region="zeeland", scale=0.1, years=5, seed=3,
                                                model__municipality__bijstand_other_exit_rate=rate)))
        pop = m.pop
        base = pop.benefit == Benefit.MUNICIPALITY
        # mark the base year's clients: benefit_months counts WW's months only, and it is reset
        # whenever a benefit starts or ends, so a mark survives only on a client who stayed one
        pop.benefit_months[base] = 999
        m.run()
        clients = pop.benefit == Benefit.MUNICIPALITY
        kept[rate] = np.count_nonzero(clients & (pop.benefit_months == 999)) / np.count_nonzero(base)
        stock[rate] = m.training.clients[-1].sum()
    assert kept[0.5] < 0.5 * kept[0.0], kept
    assert stock[0.5] == pytest.approx(stock[0.0], rel=0.01), stock


def test_the_accounts_judge_the_municipal_revenue_by_its_expectation():
    """The training the municipalities buy from the mbo is a draw at model scale: at 0.25 it
    scatters twice as much as a real region's. Its expectation (computed, not drawn) is what the
    base year balances the institutions' costs on, and the accounts count the draw's deviation
    scaled by √s. The expectation is unbiased and the same at both scales; the judged revenue
    scatters at 0.25 as the drawn one does at 1 (before, one base-year draw stayed in the costs
    for good and the reserves at 0.25 scattered about twice as much, ODD §7.17)."""
    drawn, judged, expected = {}, {}, {}
    for scale, seeds in ((1.0, 12), (0.25, 32)):
        runs = []
        for seed in range(1, seeds + 1):  # the first month: January's purchases
            m = RegionModel(compose(small_overrides(region="zeeland", scale=scale, years=1, seed=seed)))
            m.run_for(1)
            runs.append(m)
        drawn[scale] = np.array([m.training.mbo_revenue_eur[0].sum() for m in runs])
        judged[scale] = np.array([m.training.institution_revenue_eur[0].sum() for m in runs])
        expected[scale] = np.array([m.training.expected_revenue_eur[0].sum() for m in runs])
    np.testing.assert_array_equal(judged[1.0], drawn[1.0])  # at scale 1 the draw is the revenue
    assert expected[0.25].mean() == pytest.approx(expected[1.0].mean(), rel=0.02)
    for scale in (1.0, 0.25):  # unbiased: the draws' mean within 4 standard errors
        se = drawn[scale].std(ddof=1) / np.sqrt(drawn[scale].size)
        assert abs(drawn[scale].mean() - expected[scale].mean()) < 4 * se + 1.0, (scale, drawn, expected)
    assert drawn[0.25].std() > 1.4 * drawn[1.0].std(), drawn  # the draw's scatter grows as 1/√s
    assert judged[0.25].std() < 0.7 * drawn[0.25].std(), judged  # the judged one's does not
