"""The ``mbo-sim`` command: compose the Hydra config, validate, run, report where results are.

    mbo-sim                                   # Zeeland, baseline, no policy, every resident
    mbo-sim region=achterhoek seed=3 scale=0.5
    mbo-sim -m +experiment=baseline_regions   # a named experiment (a sweep; see sim/configs/experiment/)
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.config import ConfigError
from sim.hydra_config import CONFIG_DIR, check_overrides, register_schema, to_config
from sim.io.loaders import DataError
from sim.io.safe import UnsafeOutput

register_schema()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def app(dcfg: DictConfig) -> None:
    out = None
    try:
        cfg = to_config(dcfg)
        from sim.io.writer import is_complete, stamp_recipe
        from sim.runner import output_folder, run

        out = output_folder(cfg)
        if is_complete(out, cfg):
            if _in_sweep():
                stamp_recipe(out, _recipe(cfg))
            print(f"complete, skipped: {out}")
        else:
            out = run(cfg, recipe=_recipe(cfg))
            print(f"results: {out}")
            print(f"plots:   {out / 'plots'}" if cfg.write_plots else "plots:   (not written)")
    except (ConfigError, DataError, UnsafeOutput) as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        fail(f"interrupted; nothing written{f' to {out}' if out else ''} (an earlier complete run there is kept)",
             EXIT_SIGINT)
    except Terminated:
        fail(f"terminated; nothing written{f' to {out}' if out else ''} (an earlier complete run there is kept)",
             EXIT_SIGTERM)
    except OSError as exc:  # disk full, permissions, ...: the temporary folder is already gone
        fail(f"could not write the results{f' to {out}' if out else ''}: {exc}", 1)
    _report_sweep_progress(Path(cfg.output_dir))


def _in_sweep() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def _recipe(cfg) -> str:
    """What this job's config was composed from (resuming sweeps: :mod:`sim.sweep`)."""
    from hydra.core.hydra_config import HydraConfig

    from sim.sweep import recipe

    hc = HydraConfig.get()
    return recipe(list(hc.overrides.task), list(hc.overrides.hydra), hc.runtime.config_sources, cfg.samples_file)


EXIT_SIGINT, EXIT_SIGTERM = 130, 143  # 128 + signal number, as a shell reports a killed command


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that every ``finally`` and clean-up runs."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def fail(message: str, code: int) -> None:
    print(f"mbo-sim: error: {message}", file=sys.stderr)
    sys.exit(code)


def _report_sweep_progress(runs_dir: Path) -> None:
    """In a sweep, say how many of its jobs are complete (jobs may run in other processes):
    :func:`sim.sweep.jobs_done`."""
    from hydra.core.hydra_config import HydraConfig

    from sim.sweep import jobs_done

    if not _in_sweep():
        return
    hc = HydraConfig.get()
    done = jobs_done(runs_dir, Path(hc.sweep.dir))
    total = _sweep_total(Path(hc.sweep.dir) / "multirun.yaml")
    if total is None:
        print(f"sweep: {done} jobs complete", flush=True)
        return
    width = 30
    filled = int(width * min(done, total) / max(total, 1))
    print(f"sweep: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} jobs complete", flush=True)


def _sweep_total(multirun_yaml: Path) -> int | None:
    """Jobs of the whole sweep, from the multirun config Hydra saved when it started: the
    sweeper's parameters, with the command line's overrides of the same keys taking their place."""
    from omegaconf import OmegaConf

    if not multirun_yaml.is_file():
        return None
    cfg = OmegaConf.load(multirun_yaml)
    params = {k: str(v) for k, v in (OmegaConf.select(cfg, "hydra.sweeper.params") or {}).items()}
    for override in OmegaConf.select(cfg, "hydra.overrides.task") or []:
        key, _, value = str(override).partition("=")
        key = key.lstrip("+~")
        if key in params or "," in value or value.startswith(("range(", "choice(")):
            params[key] = value
    try:
        return sweep_size(params)
    except Exception:  # an unusual sweep syntax: say the count without a total
        return None


def sweep_size(params: dict[str, str]) -> int:
    """Number of jobs of a sweep: the product of the sizes of its sweep parameters."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    total = 1
    for o in parser.parse_overrides([f"{k}={v}" for k, v in params.items()]):
        if o.is_sweep_override():
            total *= len(list(o.sweep_iterator()))
    return total


def _compose_once() -> Callable[[], None]:
    """Compose a single run's config once instead of twice; returns what undoes it.

    ``hydra.main`` composes the config to learn the run mode (``hydra.mode``), then again, with
    ``hydra.mode=RUN`` added to the overrides when the config sets no mode, to run: 0.1 s each, a
    tenth of a cold run's overhead. Here the first composition is the run's own (run mode, sweep
    overrides checked), and Hydra's config loader hands it to the run's composition once, for the
    call with the same arguments, with ``hydra.mode=RUN`` applied as the loader applies it (the mode
    set, the override listed). If that composition fails (sweep overrides, an error to report),
    Hydra finds the mode its own way, and the run composes again as before, with the same errors.
    ``tests/test_cli.py`` checks that the run receives the config a plain composition gives."""
    try:
        from hydra._internal.hydra import Hydra
        from hydra.types import RunMode
    except ImportError:
        return lambda: None
    get_mode = Hydra.get_mode

    def get_mode_composing_the_run(self, config_name, overrides):
        loader = self.config_loader
        call = {"config_name": config_name, "overrides": list(overrides), "run_mode": RunMode.RUN,
                "from_shell": True, "validate_sweep_overrides": True}
        try:
            cfg = loader.load_configuration(**call)
        except Exception:
            return get_mode(self, config_name, overrides)
        mode = cfg.hydra.mode

        def load_configuration(*args, **kwargs):
            del loader.load_configuration  # once: the loader's own method again
            if not args and kwargs == call:
                return cfg
            if not args and mode is None and kwargs == {**call, "overrides": [*call["overrides"], "hydra.mode=RUN"]}:
                cfg.hydra.mode = RunMode.RUN
                cfg.hydra.overrides.hydra.append("hydra.mode=RUN")
                return cfg
            return loader.load_configuration(*args, **kwargs)

        loader.load_configuration = load_configuration
        return mode

    Hydra.get_mode = get_mode_composing_the_run

    def undo() -> None:
        Hydra.get_mode = get_mode

    return undo


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        check_overrides([a for a in sys.argv[1:] if "=" in a and not a.startswith("-")])
    except ConfigError as exc:
        fail(str(exc), 2)
    undo = _compose_once() if not {"-m", "--multirun"} & set(sys.argv[1:]) else (lambda: None)
    try:
        app()
    finally:
        undo()
    # Everything is written. Exempt the objects left from the garbage collector's passes at
    # interpreter exit: taking apart the ~900 imported modules' reference cycles one by one took
    # 0.15 s of every run (issue 17); the operating system frees the memory at once.
    gc.freeze()


if __name__ == "__main__":
    main()
