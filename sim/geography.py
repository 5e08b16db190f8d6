"""Travel times between municipality centres.

Travel time = great-circle distance × detour factor ÷ speed; within one municipality a fixed
time. Coarse but transparent: access to a programme means "within max_travel_minutes".
"""

from __future__ import annotations

import numpy as np

from sim.config import TravelConfig

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
    """Matrix (origins × destinations) of travel minutes; identical points get the intra time."""
    o = np.asarray(origins, dtype=float)
    d = np.asarray(destinations, dtype=float)
    km = great_circle_km(o[:, None, 0], o[:, None, 1], d[None, :, 0], d[None, :, 1])
    minutes = km * cfg.detour_factor / cfg.speed_kmh * 60.0
    return np.maximum(minutes, cfg.intra_municipal_minutes)
