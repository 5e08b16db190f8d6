"""The ``mbo-sim`` command composes a single run's config once (``sim.cli._compose_once``), and the
run receives exactly the config that Hydra's two compositions gave before."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from test_bad_input import run_in_process

import sim.cli
from sim.config import ConfigError


def seen_by_the_run(monkeypatch, args: list[str], once: bool) -> tuple[int, str, dict, int]:
    """Run ``mbo-sim args`` up to the task function and stop there; returns the exit code, the
    output, the config and Hydra's own config the task saw, and how many times Hydra composed."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.hydra_config import HydraConfig

    seen: dict[str, str] = {}
    composed = []
    impl = ConfigLoaderImpl._load_configuration_impl

    def counting(self, *a, **k):
        composed.append(k.get("run_mode"))
        return impl(self, *a, **k)

    def capture(dcfg):
        seen["job"] = OmegaConf.to_yaml(dcfg)
        seen["hydra"] = OmegaConf.to_yaml(HydraConfig.get())
        raise ConfigError("captured")

    monkeypatch.setattr(ConfigLoaderImpl, "_load_configuration_impl", counting)
    monkeypatch.setattr(sim.cli, "to_config", capture)
    if not once:
        monkeypatch.setattr(sim.cli, "_compose_once", lambda: (lambda: None))
    code, out = run_in_process(sim.cli.main, ["mbo-sim", *args])
    monkeypatch.undo()
    return code, out, seen, len(composed)


@pytest.mark.parametrize("args", [
    ["region=achterhoek", "seed=3", "scale=0.5"],
    ["hydra.mode=RUN", "years=2"],  # the mode set: Hydra adds no override of its own
    ["policy=[pps,minimal_coverage]", "economy=recession"],
])
def test_a_run_gets_the_config_of_two_compositions_from_one(monkeypatch, args):
    code_once, _, once, n_once = seen_by_the_run(monkeypatch, args, once=True)
    code_twice, _, twice, n_twice = seen_by_the_run(monkeypatch, args, once=False)
    assert code_once == code_twice == 2  # stopped by the capture, in both
    assert once["job"] == twice["job"]
    assert once["hydra"] == twice["hydra"]  # mode, overrides (with hydra.mode=RUN), sources, job
    assert "mode: RUN" in once["hydra"]
    assert (n_once, n_twice) == (1, 2)


@pytest.mark.parametrize("args", [["seed=1,2"], ["region=nowhere"], ["no_such_key=1"]])
def test_errors_are_those_of_plain_hydra(monkeypatch, args):
    """A composition that fails (a sweep without -m, bad input): Hydra's own way, the same message
    and exit code."""
    code_once, out_once, _, _ = seen_by_the_run(monkeypatch, args, once=True)
    code_twice, out_twice, _, _ = seen_by_the_run(monkeypatch, args, once=False)
    assert code_once == code_twice != 0
    assert out_once == out_twice
