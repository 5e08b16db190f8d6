"""Running a dashboard scenario in the background: one process a job, the CLI's runner, a normal
experiment folder.

:func:`start` makes a new folder ``<results>/dashboard-<time>-<region>-<token>/`` (never an existing
one: sessions never share results), writes ``scenario.json`` (the inputs and each run's overrides and
CLI command) and starts ``python -m sim.dashboard.jobs <folder>``: a fresh interpreter that shares
nothing with the server, runs every run with :func:`sim.runner.run` into ``runs/<run>/`` and then
writes ``summary.parquet``, so the folder is an experiment that ``mbo-sim-report`` reads. The process
reports each simulated year as a JSON line on its stdout (:meth:`Job.poll`); :meth:`Job.cancel` stops
it as SIGTERM stops the CLI, so no half-written run is left behind. At most ``max_jobs``
(``configs/dashboard.yaml``) jobs run at once over all sessions of a server.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import queue
import secrets
import signal
import subprocess
import sys
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
    process: subprocess.Popen | None = None
    messages: queue.Queue = field(default_factory=queue.Queue)
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=20))  # the process's other lines
    done_years: dict[int, int] = field(default_factory=dict)  # run index -> years simulated
    state: str = "running"  # running, done, failed, cancelled
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def read(self) -> None:
        """Read the process's output until it ends (a thread): JSON lines are messages, the rest log."""
        for line in self.process.stdout:
            try:
                msg = json.loads(line) if line.startswith("{") else None
            except ValueError:
                msg = None
            if isinstance(msg, dict):
                self.messages.put(msg)
            else:
                self.log.append(line.rstrip())
        self.messages.put({"eof": True})

    @property
    def fraction(self) -> float:
        return sum(self.done_years.values()) / max(len(self.runs) * self.years, 1)

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def poll(self, timeout: float | None = None) -> str:
        """Take the process's messages (waiting up to ``timeout`` s for the first); returns the state."""
        while self.state == "running":
            try:
                msg = self.messages.get(timeout=timeout) if timeout else self.messages.get_nowait()
            except queue.Empty:
                break
            timeout = None
            if "year" in msg:
                run, year = msg["year"]
                self.done_years[run] = year
            elif "done" in msg:
                self._end("done")
            elif "error" in msg:
                self._end("cancelled" if msg["error"] == "cancelled" else "failed", msg["error"])
            elif "eof" in msg:
                code = self.process.wait()
                tail = "; ".join(list(self.log)[-3:])
                said = f": {tail}" if tail else ""
                self._end("failed", f"the run process ended without a result (exit code {code}){said}")
        return self.state

    def cancel(self) -> None:
        if self.state == "running":
            self.process.terminate()  # SIGTERM: the runner removes its temporary folder
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._end("cancelled")

    def wait(self, timeout: float | None = None) -> str:
        """Wait until the job has ended (or ``timeout`` seconds); returns the state."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll(timeout=0.5) == "running" and (end is None or time.monotonic() < end):
            pass
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
                "runs": [{"name": r.name, "arm": r.arm, "replicate": r.replicate, "overrides": list(r.overrides),
                          "command": r.command()} for r in scenario.runs()]}
        (folder / "scenario.json").write_text(json.dumps(info, indent=2) + "\n")
        return folder


def start(scenario: Scenario, results_dir: str | Path) -> Job:
    """Check ``scenario`` (ConfigError) and start it in the background; :class:`Busy` when the server
    already runs ``max_jobs`` jobs (said at once, before the slower composition of the configs)."""
    scenario.check_inputs()
    _refuse_if_busy()
    scenario.check()
    with _RUNNING_LOCK:
        _refuse_if_busy(locked=True)
        runs = scenario.runs()
        exp_dir = new_folder(Path(results_dir).resolve(), scenario)
        process = subprocess.Popen([sys.executable, "-m", "sim.dashboard.jobs", str(exp_dir)], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        job = Job(exp_dir, runs, scenario.years, process)
        threading.Thread(target=job.read, daemon=True, name=f"mbo-sim-dashboard {exp_dir.name}").start()
        _RUNNING.add(job)
    return job


def _refuse_if_busy(locked: bool = False) -> None:
    n = len(_RUNNING) if locked else running_jobs()
    if n >= limits()["max_jobs"]:
        raise Busy(f"the server already runs {n} job(s), its maximum; try again when one has finished")


def main(argv: list[str] | None = None) -> int:
    """The job process: ``python -m sim.dashboard.jobs <folder>`` runs the runs of its scenario.json."""
    from sim.cli import EXIT_SIGTERM, Terminated, _on_sigterm

    signal.signal(signal.SIGTERM, _on_sigterm)
    exp_dir = Path((argv if argv is not None else sys.argv[1:])[0])

    def say(**msg: Any) -> None:
        print(json.dumps(msg), flush=True)

    try:
        info = json.loads((exp_dir / "scenario.json").read_text())
        runs = [Run(r["name"], r["arm"], r["replicate"], tuple(r["overrides"])) for r in info["runs"]]
        run_all(runs, exp_dir, lambda i, year: say(year=[i, year]))
    except Terminated:
        say(error="cancelled")
        return EXIT_SIGTERM
    except Exception as exc:  # shown on the page; the run's temporary folder is already gone
        say(error=f"{type(exc).__name__}: {exc}")
        return 1
    say(done=True)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
