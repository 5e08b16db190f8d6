"""What a policy lever is: a module composed into the model, never a branch inside a process.

A lever reads its parameters from ``configs/policy/<name>.yaml`` (validated by its dataclass),
``attach``es itself to a built model by changing the hooks the processes expose (thresholds,
factors, veto handlers, reach, …), may act each month in ``step``, and reports its costs and
effects as rows (year, lever, quantity, value) that end up in ``policy.parquet``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from sim.config import ConfigError

SEPTEMBER = 8

if TYPE_CHECKING:
    from sim.model import RegionModel


class Policy:
    name: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = parse_params(self.name, self.Params, params)
        self.model: RegionModel | None = None

    def attach(self, model: RegionModel) -> None:
        self.model = model
        self.rng = model.streams[f"policy.{self.name}"]

    def step(self, month: int) -> None:
        """Called at the start of every month, before the processes; by default it calls
        ``yearly`` each September, after the intake, when the school year's figures are known."""
        if month % 12 == SEPTEMBER:
            self.yearly()

    def yearly(self) -> None:
        """Once a school year: record the lever's costs and effects."""

    def record(self, quantity: str, value: float, year: int | None = None) -> None:
        model = self.model
        model.policy_rows.append({"year": model.year if year is None else year, "lever": self.name,
                                  "quantity": quantity, "value": float(value)})


def parse_params(name: str, cls: type, params: dict[str, Any]) -> Any:
    """Build the lever's parameter dataclass; unknown keys, wrong types and bad values name the
    full key (types are checked by OmegaConf against the dataclass's annotations)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    allowed = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ConfigError(f"policy.{name}.{unknown[0]}: unknown key; allowed keys here: {sorted(allowed)}")
    try:
        node = OmegaConf.structured(cls)
        for key, value in params.items():  # assignment replaces (a merge would keep default dict entries)
            node[key] = value
        obj = OmegaConf.to_object(node)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or ""
        msg = str(exc).splitlines()[0]
        raise ConfigError(f"policy.{name}.{key}: {msg}") from None
    check = getattr(obj, "validate", None)
    if check is not None:
        check(f"policy.{name}")
    return obj


def check_share(key: str, value: float) -> None:
    if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key} = {value!r}: must be a share in [0, 1]")


def check_nonneg(key: str, value: float) -> None:
    if not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key} = {value!r}: must be >= 0")
