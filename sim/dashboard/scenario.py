"""A dashboard scenario: the user's choices, turned into the CLI's overrides and checked like the CLI.

A scenario has one arm without levers and, when levers are chosen, one arm with them; both run the
same replicates (seed + replicate: common random numbers). Each run is the CLI run of
``mbo-sim <overrides>`` (:meth:`Scenario.runs`), so a number on the page can be reproduced on the
command line.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from omegaconf import OmegaConf

from sim.config import Config, ConfigError
from sim.hydra_config import CONFIG_DIR, compose

_COMPOSE_LOCK = threading.Lock()  # Hydra's global state: one composition at a time (sessions are threads)


@cache
def limits() -> dict[str, Any]:
    """``configs/dashboard.yaml``: the choices and bounds of the dashboard's inputs."""
    return OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "dashboard.yaml"), resolve=True)


def compose_locked(overrides: list[str]) -> Config:
    with _COMPOSE_LOCK:
        return compose(overrides)


@cache
def _default_config() -> Config:
    return compose_locked([])


@cache
def lever_defaults(lever: str) -> dict[str, Any]:
    """The lever's parameters as its config file sets them, flattened to the dashboard's dotted keys."""
    params = compose_locked([f"policy={lever}"]).policy[lever]
    out: dict[str, Any] = {}
    for key in limits()["levers"][lever]:
        node: Any = params
        for part in key.split("."):  # a dotted key: an entry of a mapping, 0 where the mapping lacks it
            node = node.get(part, 0.0)
        out[key] = node
    return out


def defaults() -> dict[str, Any]:
    """The default of every general input: the dashboard's own (region, reps, scale) and the model's."""
    cfg = _default_config()
    lim = limits()
    return {"region": lim["defaults"]["region"], "demography": cfg.demography.name, "economy": cfg.economy.name,
            "reps": lim["defaults"]["reps"], "scale": lim["defaults"]["scale"], "years": cfg.years, "seed": cfg.seed,
            "havo_shift": cfg.model.education.havo_shift_per_year}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return repr(round(v, 10))
    return str(v)


@dataclass(frozen=True)
class Run:
    name: str  # folder name under runs/
    arm: str  # "none" or the levers joined by "+"
    replicate: int
    overrides: tuple[str, ...]  # the CLI's overrides of this run

    def command(self) -> str:
        return "mbo-sim " + " ".join(f"'{o}'" if "[" in o else o for o in self.overrides)


@dataclass
class Scenario:
    region: str
    demography: str
    economy: str
    reps: int
    scale: float
    years: int
    seed: int
    levers: dict[str, dict[str, Any]] = field(default_factory=dict)  # lever -> {dotted key: value}
    havo_shift: float | None = None  # model.education.havo_shift_per_year; None: the model's default

    @classmethod
    def default(cls) -> Scenario:
        return cls(**defaults())

    # --- overrides --------------------------------------------------------------------------------
    def base_overrides(self) -> list[str]:
        """The scenario's overrides; the shift to havo/vwo only where it differs from the model's."""
        out = [f"region={self.region}", f"demography={self.demography}", f"economy={self.economy}",
               f"scale={_value(float(self.scale))}", f"years={self.years}", f"seed={self.seed}"]
        if self.havo_shift is not None and self.havo_shift != defaults()["havo_shift"]:
            out.append(f"model.education.havo_shift_per_year={_value(float(self.havo_shift))}")
        return out

    def lever_overrides(self) -> list[str]:
        """``policy=[a,b]`` and each chosen parameter that differs from the lever's default."""
        if not self.levers:
            return []
        names = sorted(self.levers)
        out = [f"policy={names[0]}" if len(names) == 1 else f"policy=[{','.join(names)}]"]
        for lever in names:
            default = lever_defaults(lever)
            for key, value in sorted(self.levers[lever].items()):
                if key not in default:
                    raise ConfigError(f"policy.{lever}.{key}: not a parameter the dashboard sets; "
                                      f"allowed: {sorted(default)}")
                if value != default[key]:
                    out.append(f"policy.{lever}.{key}={_value(value)}")
        return out

    @property
    def arms(self) -> list[str]:
        return ["none", "+".join(sorted(self.levers))] if self.levers else ["none"]

    def runs(self) -> list[Run]:
        """Every run: per replicate, the arm without levers, then the arm with them."""
        out = []
        for r in range(self.reps):
            for arm in self.arms:
                extra = [] if arm == "none" else self.lever_overrides()
                out.append(Run(f"policy={arm},replicate={r}", arm, r,
                               tuple([*self.base_overrides(), *extra, f"replicate={r}"])))
        return out

    def cost(self) -> float:
        """Simulated full-scale region-years: scale × replications × years × arms."""
        return float(self.scale) * self.reps * self.years * len(self.arms)

    # --- checks -------------------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse (ConfigError, one line naming the input) what the dashboard does not offer or what
        the model refuses; the model's messages are the CLI's (each arm is composed as the CLI does)."""
        self.check_inputs()
        for run in self.runs()[: len(self.arms)]:  # replicate 0 of each arm: the others differ only in the seed
            compose_locked(list(run.overrides))

    def check_inputs(self) -> None:
        """The dashboard's own bounds and the size cap (fast: nothing is composed)."""
        lim = limits()
        for key, allowed in (("region", lim["regions"]), ("demography", lim["demography"]),
                             ("economy", lim["economy"])):
            if getattr(self, key) not in allowed:
                raise ConfigError(f"{key} = {getattr(self, key)!r}: unknown; allowed: {allowed}")
        for key in ("reps", "scale", "years", "seed", "havo_shift"):
            value = getattr(self, key)
            if value is None:  # havo_shift: the model's own
                continue
            lo, hi = lim[key]["min"], lim[key]["max"]
            whole = key not in ("scale", "havo_shift")
            if isinstance(value, bool) or not isinstance(value, int if whole else int | float) or not lo <= value <= hi:
                kind = "a whole number" if whole else "a number"
                raise ConfigError(f"{key} = {value!r}: must be {kind} in [{lo}, {hi}]")
        unknown = sorted(set(self.levers) - set(lim["levers"]))
        if unknown:
            raise ConfigError(f"policy = {unknown[0]!r}: unknown policy lever; allowed: {sorted(lim['levers'])}")
        for lever, params in self.levers.items():
            for key, value in params.items():
                spec = lim["levers"][lever].get(key)
                if spec and not spec["min"] <= value <= spec["max"]:
                    raise ConfigError(f"policy.{lever}.{key} = {value!r}: the dashboard allows "
                                      f"[{spec['min']}, {spec['max']}]")
        if self.cost() > lim["budget"]:
            raise ConfigError(f"scale × replications × years × arms = {self.cost():g}: at most {lim['budget']} on "
                              "this server; lower the scale, the replications or the years")
