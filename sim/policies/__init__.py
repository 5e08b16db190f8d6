"""Policy levers: one module per lever, named as the lever (``sim/policies/<name>.py``, configured
in ``configs/policy/<name>.yaml``), each a :class:`~sim.policies.base.Policy` composed into the
model. A lever outside this package registers itself with :func:`register`."""

from __future__ import annotations

from typing import Any

from sim.config import ConfigError
from sim.policies.base import Policy
from sim.policies.bundling import Bundling
from sim.policies.image import Image
from sim.policies.integrated_governance import IntegratedGovernance
from sim.policies.llo_vouchers import LloVouchers
from sim.policies.minimal_coverage import MinimalCoverage
from sim.policies.numerus_fixus import NumerusFixus
from sim.policies.pps import Partnership
from sim.policies.procurement import Procurement

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (MinimalCoverage, Partnership, IntegratedGovernance, LloVouchers, NumerusFixus, Image, Bundling,
                Procurement)
}


def register(cls: type[Policy]) -> type[Policy]:
    """Add a lever class to the registry (usable as a class decorator)."""
    POLICIES[cls.name] = cls
    return cls


def build_policies(config: dict[str, Any]) -> list[Policy]:
    """One lever object per entry of the config's ``policy`` node, in a fixed (sorted) order."""
    out = []
    for name in sorted(config):
        if name not in POLICIES:
            raise ConfigError(f"policy.{name}: unknown policy lever; allowed: {sorted(POLICIES)}")
        out.append(POLICIES[name](dict(config[name] or {})))
    return out
