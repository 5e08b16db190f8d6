"""The regions the model knows: the single registry every other module takes them from.

A region needs a config ``configs/region/<name>.yaml`` (its parameters, with sources), a fitted
``configs/calibration/<name>.yaml``, and rows in the data files: ``municipalities.csv`` and
``population_by_age_band_2021.csv`` name it by ``label``; ``employment_by_sector.csv`` and
``institutions.csv`` by ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str  # the config name (region=<name>) and the key in employment/institution data
    label: str  # the name in the municipality and population data, and in tables and plots
    municipalities: int  # municipalities of the region in the shipped data (municipalities.csv)


REGISTRY: tuple[Region, ...] = (
    Region("achterhoek", "Achterhoek", 8),
    Region("zeeland", "Zeeland", 13),
    Region("zuid_limburg", "Zuid-Limburg", 16),
)

BY_NAME: dict[str, Region] = {r.name: r for r in REGISTRY}
REGIONS: tuple[str, ...] = tuple(BY_NAME)
REGION_LABELS: dict[str, str] = {r.name: r.label for r in REGISTRY}
