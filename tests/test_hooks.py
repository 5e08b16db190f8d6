"""The declared lever surface: a lever written outside ``sim/`` plugs in through ``model.hooks``
and the event schedule alone; closure handlers run in the order of their priority."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from conftest import EVERY_WEAK_CLOSES

from sim.calendar import SEPTEMBER
from sim.codes import SECTOR_INDEX
from sim.hooks import Hooks
from sim.policies import POLICIES, register
from sim.policies.base import Policy, check_share
from sim.runner import simulate, tables_and_summary

FAST = {"region": "zeeland", "years": 4, "seed": 4}


@dataclass
class CareCapParams:
    """A lever only the tests know: halve care places from the start and veto every closure."""

    share: float = 0.5

    def validate(self, key: str) -> None:
        check_share(f"{key}.share", self.share)


class CareCap(Policy):
    name = "test_care_cap"
    Params = CareCapParams

    def attach(self, model) -> None:
        super().attach(model)
        care = model.education.programmes.sector == SECTOR_INDEX["care"]
        model.hooks.education.capacity_factor[care] *= self.params.share
        model.hooks.add_closure_handler(5, self.name, self.keep)
        self.septembers: list[int] = []

    def keep(self, members: np.ndarray) -> tuple[str, str]:
        return "vetoed", "test lever keeps everything"

    def yearly(self) -> None:  # the default schedule: every September, after the intake
        self.septembers.append(self.model.month_index % 12)
        self.record("cost_eur", 1.0)


@pytest.fixture
def test_lever():
    register(CareCap)
    yield CareCap
    del POLICIES[CareCap.name]


def test_a_lever_defined_outside_sim_attaches_and_acts(small_cfg, test_lever):
    """Registered from the tests, configured with `+policy.<name>=`, the lever changes capacity
    through the hooks, takes over every closure and reports on its own schedule."""
    weak = {"model.education.viability_min_intake": 10_000, **EVERY_WEAK_CLOSES}  # closures guaranteed
    # at half scale halved places bind on care's popular programmes; at the usual 0.05 every
    # programme keeps its last place (capacity is rounded up), so they would not bind at all
    half = {**FAST, "scale": 0.5}
    base = simulate(small_cfg(**half, **weak))
    with_lever = simulate(small_cfg("+policy.test_care_cap.share=0.5", **half, **weak))
    (lever,) = with_lever.policies
    assert isinstance(lever, CareCap)
    care = base.education.programmes.sector == SECTOR_INDEX["care"]
    cap_l, cap_b = with_lever.education.intake_cap[care], base.education.intake_cap[care]
    assert np.allclose(cap_l, cap_b * 0.5) and cap_l.sum() < cap_b.sum()
    assert (with_lever.education.intake_cap[~care] == base.education.intake_cap[~care]).all()
    f_base, s_base = tables_and_summary(base)
    f_lever, s_lever = tables_and_summary(with_lever)
    assert s_base["closures"] > 0 and s_lever["closures"] == 0
    assert s_lever["vetoed_closures"] > 0
    assert lever.septembers == [SEPTEMBER] * FAST["years"]
    assert s_lever["policy_cost_eur"] == FAST["years"]
    edu_b, edu_l = f_base["education"], f_lever["education"]
    first = edu_b["school_year"] == edu_b["school_year"].min()
    assert edu_l.loc[first & (edu_l["sector"] == "care"), "intake"].sum() < \
        edu_b.loc[first & (edu_b["sector"] == "care"), "intake"].sum()


def test_unknown_lever_still_refused(small_cfg):
    from sim.config import ConfigError

    with pytest.raises(ConfigError, match="policy.test_care_cap"):
        small_cfg("+policy.test_care_cap.share=0.5", **FAST)


def test_closure_handlers_run_by_priority():
    hooks = Hooks.neutral(3)
    calls: list[str] = []

    def handler(name: str, takes: bool):
        def decide(members):
            calls.append(name)
            return ("vetoed", name) if takes else None
        return decide

    hooks.add_closure_handler(20, "bundling", handler("bundling", True))
    hooks.add_closure_handler(10, "minimal_coverage", handler("minimal_coverage", False))
    hooks.add_closure_handler(10, "another", handler("another", False))
    assert [h.name for h in hooks.closure_handlers] == ["another", "minimal_coverage", "bundling"]
    taken = next(r for h in hooks.closure_handlers if (r := h.decide(np.arange(1))) is not None)
    assert taken == ("vetoed", "bundling") and calls == ["another", "minimal_coverage", "bundling"]


def test_minimal_coverage_decides_before_bundling(small_cfg):
    """At the first review the same opleidingen are vetoed with bundling on as without it: the
    rule decides first, bundling only gets what the rule lets go."""
    over = {"region": "zuid_limburg", "years": 4, "demography": "strong_decline",
            "model.education.viability_min_intake": 25, **EVERY_WEAK_CLOSES}
    alone = tables_and_summary(simulate(small_cfg("policy=[minimal_coverage]", **over)))[0]["events"]
    both = tables_and_summary(simulate(small_cfg("policy=[minimal_coverage,bundling]", **over)))[0]["events"]
    first = alone["date"].min()
    assert first == both["date"].min()

    def vetoed(ev):
        return set(ev.loc[(ev["date"] == first) & (ev["event"] == "vetoed"), "programme_id"])

    assert vetoed(alone), "the set-up must make the rule veto something at the first review"
    assert vetoed(both) == vetoed(alone)
    bundled = set(both.loc[(both["date"] == first) & (both["event"] == "bundled"), "programme_id"])
    assert bundled and not bundled & vetoed(both)
