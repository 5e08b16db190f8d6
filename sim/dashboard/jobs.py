"""Running a dashboard scenario in the background: one process a job, the CLI's runner, a normal
experiment folder.

:func:`start` makes a new folder ``<results>/dashboard-<time>-<region>-<token>/`` (never an existing
one: sessions never share results), writes ``scenario.json`` (the inputs and each run's CLI command)
and starts a process that runs every run of the scenario with :func:`sim.runner.run` into
``runs/<run>/``, then writes ``summary.parquet``: the folder is an experiment that ``mbo-sim-report``
reads. The process reports each simulated year through a queue (:meth:`Job.poll`); :meth:`Job.cancel`
stops it as SIGTERM stops the CLI, so no half-written run is left behind. At most
``max_jobs`` (``configs/dashboard.yaml``) jobs run at once over all sessions of a server.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import queue
import secrets
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.dashboard.scenario import Run, Scenario, limits
from sim.io.safe import MARKER, MARKER_TEXT

PREFIX = "dashboard-"

_RUNNING: set[Job] = set()
_RUNNING_LOCK = threading.Lock()


class Busy(RuntimeError):
    """The server runs as many jobs as it allows; try again when one has finished."""


@dataclass(eq=False)
class Job:
    exp_dir: Path
    runs: list[Run]
    years: int
    process: Any = None
    messages: Any = None
    done_years: dict[int, int] = field(default_factory=dict)  # run index -> years simulated
    state: str = "running"  # running, done, failed, cancelled
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def fraction(self) -> float:
        return sum(self.done_years.values()) / max(len(self.runs) * self.years, 1)

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def poll(self) -> str:
        """Read the process's messages; returns the state."""
        if self.state != "running":
            return self.state
        while True:
            try:
                msg = self.messages.get_nowait()
            except (queue.Empty, OSError, ValueError):
                break
            if msg[0] == "year":
                self.done_years[msg[1]] = msg[2]
            elif msg[0] == "done":
                self._end("done")
            elif msg[0] == "error":
                self._end("failed", msg[1])
        if self.state == "running" and not self.process.is_alive():
            self.process.join()
            self.poll_tail()
        return self.state

    def poll_tail(self) -> None:
        """The process has ended: take its last messages, or say that it died without one."""
        time.sleep(0.05)
        try:
            while self.state == "running":
                msg = self.messages.get(timeout=0.5)
                if msg[0] == "done":
                    self._end("done")
                elif msg[0] == "error":
                    self._end("failed", msg[1])
        except (queue.Empty, OSError, ValueError):
            if self.state == "running":
                self._end("failed", f"the run process ended unexpectedly (exit code {self.process.exitcode})")

    def cancel(self) -> None:
        if self.state == "running":
            self.process.terminate()  # SIGTERM: the runner removes its temporary folder
            self.process.join(timeout=30)
            self._end("cancelled")

    def wait(self, timeout: float | None = None, interval: float = 0.2) -> str:
        """Poll until the job has ended (or ``timeout`` seconds); returns the state."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() == "running" and (end is None or time.monotonic() < end):
            time.sleep(interval)
        return self.state

    def _end(self, state: str, error: str = "") -> None:
        self.state, self.error, self.finished = state, error, time.monotonic()
        with _RUNNING_LOCK:
            _RUNNING.discard(self)


def running_jobs() -> int:
    with _RUNNING_LOCK:
        return len(_RUNNING)


def new_folder(results_dir: Path, scenario: Scenario) -> Path:
    """A new experiment folder under ``results_dir``, created here (so it is the dashboard's own), with
    ``scenario.json``: the inputs and each run's CLI command."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        folder = results_dir / f"{PREFIX}{stamp}-{scenario.region}-{secrets.token_hex(3)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        (folder / MARKER).write_text(MARKER_TEXT)
        info = {"generator": "mbo-sim-dashboard", "scenario": asdict(scenario),
                "runs": [{"name": r.name, "arm": r.arm, "replicate": r.replicate, "command": r.command()}
                         for r in scenario.runs()]}
        (folder / "scenario.json").write_text(json.dumps(info, indent=2) + "\n")
        return folder


def start(scenario: Scenario, results_dir: str | Path) -> Job:
    """Check ``scenario`` (ConfigError) and start it in the background; :class:`Busy` when the server
    already runs ``max_jobs`` jobs."""
    scenario.check()
    with _RUNNING_LOCK:
        if len(_RUNNING) >= limits()["max_jobs"]:
            raise Busy(f"the server already runs {len(_RUNNING)} job(s), its maximum; try again when one has finished")
        runs = scenario.runs()
        exp_dir = new_folder(Path(results_dir).resolve(), scenario)
        ctx = mp.get_context("spawn")  # a fresh interpreter: no state shared with the server or other jobs
        messages = ctx.Queue()
        process = ctx.Process(target=work, args=(runs, str(exp_dir), messages), daemon=True,
                              name=f"mbo-sim-dashboard {exp_dir.name}")
        job = Job(exp_dir, runs, scenario.years, process, messages)
        process.start()
        _RUNNING.add(job)
    return job


def work(runs: list[Run], exp_dir: str, messages: Any) -> None:
    """The job process: every run with the CLI's runner, then ``summary.parquet``."""
    from sim.cli import Terminated, _on_sigterm

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        run_all(runs, Path(exp_dir), lambda i, year: messages.put(("year", i, year)))
        messages.put(("done",))
    except Terminated:
        messages.put(("error", "cancelled"))
    except Exception as exc:  # shown on the page; the run's temporary folder is already gone
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def run_all(runs: list[Run], exp_dir: Path, on_year=None) -> None:
    """Run each of ``runs`` into ``exp_dir/runs/<name>/`` as the CLI would, then write the summary."""
    from sim.analysis.load import load_runs
    from sim.analysis.report import write_summary
    from sim.hydra_config import compose
    from sim.runner import run

    for i, r in enumerate(runs):
        cfg = dataclasses.replace(compose(list(r.overrides)), output_dir=str(exp_dir / "runs"), run_name=r.name,
                                  write_plots=False, progress=False)
        run(cfg, on_year=None if on_year is None else (lambda year, i=i: on_year(i, year)))
    write_summary(load_runs(exp_dir), exp_dir / "summary.parquet")


def experiment_folders(results_dir: str | Path) -> list[Path]:
    """The experiment folders under ``results_dir`` (those with complete runs or a summary), newest first."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
             and ((p / "summary.parquet").is_file() or any((p / "runs").glob("*/manifest.json")))]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
