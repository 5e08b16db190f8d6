"""``hydra/sweeper=mbo``: Hydra's basic sweeper, resuming without composing finished jobs.

(No ``from __future__ import annotations``: Hydra loads plugin modules outside ``sys.modules``,
where dataclasses cannot resolve string annotations.)

The named experiments use it (``sim/configs/experiment/_common.yaml``). Per batch of jobs it
1. skips each job whose run folder is already complete with the same recipe
   (:mod:`sim.sweep`), printing ``complete, skipped: <folder>`` as the job itself would;
2. checks that the remaining jobs compose, once per configuration (replicates of the same
   configuration, and the rows of a sensitivity design, compose alike: :func:`sim.sweep.composes_like`),
   where the basic sweeper composes every job (a 4,096-run Sobol' design: about 10 minutes
   before the first run);
3. launches the remaining jobs with the configured launcher (joblib, SLURM, basic), leaving
   a note for their progress line: the folders of this sweep's jobs (:func:`sim.sweep.jobs_done`).
"""


import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from sim.sweep import (
    complete_with_recipe,
    composes_like,
    recipe,
    samples_file_of,
    write_sweep_jobs,
)

RUN_NAME_FROM_OVERRIDES = "${hydra:job.override_dirname}"


@dataclass
class MboSweeperConf:
    _target_: str = "hydra_plugins.mbo_sim_sweeper.sweeper.MboSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="mbo", node=MboSweeperConf, provider="mbo-sim")


class MboSweeper(BasicSweeper):
    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        self.overrides = self.split_arguments(parser.parse_overrides([*self._parse_config(), *arguments]),
                                              self.max_batch_size)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns, job_idx, skipped, t0 = [], 0, 0, time.perf_counter()
        folder_of = self._folder_of()
        done = self._done_check(folder_of)
        names: list[str] = []
        if folder_of is None:  # no list of this sweep's folders: not another sweep's either
            write_sweep_jobs(sweep_dir, None)
        while not self.is_done():
            batch = self.get_job_batch()
            if folder_of is not None:  # for the jobs' progress line: this sweep's folders so far
                names += [folder_of(job).name for job in batch]
                write_sweep_jobs(sweep_dir, names)
            todo = [job for job in batch if not done(job)]
            skipped += len(batch) - len(todo)
            representatives = {composes_like(job): job for job in todo}
            self.validate_batch_is_legal(list(representatives.values()))
            if todo:
                results = self.launcher.launch(todo, initial_job_idx=job_idx)
                for r in results:
                    _ = r.return_value  # a failed job raises here, as in the basic sweeper
                returns.append(results)
            job_idx += len(todo)
        if skipped:
            print(f"sweep: {skipped} complete jobs skipped in {time.perf_counter() - t0:.1f} s, "
                  f"{job_idx} run", flush=True)
        return returns

    def _folder_of(self) -> Callable[[list[str]], Path] | None:
        """A job's run folder from its overrides, where the runs are named by them
        (``run_name=${hydra:job.override_dirname}``, the experiments); None otherwise."""
        cfg = self.config
        if OmegaConf.to_container(cfg, resolve=False).get("run_name") != RUN_NAME_FROM_OVERRIDES:
            return None
        naming = cfg.hydra.job.config.override_dirname
        exclude, item_sep, kv_sep = list(naming.exclude_keys), naming.item_sep, naming.kv_sep
        runs = Path(str(cfg.output_dir))
        parser = OverridesParser.create()
        return lambda job: runs / get_overrides_dirname(parser.parse_overrides(list(job)), exclude, item_sep, kv_sep)

    def _done_check(self, folder_of: Callable[[list[str]], Path] | None) -> Callable[[list[str]], bool]:
        """``done(job)``: the job's folder is complete with this job's recipe (then it says so, as the
        job would). Without ``folder_of`` (runs not named by their overrides) no job is done here."""
        if folder_of is None:
            return lambda job: False
        cfg = self.config
        hydra_overrides = list(cfg.hydra.overrides.hydra)
        sources = OmegaConf.to_container(cfg.hydra.runtime.config_sources)
        samples_file = cfg.get("samples_file")

        def done(job: list[str]) -> bool:
            folder = folder_of(job)
            wanted = recipe(job, hydra_overrides, sources, samples_file_of(job, samples_file))
            if not complete_with_recipe(folder, wanted):
                return False
            print(f"complete, skipped: {folder}", flush=True)
            return True

        return done
