"""Sector image and employership: an image shock at a date (the report: care intake fell after
negative press about overworked staff) and employership improvements (better conditions raise
choice and retention of workers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.calendar import MONTHS_PER_YEAR
from sim.codes import SECTOR_INDEX
from sim.config import ConfigError
from sim.policies.base import Policy, check_nonneg, check_sector_dict


@dataclass
class ImageParams:
    start_year: int = 2027
    image_change: dict[str, float] = field(default_factory=lambda: {"care": -0.5})
    employership_change: dict[str, float] = field(default_factory=dict)
    retention_per_employership: float = 0.2

    def validate(self, key: str) -> None:
        if not 2000 <= self.start_year <= 2100:
            raise ConfigError(f"{key}.start_year = {self.start_year}: must be a calendar year")
        for name in ("image_change", "employership_change"):
            d = getattr(self, name)
            check_sector_dict(f"{key}.{name}", d, complete=False)
            for s, v in d.items():
                if not -5 <= v <= 5:
                    raise ConfigError(f"{key}.{name}.{s} = {v}: must be in [-5, 5] utility units")
        check_nonneg(f"{key}.retention_per_employership", self.retention_per_employership)


class Image(Policy):
    name = "image"
    Params = ImageParams

    def schedule(self, model) -> None:
        model.at_month(self.shock, (self.params.start_year - model.cfg.start_year) * MONTHS_PER_YEAR)

    def shock(self) -> None:
        """At the start of January of ``start_year``: the sector image and employership change."""
        prm, hooks = self.params, self.model.hooks
        for s, v in prm.image_change.items():
            hooks.education.sector_image[SECTOR_INDEX[s]] += v
            self.record(f"image_change_{s}", v)
        for s, v in prm.employership_change.items():
            i = SECTOR_INDEX[s]
            hooks.education.sector_employership[i] += v
            hooks.labour.separation_factor[i] *= max(1 - prm.retention_per_employership * v, 0.0)
            self.record(f"employership_change_{s}", v)
        self.record("cost_eur", 0.0)
