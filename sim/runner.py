"""Run one scenario: validated config in, results folder out. No Hydra here (see sim.cli)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.config import Config
from sim.io.loaders import load_region
from sim.io.safe import check_replaceable
from sim.io.writer import base_manifest, is_complete, write_run
from sim.model import RegionModel
from sim.results import summary


def simulate(cfg: Config, progress: bool = False, on_year: Callable[[int], None] | None = None) -> RegionModel:
    """Build and run the model for ``cfg``; returns the finished model. ``progress`` shows a
    progress bar on stderr; ``on_year(y)`` is called after each simulated year y = 1 … years
    (the dashboard's progress bar). Neither changes the results."""
    data = load_region(cfg.region.name, cfg.data_dir)
    model = RegionModel(cfg, data)
    if progress or on_year is not None:
        from tqdm import tqdm

        with tqdm(total=cfg.years, unit="yr", desc=cfg.resolved_run_name, leave=False, disable=not progress) as bar:
            for year in range(1, cfg.years + 1):
                model.run_for(12)
                bar.update(1)
                if on_year is not None:
                    on_year(year)
    else:
        model.run()
    return model


def tables_and_summary(model: RegionModel) -> tuple[dict[str, pd.DataFrame], dict]:
    """The results tables of a finished model and its headline summary (real persons)."""
    frames = model.results.frames()
    k = 1.0 / model.cfg.scale
    return frames, summary(frames, model.persons_start * k, model.pop.n * k)


def output_folder(cfg: Config) -> Path:
    return Path(cfg.output_dir) / cfg.resolved_run_name


def run(cfg: Config, out_dir: str | Path | None = None, on_year: Callable[[int], None] | None = None,
        recipe: str | None = None) -> Path:
    """Simulate ``cfg`` and write its results folder; returns the folder (``on_year``: see :func:`simulate`;
    ``recipe``: what the config was composed from, for resuming sweeps, see :mod:`sim.sweep`).

    A folder in the way that is not an mbo-sim folder is refused before simulating. If another
    process completes the same run meanwhile, its folder is kept and this run's tables dropped."""
    out = Path(out_dir) if out_dir is not None else output_folder(cfg)
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)  # an unusable output_dir fails now, not after the run
    with tempfile.TemporaryFile(dir=out.parent):
        pass
    t0 = time.perf_counter()
    model = simulate(cfg, progress=cfg.progress, on_year=on_year)
    simulated = time.perf_counter() - t0
    frames, summary = tables_and_summary(model)
    manifest = base_manifest(cfg, model.data.checksums)
    manifest["wall_seconds"] = round(time.perf_counter() - t0, 3)  # loading data, simulating, the tables
    manifest["simulate_seconds"] = round(simulated, 3)  # loading data, building and running the model
    if recipe is not None:
        manifest["recipe"] = recipe
    write_run(out, frames, summary, manifest, plot=cfg.write_plots, skip=lambda: is_complete(out, cfg))
    return out
