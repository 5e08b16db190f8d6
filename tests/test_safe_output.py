"""Output folders: nothing that is not mbo-sim's is ever deleted or overwritten; interrupted,
failed and concurrent writes leave one complete folder or none."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO_ROOT

from sim.io.safe import MARKER, UnsafeOutput, atomic_folder, owned, remove_stale_temps
from sim.io.writer import TABLES
from sim.runner import run

TINY = {"scale": 0.02, "years": 1}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_users_folder_is_refused_and_left_untouched(small_cfg, tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("my work")
    (mine / "manifest.json").write_text('{"not": "a run"}')
    before = snapshot(mine)
    with pytest.raises(UnsafeOutput, match="thesis.*not an mbo-sim results folder"):
        run(small_cfg(**TINY), mine)
    assert snapshot(mine) == before
    assert leftovers(tmp_path) == []


def test_a_file_in_the_way_is_refused(small_cfg, tmp_path):
    (tmp_path / "run").write_text("a file")
    with pytest.raises(UnsafeOutput):
        run(small_cfg(**TINY), tmp_path / "run")
    assert (tmp_path / "run").read_text() == "a file"


def test_an_own_folder_is_replaced_and_marked(small_cfg, tmp_path):
    out = run(small_cfg(**TINY, seed=1), tmp_path / "r")
    assert owned(out) and (out / MARKER).is_file()
    assert json.loads((out / "manifest.json").read_text())["generator"] == "mbo-sim"
    run(small_cfg(**TINY, seed=2), out)  # another configuration: replaced
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert leftovers(tmp_path) == []


def test_a_version_01_run_folder_counts_as_own(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"run_name": "x", "config": {}, "packages": {},
                                                   "status": "complete"}))
    assert owned(old)
    atomic_folder(old, lambda tmp: (tmp / "new.txt").write_text("new"))
    assert (old / "new.txt").is_file() and not (old / "manifest.json").exists()


def test_disk_full_leaves_no_partial_folder_and_keeps_the_earlier_one(small_cfg, tmp_path, monkeypatch):
    out = run(small_cfg(**TINY, seed=1), tmp_path / "r")
    before = snapshot(out)
    calls = {"n": 0}
    real = pd.DataFrame.to_parquet

    def full(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with pytest.raises(OSError, match="No space left"):
        run(small_cfg(**TINY, seed=2), out)
    assert calls["n"] == 3
    assert snapshot(out) == before  # the earlier complete run is intact
    assert leftovers(tmp_path) == []


def test_stale_temps_of_dead_processes_go_live_ones_stay(tmp_path):
    target = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".run.tmp-{dead_pid}-abc"
    live = tmp_path / f".run.tmp-{os.getpid()}-def"
    foreign = tmp_path / ".run.tmp-notapid"
    for d in (stale, live, foreign):
        d.mkdir()
        (d / MARKER).write_text("")
    remove_stale_temps(target)
    assert not stale.exists() and live.exists() and foreign.exists()


CONCURRENT = """
import sys
sys.path.insert(0, {tests!r})
from conftest import small_overrides
from sim.hydra_config import compose
from sim.runner import run
cfg = compose(small_overrides(scale=0.03, years=2, output_dir={out!r}, run_name="same"))
print(run(cfg))
"""


def test_two_processes_writing_the_same_run_leave_one_complete_folder(tmp_path):
    code = CONCURRENT.format(tests=str(REPO_ROOT / "tests"), out=str(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    folder = tmp_path / "same"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and owned(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(TABLES)



@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_exits_cleanly_and_keeps_the_earlier_run(tmp_path, sig, code):
    """Ctrl-C or SIGTERM during a run: exit 130/143, no temporary folder, the earlier complete
    folder of that run untouched."""
    # long enough to be interrupted however fast the model gets: Zuid-Limburg replicated three
    # times (the synthetic large region) for 60 years, about 18 s (a 1:1 run took 6 s in the end)
    args = ["region=zuid_limburg", "synthetic=true", "scale=3.0", "years=60", "write_plots=false",
            "progress=false", f"output_dir={tmp_path}", "run_name=long"]
    earlier = atomic_folder(tmp_path / "long", lambda tmp: (tmp / "manifest.json").write_text("{}"))
    assert earlier
    before = snapshot(tmp_path / "long")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HYDRA_FULL_ERROR": "0"}
    # the default SIGINT disposition in the child: a shell starts background jobs with SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler (the test would run to the end)
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # start-up and building the state take ~3 s alone (more on a busy machine)
    time.sleep(7.0)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err[-2000:]
    assert "Traceback" not in err and ("interrupted" in err or "terminated" in err)
    assert leftovers(tmp_path) == []
    assert snapshot(tmp_path / "long") == before
