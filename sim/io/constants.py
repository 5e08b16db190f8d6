"""The fitted per-programme constants of a calibration: ``configs/calibration/<region>_constants.csv``.

A table, not YAML: composing a config with ~1,000 constants per region cost Hydra ~0.2 s per run,
which a sweep of thousands of runs pays serially before it starts (issue 14). The config names the
file (``model.education.constants_file``) and its sha256, so that a refit changes the config and
completed runs with the old constants are not taken for runs with the new ones.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sim.config import ConfigError

COLUMNS = ("programme_id", "programme_constant", "adult_constant")
HEADER = "# Fitted by `mbo-sim-calibrate` (sim/calibration.py) with"


def resolve(path: str | Path) -> Path:
    from sim.hydra_config import CONFIG_DIR

    path = Path(path)
    return path if path.is_absolute() else CONFIG_DIR / path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_constants(path: str | Path, expected_sha256: str | None = None) -> dict[str, dict[str, float]]:
    """``{"programme_constants": {id: c}, "adult_constants": {id: c}}`` from the file (blank = none)."""
    full = resolve(path)
    try:
        digest = sha256(full)
        table = _read(str(full), digest)
    except OSError as exc:
        raise ConfigError(f"model.education.constants_file = {str(path)!r}: cannot read it ({exc.strerror})") from None
    if expected_sha256 and digest != expected_sha256:
        raise ConfigError(f"model.education.constants_file = {str(path)!r}: its content changed since the fit "
                          f"(sha256 {digest[:12]}…, the config says {expected_sha256[:12]}…); "
                          "refit with `mbo-sim-calibrate --fit` or restore the file")
    return {k: dict(v) for k, v in table.items()}


@lru_cache(maxsize=8)
def _read(path: str, digest: str) -> dict[str, dict[str, float]]:
    try:
        df = pd.read_csv(path, comment="#", dtype={"programme_id": str})
        assert tuple(df.columns) == COLUMNS and df["programme_id"].is_unique
    except (ValueError, AssertionError):
        raise ConfigError(f"model.education.constants_file = {path!r}: not a constants table with columns "
                          f"{list(COLUMNS)} and one row per programme") from None
    out = {}
    for col, key in (("programme_constant", "programme_constants"), ("adult_constant", "adult_constants")):
        rows = df[df[col].notna()]
        out[key] = dict(zip(rows["programme_id"], rows[col].astype(float), strict=True))
    return out


def write_constants(programme: dict[str, float], adult: dict[str, float], header: str) -> str:
    """The table's text (constants rounded to 4 significant digits, as the YAML had them)."""
    ids = list(dict.fromkeys([*programme, *adult]))
    lines = [f"{HEADER} {header}", ",".join(COLUMNS)]
    for pid in ids:
        p, a = programme.get(pid), adult.get(pid)
        lines.append(f"{pid},{'' if p is None else f'{p:.4g}'},{'' if a is None else f'{a:.4g}'}")
    return "\n".join(lines) + "\n"
