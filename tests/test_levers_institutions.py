"""The closure levers at the qualification level, with the institutions deciding as they do by
default (minimum group size judged on k intakes, money and reserves, teachers, coordination):
tests/test_policies.py tests each lever on a stress set-up with the bare viability rule; here
each must still act in the right direction when closures come from decline and the accounts.

One set-up: Zuid-Limburg at scale 0.25 from 2025 for 16 years in which the institutions' reserves
run out (``conftest.CLOSING``: strong decline, a deficit from the start, a thinner reserve; closures
start after six to ten years), seeds 1-3, every arm paired with `none` by seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CLOSING

from sim.runner import simulate

SEEDS = (1, 2, 3)
SETUP = {"region": "zuid_limburg", "scale": 0.25, "years": 16}


@pytest.fixture(scope="module")
def arms(small_cfg):
    cache: dict[tuple, object] = {}

    def get(policy: str, *extra: str):
        out = []
        for seed in SEEDS:
            key = (policy, extra, seed)
            if key not in cache:
                cache[key] = simulate(small_cfg(f"policy={policy}", *CLOSING, *extra, **SETUP, seed=seed))
            out.append(cache[key])
        return out

    return get


def closed_units(model) -> int:
    p = model.education.programmes
    return int(np.unique(p.unit[~p.open & (p.site_municipality >= 0)]).size)


def events(model, kind: str) -> int:
    return sum(1 for e in model.education.events if e["event"] == kind)


def test_the_setup_closes_opleidingen_by_decline_and_money(arms):
    none = arms("none")
    closed = [closed_units(m) for m in none]
    assert min(closed) > 0, closed
    # closures come after the reserves run down, not at the first review
    for m in none:
        first = min((e["month"] for e in m.education.events if e["event"] == "closed"), default=None)
        assert first is not None and first // 12 >= 4


def test_minimal_coverage_keeps_opleidingen_open(arms):
    none, rule = arms("none"), arms("minimal_coverage", "policy.minimal_coverage.share=0.99",
                                    "policy.minimal_coverage.per_level=true")
    vetoes = [events(m, "vetoed") for m in rule]
    assert sum(vetoes) > 0, "the rule never had to act"
    assert sum(closed_units(m) for m in rule) < sum(closed_units(m) for m in none)
    # coverage at the horizon is at least that without the rule, in every replicate
    for a, b in zip(none, rule, strict=True):
        y = a.n_years - 1
        assert (b.education.coverage[y] >= a.education.coverage[y] - 1e-9).all()


def test_bundling_merges_instead_of_closing(arms):
    none, bu = arms("none"), arms("bundling")
    assert sum(events(m, "bundled") for m in bu) > 0
    assert sum(events(m, "closed") for m in bu) < sum(events(m, "closed") for m in none)


def test_pps_lowers_closures_in_organised_sectors(arms):
    none, pps = arms("none"), arms("pps")
    assert sum(closed_units(m) for m in pps) < sum(closed_units(m) for m in none)


def test_numerus_fixus_caps_intake_of_poor_prospect_sectors(arms):
    none, nf = arms("none"), arms("numerus_fixus", "policy.numerus_fixus.poor_prospects_below=100")
    # with every sector "poor", every programme is capped at cap_share of its base intake
    assert sum(m.education.intake[1:].sum() for m in nf) < sum(m.education.intake[1:].sum() for m in none)
