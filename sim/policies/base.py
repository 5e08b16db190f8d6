"""What a policy lever is: a module composed into the model, never a branch inside a process.

A lever reads its parameters from ``configs/policy/<name>.yaml`` (validated by its dataclass),
``attach``es itself to a built model by changing the knobs declared in ``model.hooks``
(:mod:`sim.hooks`: thresholds, factors, closure handlers, reach, …) and schedules its own
events through the model's event schedule (``model.every_year``, ``every_month``,
``at_month``). It reads model state, never a results table, and reports its costs and effects
as rows (year, lever, quantity, value) that end up in ``policy.parquet``. By default a lever
reports once a school year, in September after the intake (:meth:`Policy.yearly`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from sim._mesa import Priority
from sim.calendar import SEPTEMBER
from sim.config import ConfigError, check_positive, check_sector_dict, check_share

__all__ = ["Policy", "check_nonneg", "check_sector_dict", "check_share", "parse_params"]

if TYPE_CHECKING:
    from sim.model import RegionModel


class Policy:
    name: ClassVar[str]
    Params: ClassVar[type]

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = parse_params(self.name, self.Params, params)
        self.model: RegionModel | None = None

    def attach(self, model: RegionModel) -> None:
        """Change the knobs of ``model.hooks`` and schedule the lever's events. The default
        schedules :meth:`yearly` each September, after the intake (override :meth:`schedule`)."""
        self.model = model
        self.rng = model.streams[f"policy.{self.name}"]
        self.schedule(model)

    def schedule(self, model: RegionModel) -> None:
        model.every_year(self.yearly, SEPTEMBER, priority=Priority.LOW)

    def yearly(self) -> None:
        """Once a school year, after the intake: record the lever's costs and effects."""

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


def check_nonneg(key: str, value: float) -> None:
    check_positive(key, value, allow_zero=True)
