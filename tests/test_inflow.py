"""Students beyond the region, both ways (ODD §7.10a): the ring's school leavers follow their own
cohorts and choose the region's sites by the same model; the region's students at outside sites
are the sourced outflow share; outside sites are not reviewed."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
from conftest import DATA_DIR, EVERY_WEAK_CLOSES

from sim.processes.demography import DATA_YEAR
from sim.runner import simulate


def test_ring_leavers_follow_their_own_cohorts(small_cfg):
    model = simulate(small_cfg(region="achterhoek", scale=0.2, years=5))
    ring, leave = model.education.ring, model.education.cfg.vo_leave_age
    for y in range(5):
        year = model.cfg.start_year + y
        assert (ring.leavers[y] == ring.table[:, leave - 1 - (year - DATA_YEAR)]).all()
    assert ring.entrants[:5].sum() > 0
    assert (ring.entrants[:5] <= ring.leavers[:5]).all()


def test_a_larger_ring_cohort_sends_more_students(small_cfg, tmp_path):
    """Doubling one ring municipality's population doubles its leavers and raises its entrants;
    the other ring municipalities' leavers are unchanged."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    bands = pd.read_csv(data / "ring_population_by_age_band_2021.csv", comment="#")
    bands.loc[bands["municipality"] == "Zevenaar", "persons"] *= 2
    bands.to_csv(data / "ring_population_by_age_band_2021.csv", index=False)
    over = {"region": "achterhoek", "scale": 0.25, "years": 4}
    base = simulate(small_cfg(**over, seed=3))
    big = simulate(small_cfg(**over, seed=3, data_dir=str(data)))
    names = base.education.ring.names
    z = names.index("Zevenaar")
    lb, lg = base.education.ring.leavers[:4], big.education.ring.leavers[:4]
    # cumulative rounding keeps each count within one person of its real value: 2 × base within 2,
    # the doubled table within 1
    assert np.allclose(lg[:, z], 2 * lb[:, z], atol=3)
    others = [i for i in range(len(names)) if i != z]
    assert (lg[:, others] == lb[:, others]).all()
    assert big.education.ring.entrants[:4, z].sum() > 1.5 * base.education.ring.entrants[:4, z].sum()


def test_ring_students_are_counted_and_leave(small_cfg):
    model = simulate(small_cfg(region="achterhoek", scale=0.2, years=6))
    edu = model.education
    stock = edu.ring.enrolled()
    assert stock.sum() > 0
    assert (stock[~edu.programmes.in_region] == 0).all()  # only the region's own programmes
    # the stock is bounded by what came in (they graduate or drop out)
    assert stock.sum() <= edu.ring.intake[:6].sum() + edu.ring.stock.sum()
    # enrolment counts them
    pop = model.pop
    residents = pop.count("programme", edu.programmes.n, where=(pop.status == 1) | (pop.status == 2))
    assert (edu.enrolment() == residents + stock).all()


def test_base_year_outflow_and_inflow_shares(small_cfg):
    """In the base year the region's residents at outside sites and the ring's students at the
    region's sites are near their sourced (or stated) shares in data/study_flows.csv."""
    for region in ("achterhoek", "zeeland", "zuid_limburg"):
        model = simulate(small_cfg(region=region, scale=0.5, years=1))
        edu, p = model.education, model.education.programmes
        inside = p.in_region
        ring = edu.ring.enrolled().sum()
        total_in = edu.enrolled[0][inside].sum()
        outside = edu.enrolled[0][~inside].sum()
        flows = model.data.flows
        out_share = outside / (outside + total_in - ring)
        assert abs(out_share - flows["outflow_share"]) < 0.5 * flows["outflow_share"] + 0.01, (region, out_share)
        assert abs(ring / total_in - edu.ring.share) < 0.5 * edu.ring.share + 0.01, (region, ring / total_in)


def test_outside_sites_are_not_reviewed(small_cfg):
    model = simulate(small_cfg(region="zuid_limburg", scale=0.1, years=6, **EVERY_WEAK_CLOSES,
                               model__education__viability_min_intake=25, model__education__viability_years=1))
    p = model.education.programmes
    assert (~p.open[p.in_region]).any(), "the set-up closes programmes in the region"
    assert p.open[~p.in_region].all()
