"""Travel times between places: from the door-to-door table ``travel_minutes.csv`` by mode, or by
the straight-line formula (the documented fallback).

Modes (``model.travel.mode`` for students, ``model.travel.adult_mode`` for adults and commuting):

- ``public``: the faster of public transport and cycling the whole way (the default for students,
  who are 16 and take the bus, the train, the ferry or their bike);
- ``pt``: public transport only (access by bike or on foot, waiting, transfers);
- ``car``: by car, through the Westerscheldetunnel or via Antwerpen across the Westerschelde (the
  default for adults and commuting);
- ``straight_line``: great-circle distance × ``detour_factor`` ÷ ``speed_kmh``, at least
  ``intra_municipal_minutes`` (version 0.1: it crosses water, and 45 km/h door to door is a car).

``docs/travel.md`` describes how the table is built (``python -m sim.datatools.travel``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.config import TRAVEL_MODES as MODES
from sim.config import TravelConfig
from sim.io.loaders import DataError

EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def travel_minutes(
    origins: list[tuple[float, float]],
    destinations: list[tuple[float, float]],
    cfg: TravelConfig,
) -> np.ndarray:
    """The straight-line formula: matrix (origins × destinations) of minutes; identical points get
    the intra-municipal time."""
    o = np.asarray(origins, dtype=float)
    d = np.asarray(destinations, dtype=float)
    km = great_circle_km(o[:, None, 0], o[:, None, 1], d[None, :, 0], d[None, :, 1])
    minutes = km * cfg.detour_factor / cfg.speed_kmh * 60.0
    return np.maximum(minutes, cfg.intra_municipal_minutes)


def travel_matrix(table: pd.DataFrame, coordinates: dict[str, tuple[float, float]], origins: Sequence[str],
                  destinations: Sequence[str], mode: str, cfg: TravelConfig, missing: str = "error") -> np.ndarray:
    """Minutes (origins × destinations) by ``mode`` between named places (municipalities and sites).

    ``table`` has the columns origin, destination, mode (pt, bike, car) and minutes; ``public`` is
    the faster of pt and bike. A pair the table lacks is an error naming it (``missing="error"``),
    or never reachable (``missing="inf"``)."""
    if mode == "straight_line":
        return travel_minutes([coordinates[o] for o in origins], [coordinates[d] for d in destinations], cfg)
    if mode not in MODES:
        raise ValueError(f"unknown travel mode {mode!r}; allowed: {list(MODES)}")
    modes = ("pt", "bike") if mode == "public" else (mode,)
    rows = table[table["mode"].isin(modes)]
    best = rows.groupby(["origin", "destination"])["minutes"].min()
    wide = best.unstack()
    out = wide.reindex(index=list(origins), columns=list(destinations)).to_numpy(dtype=float)
    if missing == "error" and np.isnan(out).any():
        gaps = sorted({(origins[i], destinations[j]) for i, j in np.argwhere(np.isnan(out))})
        raise DataError(
            f"data file travel_minutes.csv has no {mode} time from {gaps[0][0]} to {gaps[0][1]} "
            f"({len(gaps)} origin-destination pair(s) missing); rebuild it with `python -m sim.datatools.travel` "
            f"or set model.travel.mode=straight_line")
    return np.where(np.isnan(out), np.inf, out)
