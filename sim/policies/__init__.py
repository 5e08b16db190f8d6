"""Policy levers (configs/policy/<name>.yaml), each a module composed into the model."""

from __future__ import annotations

from typing import Any

from sim.config import ConfigError
from sim.policies.base import Policy
from sim.policies.bundling import Bundling
from sim.policies.coverage import MinimalCoverage
from sim.policies.governance import IntegratedGovernance
from sim.policies.image import Image
from sim.policies.numerus_fixus import NumerusFixus
from sim.policies.partnership import Partnership
from sim.policies.procurement import Procurement
from sim.policies.vouchers import LloVouchers

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (MinimalCoverage, Partnership, IntegratedGovernance, LloVouchers, NumerusFixus, Image, Bundling,
                Procurement)
}


def build_policies(config: dict[str, Any]) -> list[Policy]:
    """One lever object per entry of the config's ``policy`` node, in a fixed (sorted) order."""
    out = []
    for name in sorted(config):
        if name not in POLICIES:
            raise ConfigError(f"policy.{name}: unknown policy lever; allowed: {sorted(POLICIES)}")
        out.append(POLICIES[name](dict(config[name] or {})))
    return out
