"""The experiment machinery: named Hydra experiments, resumable sweeps, serial = parallel, the report.

Every sweep runs the real ``mbo-sim`` command in a temporary folder. The command runs with that folder
as its working directory, holding a ``data`` link to the repository's data: the experiments' relative
paths (``data_dir: data``, ``output_dir: results/<experiment>/runs``, ``hydra.sweep.dir``) then all
land in the temporary folder, exactly as they do for a user in the project folder, and the run folders
are named only from the sweep's own overrides. Sweeps are tiny (Zeeland, 2 % of residents, 2 years).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
EXPERIMENTS_DIR = REPO_ROOT / "experiments"
EXPERIMENTS = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml") if not p.stem.startswith("_"))
BIN = Path(sys.executable).parent
SLURM_TARGET = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"

# A tiny pps sweep: region fixed on the command line (it replaces the experiment's region sweep),
# policy none,pps × replicate 0..reps-1.
TINY = ["+experiment=pps", "scale=0.02", "years=2", "region=zeeland"]
NO_REPORT = "~hydra.callbacks.report"  # the kill and joblib sweeps skip the (slow) report
TIMEOUT = 240


def _mbo_sim(args: list[str], cwd: Path, **popen) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    cmd = [str(BIN / "mbo-sim"), "-m", *args]
    if popen:
        return subprocess.Popen(cmd, cwd=cwd, env=env, **popen)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def _workdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "data").symlink_to(DATA_DIR, target_is_directory=True)
    return path


def _check(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, f"mbo-sim failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _run_folders(runs: Path) -> list[Path]:
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def _job_names(reps: int) -> list[str]:
    return [f"policy={p},region=zeeland,replicate={r},scale=0.02,years=2" for p in ("none", "pps") for r in range(reps)]


def _snapshot(root: Path) -> dict[str, tuple[int, str]]:
    return {str(f.relative_to(root)): (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
            for f in sorted(root.rglob("*")) if f.is_file()}


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


# --- shared sweep: serial, 4 jobs, report; then the same command again -----------------------------
@pytest.fixture(scope="module")
def pps_sweep(tmp_path_factory):
    work = _workdir(tmp_path_factory.mktemp("serial"))
    args = [*TINY, "reps=2", "hydra/launcher=basic"]
    first = _check(_mbo_sim(args, work))
    exp = work / "results" / "pps"
    before = _snapshot(exp / "runs")
    second = _check(_mbo_sim(args, work))
    return {"exp": exp, "first": first, "second": second, "before": before, "after": _snapshot(exp / "runs")}


# --- 1. the named experiments compose ----------------------------------------------------------
def _split_choices(value: str) -> list[str]:
    """Split a sweep value on top-level commas (``a,[b,c]`` is two choices)."""
    out, depth, cur = [], 0, ""
    for ch in value:
        depth += ch in "[("
        depth -= ch in "])"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur]


def _expected_jobs(raw_params: dict[str, str], reps: int) -> int:
    total = 1
    for value in raw_params.values():
        value = str(value).strip()
        m = re.fullmatch(r"range\((\d+),\s*\$\{reps\}\)", value)
        total *= reps - int(m.group(1)) if m else len(_split_choices(value))
    return total


def _compose(overrides: list[str], hydra_cfg: bool = True):
    from hydra import compose, initialize_config_dir

    from sim.hydra_config import CONFIG_DIR, register_schema

    register_schema()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=hydra_cfg)


def test_experiments_found():
    assert (REPO_ROOT / "configs" / "experiment").resolve() == EXPERIMENTS_DIR.resolve()
    assert {"baseline_regions", "pps", "minimal_coverage", "governance"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes(name):
    from omegaconf import OmegaConf

    from sim.cli import sweep_size
    from sim.hydra_config import to_config

    text = (EXPERIMENTS_DIR / f"{name}.yaml").read_text()
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert any(ln.startswith("# Question:") and len(ln) > len("# Question: ") + 10 for ln in header), name
    raw = yaml.safe_load(text)
    assert raw["experiment_name"] == name
    raw_params = raw["hydra"]["sweeper"]["params"]
    assert "replicate" in raw_params

    cfg = _compose([f"+experiment={name}"])
    assert cfg.experiment_name == name
    assert cfg.reps == 20
    assert cfg.output_dir == f"results/{name}/runs"
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")
    assert "sim.analysis.callback.ReportCallback" == cfg.hydra.callbacks.report._target_
    # the replicate sweep follows `reps` through an interpolation, resolved when the sweep is read
    params = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=False)
    assert "${reps}" in params["replicate"]
    resolved = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True)
    assert sweep_size(resolved) == _expected_jobs(raw_params, 20)
    small = OmegaConf.to_container(_compose([f"+experiment={name}", "reps=3"]).hydra.sweeper.params, resolve=True)
    assert sweep_size(small) == _expected_jobs(raw_params, 3)

    # every swept value composes into a valid configuration (the i-th job takes each key's i-th value)
    choices = {k: ["0", "19"] if k == "replicate" else _split_choices(str(v)) for k, v in raw_params.items()}
    for i in range(max(map(len, choices.values()))):
        job = [f"{k}={c[i % len(c)]}" for k, c in choices.items()]
        c = to_config(_compose([f"+experiment={name}", *job, "run_name=x"], hydra_cfg=False))
        assert c.experiment_name == name


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_on_slurm(name):
    from omegaconf import OmegaConf

    cfg = _compose([f"+experiment={name}", "hydra/launcher=slurm"])
    assert cfg.hydra.launcher._target_ == SLURM_TARGET
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["submitit_folder"].startswith(f"results/{name}/.hydra/")
    assert cfg.experiment_name == name


# --- 2. one command runs the sweep and the report; rerunning skips ----------------------------
def test_sweep_writes_runs_and_report(pps_sweep):
    exp = pps_sweep["exp"]
    runs = _run_folders(exp / "runs")
    # region=zeeland on the command line replaces the experiment's region sweep: 2 policies × 2 reps
    assert [r.name for r in runs] == sorted(_job_names(2))
    for r in runs:
        m = _manifest(r)
        assert m["status"] == "complete"
        assert m["config"]["region"]["name"] == "zeeland"
        assert "#" not in r.name and "experiment" not in r.name and "reps" not in r.name
    assert not list((exp / "runs").glob(".*"))
    summary = pd.read_parquet(exp / "summary.parquet")
    assert len(summary) == 4
    assert sorted(summary["run"]) == [r.name for r in runs]
    report = exp / "report"
    assert (report / "report.md").is_file()
    assert "pps" in (report / "report.md").read_text()
    for stem in ("survival_zeeland", "shortage_heatmap_zeeland", "tightness_zeeland", "policy_effects"):
        assert (report / f"{stem}.png").stat().st_size > 0, stem
    assert len(list(report.glob("coverage_map_zeeland_*.png"))) == 1
    for csv in ("survival.csv", "closures_by_year.csv", "policy_effects.csv"):
        assert (report / csv).is_file()
    # the institutions' yearly results beside the sector's accounts, per arm and period
    fin = pd.read_csv(report / "finances.csv")
    assert fin["region"].iloc[0].startswith("sector") and set(fin["region"].iloc[1:]) == {"zeeland"}
    assert set(fin["arm"].iloc[1:]) == {"none", "pps"}
    assert fin["loss_share"].between(0, 1).all() and (fin["p10"] <= fin["p90"]).all()
    assert "## The institutions' yearly results against the sector's accounts" in (report / "report.md").read_text()
    assert "report:" in pps_sweep["first"].stdout


def test_rerun_skips_every_job(pps_sweep):
    out = pps_sweep["second"].stdout
    skipped = re.findall(r"^complete, skipped: .*/runs/(.+)$", out, flags=re.M)
    assert sorted(skipped) == sorted(_job_names(2)), out
    assert "results:" not in out
    assert pps_sweep["after"] == pps_sweep["before"]
    # the sweeper skipped them by their recipe, before any job was composed or launched
    assert re.search(r"^sweep: 4 complete jobs skipped in [\d.]+ s, 0 run$", out, flags=re.M), out
    assert all(len(_manifest(r).get("recipe", "")) == 64 for r in _run_folders(pps_sweep["exp"] / "runs"))


def test_rerun_with_another_recipe_compares_configs_then_stamps_the_recipe(pps_sweep, tmp_path):
    """A Hydra override that changes the recipe but not the config (the job's name): the jobs are
    composed and found complete config against config, as without the recipe; their manifests then
    carry the new recipe, so the next rerun skips them in the sweeper again."""
    work = _workdir(tmp_path / "w")
    shutil.copytree(pps_sweep["exp"] / "runs", work / "results" / "pps" / "runs")
    args = [*TINY, "reps=2", "hydra/launcher=basic", NO_REPORT, "hydra.job.name=renamed"]
    first = _check(_mbo_sim(args, work)).stdout
    assert "complete jobs skipped" not in first and "results:" not in first, first
    assert len(re.findall(r"^complete, skipped: ", first, flags=re.M)) == 4, first
    again = _check(_mbo_sim(args, work)).stdout
    assert "sweep: 4 complete jobs skipped" in again, again


def test_report_is_rebuilt_only_when_its_runs_change(pps_sweep, tmp_path, monkeypatch):
    """The sweep's callback leaves a report built from exactly the runs there are (a finished sweep
    rerun); a changed run, or other code, makes it rebuild."""
    from sim.analysis import report

    exp = tmp_path / "pps"
    shutil.copytree(pps_sweep["exp"] / "runs", exp / "runs")
    assert not report.up_to_date(exp)  # no report yet
    report.build(exp)
    assert report.up_to_date(exp)
    manifest = next((exp / "runs").glob("*/manifest.json"))
    manifest.write_text(manifest.read_text().replace('"complete"', '"complete" '))
    assert not report.up_to_date(exp)
    report.build(exp)
    assert report.up_to_date(exp)
    monkeypatch.setattr("sim.io.writer.model_digest", lambda: "0" * 64)  # the code was updated
    assert not report.up_to_date(exp)


def test_progress_line_counts_the_jobs_of_this_sweep(pps_sweep):
    lines = re.findall(r"^sweep: .* (\d+)/(\d+) jobs complete$", pps_sweep["first"].stdout, flags=re.M)
    assert lines
    assert {int(total) for _, total in lines} == {4}
    assert max(int(done) for done, _ in lines) == 4


def test_progress_line_leaves_out_runs_of_another_sweep(pps_sweep, tmp_path):
    """Runs by this code in the same folder that are not this sweep's jobs (here: the replicates 1
    of an earlier sweep with more replicates; in a sensitivity design, its noise runs) are not
    counted: of the two jobs one is complete already, one runs, and the lines say 1/2 and 2/2
    (before: 3/2 and 4/2, every run folder by this code)."""
    work = _workdir(tmp_path / "w")
    runs = work / "results" / "pps" / "runs"
    shutil.copytree(pps_sweep["exp"] / "runs", runs)
    shutil.rmtree(runs / "policy=pps,region=zeeland,replicate=0,scale=0.02,years=2")
    out = _check(_mbo_sim([*TINY, "reps=1", "hydra/launcher=basic", NO_REPORT], work)).stdout
    assert len(re.findall(r"^complete, skipped: ", out, flags=re.M)) == 1, out
    lines = re.findall(r"^sweep: .* (\d+)/(\d+) jobs complete$", out, flags=re.M)
    assert lines == [("1", "2"), ("2", "2")], out


# --- 3. kill -9 in the middle of a sweep, then resume --------------------------------------------
def _complete(runs: Path) -> set[str]:
    """The sweep's complete job folders: with a manifest, and not a temporary folder (``.name.tmp-*``,
    which holds a manifest for a moment before it is renamed into place)."""
    return {p.parent.name for p in runs.glob("*/manifest.json") if not p.parent.name.startswith(".")}


def test_kill_mid_sweep_then_resume(tmp_path):
    work = _workdir(tmp_path)
    args = [*TINY, "reps=3", "hydra/launcher=basic", NO_REPORT]  # 6 jobs, one after the other
    runs = work / "results" / "pps" / "runs"
    log = (tmp_path / "killed.log").open("w")
    proc = _mbo_sim(args, work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not _complete(runs):  # the first job is complete
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # try to kill a later job while it writes its temp folder; at the latest while job 5 runs
        while not list(runs.glob(".*.tmp-*")) and len(_complete(runs)) < 4:
            assert proc.poll() is None, "the sweep finished before it could be killed"
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL
    done_before = _complete(runs)
    assert 1 <= len(done_before) < 6
    last = runs / _job_names(3)[-1]
    if not list(runs.glob(".*.tmp-*")) and not last.exists():
        # the kill missed a write: leave the temp folder a kill during the last job's write would leave
        stale = runs / f".{last.name}.tmp-killed"
        stale.mkdir()
        (stale / "labour.parquet").write_bytes(b"half")

    res = _check(_mbo_sim(args, work))
    skipped = set(re.findall(r"^complete, skipped: .*/runs/(.+)$", res.stdout, flags=re.M))
    assert skipped == done_before
    folders = _run_folders(runs)
    assert [f.name for f in folders] == sorted(_job_names(3))
    for f in folders:
        assert _manifest(f)["status"] == "complete"
    assert not [p for p in (work / "results").rglob("*") if ".tmp-" in p.name]


# --- 4. serial and parallel sweeps give the same results -------------------------------------------
def test_serial_equals_parallel(pps_sweep, tmp_path):
    work = _workdir(tmp_path)
    res = _check(_mbo_sim([*TINY, "reps=2", "hydra.launcher.n_jobs=2", NO_REPORT], work))
    assert "n_jobs=2" in res.stderr + res.stdout  # the joblib launcher ran the jobs
    serial, parallel = pps_sweep["exp"] / "runs", work / "results" / "pps" / "runs"
    names = [r.name for r in _run_folders(serial)]
    assert names == [r.name for r in _run_folders(parallel)] == sorted(_job_names(2))
    for name in names:
        tables = sorted(p.name for p in (serial / name).glob("*.parquet"))
        assert tables == sorted(p.name for p in (parallel / name).glob("*.parquet"))
        assert len(tables) >= 10
        for t in tables:
            pd.testing.assert_frame_equal(pd.read_parquet(serial / name / t), pd.read_parquet(parallel / name / t),
                                          obj=f"{name}/{t}")
        assert json.loads((serial / name / "summary.json").read_text()) == json.loads(
            (parallel / name / "summary.json").read_text())


# --- 5. common random numbers --------------------------------------------------------------------------
def test_arms_share_the_seed_of_their_replicate(pps_sweep):
    seeds: dict[int, set[int]] = {}
    for r in _run_folders(pps_sweep["exp"] / "runs"):
        m = _manifest(r)
        assert m["replicate"] == m["config"]["replicate"]
        seeds.setdefault(m["replicate"], set()).add(m["seed"])
    assert sorted(seeds) == [0, 1]
    assert all(len(s) == 1 for s in seeds.values())  # both arms of a replicate: one seed
    assert seeds[0] != seeds[1]
    summary = pd.read_parquet(pps_sweep["exp"] / "summary.parquet")
    assert (summary.groupby("replicate")["seed"].nunique() == 1).all()
    assert summary.groupby("replicate")["policy"].nunique().tolist() == [2, 2]


# --- 6. the report's statistics; the report command without runs ----------------------------------
def test_survival_curves_are_kaplan_meier(pps_sweep):
    surv = pd.read_csv(pps_sweep["exp"] / "report" / "survival.csv")
    assert set(surv["arm"]) == {"none", "pps"}
    assert len(surv) > 0
    for key, g in surv.groupby(["region", "arm", "sector"]):
        g = g.sort_values("month")
        assert g["month"].iloc[0] == 0
        assert g["survival"].iloc[0] == pytest.approx(1.0), key
        assert (g["survival"].diff().dropna() <= 1e-12).all(), key
        assert g["survival"].between(0, 1).all(), key
    # only the region's own programmes: the sites outside it are not reviewed
    edu = pd.concat([pd.read_parquet(p) for p in (pps_sweep["exp"] / "runs").glob("*/education.parquet")])
    first = edu[edu["school_year"] == edu["school_year"].min()]
    assert (~first["in_region"]).any(), "the set-up needs sites outside the region"
    counts = surv[surv["month"] == 0].groupby(["region", "arm"])["programmes"].sum()
    per_run = first.groupby("programme_id")["in_region"].first().sum()
    assert (counts % per_run == 0).all() and (counts > 0).all(), (counts, per_run)


def test_policy_effect_intervals(pps_sweep):
    eff = pd.read_csv(pps_sweep["exp"] / "report" / "policy_effects.csv")
    assert len(eff) > 0
    assert set(eff["reference"]) == {"none"} and set(eff["arm"]) == {"pps"}
    assert (eff["n"] == 2).all()
    multi = eff[eff["n"] > 1]
    assert multi[["diff_mean", "ci_low", "ci_high"]].notna().all().all()
    assert (multi["ci_low"] <= multi["diff_mean"] + 1e-9).all()
    assert (multi["diff_mean"] <= multi["ci_high"] + 1e-9).all()


def test_report_without_runs_fails_clearly(tmp_path):
    (tmp_path / "empty" / "runs").mkdir(parents=True)
    res = subprocess.run([str(BIN / "mbo-sim-report"), str(tmp_path / "empty")], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2, res.stderr
    assert "no complete runs" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "empty" / "summary.parquet").exists()


# --- a sweep with absolute paths on the command line -----------------------------------------------------
def test_sweep_with_absolute_data_and_output_dir(tmp_path):
    exp = tmp_path / "myexp"
    args = ["+experiment=pps", "reps=1", "scale=0.02", "years=2", "region=zeeland", "policy=none",
            "hydra/launcher=basic", f"data_dir={DATA_DIR}", f"output_dir={exp / 'runs'}",
            f"hydra.sweep.dir={exp / '.hydra'}"]
    res = _check(_mbo_sim(args, tmp_path))
    assert len(list((exp / "runs").glob("*/manifest.json"))) == 1, res.stdout
    assert (exp / "report" / "report.md").is_file(), res.stderr[-2000:]
