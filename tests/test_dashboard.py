"""The dashboard (sim/dashboard/): its scenario is the CLI's, its refusals are the CLI's, its runs are
normal experiment folders with the CLI's numbers, every control reaches the run, sessions never
share results, and the page works in both languages (Streamlit's AppTest, no browser; the browser
test is tests/test_dashboard_browser.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")

from streamlit.testing.v1 import AppTest  # noqa: E402

from sim.analysis.load import load_runs  # noqa: E402
from sim.analysis.stats import paired_differences  # noqa: E402
from sim.config import ConfigError  # noqa: E402
from sim.dashboard import jobs, views  # noqa: E402
from sim.dashboard.scenario import Scenario, lever_defaults, limits  # noqa: E402
from sim.dashboard.text import TEXT, Text  # noqa: E402
from sim.hydra_config import compose  # noqa: E402

APP = str(Path(jobs.__file__).with_name("app.py"))
SMALL = {"region": "achterhoek", "demography": "baseline", "economy": "baseline", "reps": 2, "scale": 0.1,
         "years": 3, "seed": 1}
MBO_SIM = [sys.executable, "-c", "import sys; from sim.cli import main; sys.argv[0] = 'mbo-sim'; main()"]


def small(**changes) -> Scenario:
    return Scenario(**{**SMALL, **changes})


def off_default(spec: dict, default):
    """A value other than ``default`` that the control allows: a switch flipped, a number one step on."""
    if not spec:
        return not default
    step = spec["step"]
    return default + step if default + step <= spec["max"] else default - step


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished dashboard experiment: Achterhoek, minimal coverage against none, 2 replicates."""
    s = small(levers={"minimal_coverage": {"share": 0.9, "per_level": True}})
    exp = jobs.new_folder(tmp_path_factory.mktemp("dash"), s)
    jobs.run_all(s.runs(), exp)
    return exp


def new_app(results: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("MBO_SIM_RESULTS", str(results))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def press_run(at: AppTest, levers: tuple[str, ...] = (), **numbers) -> None:
    """Set the number inputs and the levers, then press Run."""
    for key, value in numbers.items():
        at.number_input(key=key).set_value(value)
    at.multiselect(key="levers@en").set_value(list(levers))
    at.run()
    at.button(key="run").click()
    at.run()


def wait_for_job(at: AppTest, timeout: float = 300) -> jobs.Job:
    job = at.session_state["job"]
    job.wait(timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return job


# --- the scenario is the CLI's ------------------------------------------------------------------------------
def test_runs_pair_the_arms_by_seed_and_set_only_changed_parameters():
    s = small(reps=3, levers={"minimal_coverage": {"share": 0.8, "per_level": True}, "pps": {}})
    runs = s.runs()
    assert [(r.arm, r.replicate) for r in runs] == [(a, r) for r in range(3) for a in ("none", "minimal_coverage+pps")]
    with_lever = runs[1].overrides
    assert "policy=[minimal_coverage,pps]" in with_lever
    assert "policy.minimal_coverage.share=0.8" in with_lever
    assert not any("per_level" in o for o in with_lever)  # the default is not repeated
    assert not any(o.startswith("policy") for o in runs[0].overrides)
    seeds = {r.name: compose(list(r.overrides)).run_seed for r in runs}
    assert [seeds[r.name] for r in runs] == [1, 1, 2, 2, 3, 3]  # common random numbers
    cfg = compose(list(with_lever))
    assert cfg.policy["minimal_coverage"]["share"] == 0.8 and cfg.scale == 0.1 and cfg.years == 3
    assert cfg.policy["pps"]["organised"]["care"] == lever_defaults("pps")["organised.care"]  # pps at its defaults


def test_the_shift_to_havo_vwo_reaches_both_arms_only_where_it_differs_from_the_model():
    default = compose().model.education.havo_shift_per_year
    assert default > 0
    key = "model.education.havo_shift_per_year"
    for s in (small(), small(havo_shift=default)):  # the model's value: not repeated
        assert not any(o.startswith(key) for r in s.runs() for o in r.overrides)
    s = small(havo_shift=0.0, levers={"pps": {}})
    for run in s.runs():
        assert f"{key}=0.0" in run.overrides
        assert compose(list(run.overrides)).model.education.havo_shift_per_year == 0.0


def test_every_lever_parameter_of_the_dashboard_reaches_the_config():
    """Each control of each lever, set to a value other than its default, ends up in the composed config."""
    for lever, params in limits()["levers"].items():
        for key, spec in params.items():
            value = off_default(spec, lever_defaults(lever)[key])
            s = small(levers={lever: {key: value}})
            cfg = compose(list(s.runs()[1].overrides))
            node = cfg.policy[lever]
            for part in key.split("."):
                node = node[part]
            assert node == pytest.approx(value), (lever, key)


def cli_error(overrides: list[str]) -> str:
    """The CLI's one-line error for ``overrides`` (it fails before simulating)."""
    p = subprocess.run([*MBO_SIM, *overrides, "output_dir=/nonexistent/never"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2, p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith("mbo-sim: error: ")
    return line.removeprefix("mbo-sim: error: ")


@pytest.mark.parametrize("levers", [
    {"bundling": {"across_levels": False, "across_sites": False}},
    {"llo_vouchers": {"min_age": 60, "max_age": 40}},
    {"llo_vouchers": {"voucher_eur": 0}},
])
def test_refusals_are_the_clis(levers):
    s = small(levers=levers)
    with pytest.raises(ConfigError) as exc:
        s.check()
    assert str(exc.value) == cli_error(list(s.runs()[1].overrides))


@pytest.mark.parametrize("changes, words", [
    ({"region": "utrecht"}, "region = 'utrecht': unknown; allowed"),
    ({"reps": 0}, "reps = 0: must be a whole number in [1, 20]"),
    ({"reps": 2.5}, "reps = 2.5: must be a whole number"),
    ({"scale": 1.5}, "scale = 1.5: must be a number in [0.1, 1.0]"),
    ({"levers": {"teleport": {}}}, "policy = 'teleport': unknown policy lever"),
    ({"levers": {"minimal_coverage": {"share": 1.5}}}, "policy.minimal_coverage.share = 1.5: the dashboard allows"),
    ({"scale": 1.0, "reps": 20, "years": 20, "levers": {"pps": {}}}, "× arms = 800: at most 200"),
    ({"havo_shift": 0.5}, "havo_shift = 0.5: must be a number in [0.0, 0.03]"),
])
def test_bad_input_is_refused_naming_the_input(changes, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        small(**changes).check()


# --- runs: normal experiment folders with the CLI's numbers --------------------------------------------------
def test_a_dashboard_run_is_the_cli_run(finished, tmp_path):
    info = json.loads((finished / "scenario.json").read_text())
    run = info["runs"][1]  # replicate 0 with the lever
    overrides = run["command"].removeprefix("mbo-sim ").replace("'", "").split()
    p = subprocess.run([*MBO_SIM, *overrides, f"output_dir={tmp_path}", "run_name=cli", "progress=false",
                        "write_plots=false"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    ours = json.loads((finished / "runs" / run["name"] / "summary.json").read_text())
    theirs = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert ours == theirs
    for table in ("education", "events", "labour"):
        pd.testing.assert_frame_equal(pd.read_parquet(finished / "runs" / run["name"] / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "cli" / f"{table}.parquet"))


def test_mbo_sim_report_reads_a_dashboard_folder(finished):
    p = subprocess.run([sys.executable, "-c", "import sys; from sim.analysis.report import main; sys.exit(main())",
                        str(finished)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    md = (finished / "report" / "report.md").read_text()
    assert "4 runs" in md and "minimal_coverage" in md
    summary = pd.read_parquet(finished / "summary.parquet")
    assert sorted(summary["policy"]) == ["minimal_coverage", "minimal_coverage", "none", "none"]


def test_the_comparison_is_the_paired_difference_in_words(finished):
    out = views.load(finished)
    runs = load_runs(finished).set_index("replicate")
    base, arm = runs[runs["policy"] == "none"], runs[runs["policy"] == "minimal_coverage"]
    expected = paired_differences(base, arm, ["programmes_open_end", "mean_intake_travel_minutes"]).set_index("metric")
    en = views.comparison(out, Text("en")).set_index("measure")
    row = en.loc["mean travel time of new students (minutes)"]
    d = expected.loc["mean_intake_travel_minutes"]
    assert row["difference"].lstrip("+").replace("−", "-") == f"{d.diff_mean:.1f}".replace("-0.0", "0.0")
    assert row["in words"] == (f"mean travel time of new students (minutes): {row['difference']} (95 % CI "
                               f"{row['95 % CI low']} to {row['95 % CI high']})")
    assert row["pairs"] == 2
    nl = views.comparison(out, Text("nl")).set_index("maat")
    words = nl.loc["open opleidingen in 2027", "in woorden"]
    assert re.fullmatch(r"open opleidingen in 2027: [+−]?[\d.]+(,\d)? \(95%-BI [−\d.,]+ tot [−\d.,]+\)", words), words


def test_numbers_are_written_in_the_languages_style():
    assert views.number(-5.44, Text("en")) == "−5.4"
    assert views.number(-5.44, Text("nl")) == "−5,4"
    assert views.number(1234.5, Text("en"), 0) == "1,234" or views.number(1234.5, Text("en"), 0) == "1,235"
    assert views.number(1234.5, Text("nl"), 1) == "1.234,5"
    assert views.number(-0.01, Text("en")) == "0.0"  # no "−0.0"
    assert views.number(float("nan"), Text("en")) == "–"


def test_views_have_tables_and_figures_with_labelled_axes(finished):
    out = views.load(finished)
    text = Text("nl")
    figs = [views.survival_fig(out, "achterhoek", text), views.intake_fig(out, "achterhoek", text),
            views.shortage_fig(out, "achterhoek", "hard_to_fill", text), views.closures_fig(out, "achterhoek", text),
            views.costs_fig(out, "achterhoek", text),
            views.coverage_fig(out, "achterhoek", "none", "care", text)]
    for fig in figs:
        labelled = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_ylabel()]
        supx = fig._supxlabel.get_text() if getattr(fig, "_supxlabel", None) else ""
        assert labelled or supx, fig
        assert views.png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    assert figs[0]._suptitle.get_text() == "Overleving van opleidingen per sector — Achterhoek"
    cov = views.coverage_table(out, "achterhoek", "care")
    assert set(cov.columns) == {"arm", "municipality", "minutes_2025", "minutes_2027"}
    assert cov["municipality"].nunique() == 8  # the Achterhoek's municipalities
    assert (cov["minutes_2025"].dropna() >= 0).all()
    assert {"year", "institution", "location", "qualification"} <= set(out.closures.columns)
    costs = out.costs[out.costs["arm"] == "minimal_coverage"]
    assert set(costs["lever"]) == {"minimal_coverage"} and len(costs) > 0


def test_every_text_has_both_languages():
    for key, (en, nl) in TEXT.items():
        assert en and nl, key
        assert set(re.findall(r"{(\w+)", en)) == set(re.findall(r"{(\w+)", nl)), key


# --- jobs: background, cancellable, one folder per job --------------------------------------------------------
def test_sessions_never_share_results_and_the_server_caps_jobs(tmp_path, monkeypatch):
    a = jobs.start(small(region="achterhoek"), tmp_path)
    b = jobs.start(small(region="zeeland", levers={"pps": {}}), tmp_path)
    assert a.exp_dir != b.exp_dir
    with pytest.raises(jobs.Busy, match="its maximum"):  # max_jobs: 2
        jobs.start(small(), tmp_path)
    assert a.wait(300) == "done" and b.wait(300) == "done", (a.error, b.error)
    names = sorted(p.name for p in (a.exp_dir / "runs").iterdir())
    assert names == ["policy=none,replicate=0", "policy=none,replicate=1"]
    assert len(list((b.exp_dir / "runs").iterdir())) == 4
    assert load_runs(b.exp_dir)["region"].unique().tolist() == ["zeeland"]
    assert jobs.running_jobs() == 0
    assert [p.name for p in jobs.experiment_folders(tmp_path)] == sorted([a.exp_dir.name, b.exp_dir.name],
                                                                         key=lambda n: -(tmp_path / n).stat().st_mtime)


def test_a_cancelled_job_leaves_no_half_written_run(tmp_path):
    job = jobs.start(small(scale=0.25, years=30, reps=4), tmp_path)
    while job.poll() == "running" and job.fraction == 0:
        pass
    job.cancel()
    assert job.state == "cancelled"
    runs = job.exp_dir / "runs"
    left = list(runs.iterdir()) if runs.exists() else []
    assert not [p for p in left if p.name.startswith(".")]  # no temporary folder
    assert all((p / "manifest.json").is_file() for p in left)  # only complete runs
    assert jobs.running_jobs() == 0


def test_a_new_folder_never_reuses_an_existing_one(tmp_path):
    s = small()
    folders = {jobs.new_folder(tmp_path, s) for _ in range(5)}
    assert len(folders) == 5 and all((f / ".mbo-sim").is_file() for f in folders)


# --- the page (AppTest) -----------------------------------------------------------------------------------------
def test_every_control_shows_its_range_and_default_and_reaches_the_run(tmp_path, monkeypatch):
    started: list[Scenario] = []

    def fake_start(scenario, results):
        started.append(scenario)
        raise jobs.Busy("recorded")

    monkeypatch.setattr(jobs, "start", fake_start)
    at = new_app(tmp_path, monkeypatch)
    assert not at.text_input and not at.text_area  # nothing typed freely: no paths, no overrides
    lim = limits()
    for key in ("reps", "scale", "years", "seed", "havo_shift"):
        w = at.number_input(key=key)
        assert (w.min, w.max) == (lim[key]["min"], lim[key]["max"])
        assert f"allowed {lim[key]['min']} to {lim[key]['max']}; default {w.value}" == w.help
    assert at.selectbox(key="region@en").value == "achterhoek"
    assert at.selectbox(key="region@en").options == ["Achterhoek", "Zeeland", "Zuid-Limburg"]
    at.selectbox(key="region@en").set_value("zuid_limburg")
    at.selectbox(key="demography@en").set_value("strong_decline")
    at.selectbox(key="economy@en").set_value("recession")
    at.number_input(key="reps").set_value(4)
    at.number_input(key="scale").set_value(0.2)
    at.number_input(key="years").set_value(7)
    at.number_input(key="seed").set_value(11)
    at.number_input(key="havo_shift").set_value(0.0)
    at.multiselect(key="levers@en").set_value(list(lim["levers"]))
    at.run()
    assert "scale × replications × years × arms = 11.2" in " ".join(c.value for c in at.caption)
    chosen = {}
    for lever, params in lim["levers"].items():  # every lever's every parameter, off its default
        for key, spec in params.items():
            w = at.checkbox(key=f"p:{lever}:{key}") if not spec else at.number_input(key=f"p:{lever}:{key}")
            default = lever_defaults(lever)[key]
            assert w.value == default
            value = off_default(spec, default)
            w.set_value(value)
            chosen.setdefault(lever, {})[key] = value
    at.button(key="run").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "recorded" in at.error[0].value
    s = started[-1]
    assert (s.region, s.demography, s.economy, s.reps, s.scale, s.years, s.seed) == (
        "zuid_limburg", "strong_decline", "recession", 4, 0.2, 7, 11)
    assert s.havo_shift == 0.0
    for lever, params in chosen.items():
        for key, value in params.items():
            assert s.levers[lever][key] == pytest.approx(value), (lever, key)


def test_refused_input_shows_the_clis_message_and_writes_nothing(tmp_path, monkeypatch):
    at = new_app(tmp_path, monkeypatch)
    at.multiselect(key="levers@en").set_value(["bundling"])
    at.run()
    at.checkbox(key="p:bundling:across_levels").uncheck()
    at.checkbox(key="p:bundling:across_sites").uncheck()
    at.run()
    at.button(key="run").click()
    at.run()
    both_off = small(levers={"bundling": {"across_levels": False, "across_sites": False}})
    message = cli_error(list(both_off.runs()[1].overrides))
    assert at.error and at.error[0].value == f"Not run: {message}"
    assert "job" not in at.session_state
    assert not list(tmp_path.iterdir())  # no folder made


def test_the_size_cap_refuses_before_running(tmp_path, monkeypatch):
    at = new_app(tmp_path, monkeypatch)
    press_run(at, ("pps",), reps=20, scale=1.0)
    assert "at most 200 on this server" in at.error[0].value
    assert not list(tmp_path.iterdir())


def test_a_run_shows_the_comparison_and_the_views_in_both_languages(tmp_path, monkeypatch):
    at = new_app(tmp_path, monkeypatch)
    press_run(at, ("minimal_coverage",), reps=2, scale=0.1, years=3)
    assert at.button(key="run").disabled  # one running job per session
    job = wait_for_job(at)
    assert job.state == "done", job.error
    bullets = [m.value for m in at.markdown if m.value.startswith("- opleidingen closed by 2027:")]
    assert bullets, [m.value[:80] for m in at.markdown]
    assert len(at.table) == 1 and len(at.get("image")) == 6
    assert at.get("image")[0].proto.imgs[0].caption == "Programme survival by sector — Achterhoek"
    at.sidebar.radio(key="lang").set_value("nl")
    at.run()
    assert at.title[0].value == TEXT["title"][1]
    assert [m.value for m in at.markdown if m.value.startswith("- gesloten opleidingen t/m 2027:")]
    assert at.button(key="run").label == "Start"
    levers = at.multiselect(key="levers@nl")  # the choices are kept, their labels follow the language
    assert levers.value == ["minimal_coverage"] and "minimaal dekkend aanbod" in levers.options
    assert at.selectbox(key="demography@nl").options == ["basis", "lichte krimp", "sterke krimp"]
    assert at.number_input(key="reps").value == 2
    assert not at.button(key="run").disabled


def test_two_sessions_at_once_each_get_their_own_results(tmp_path, monkeypatch):
    sessions = []
    for region in ("achterhoek", "zeeland"):
        at = new_app(tmp_path, monkeypatch)
        at.selectbox(key="region@en").set_value(region)
        press_run(at, ("pps",), reps=1, scale=0.1, years=2)
        sessions.append((region, at))
    folders = []
    for region, at in sessions:  # both ran at the same time (max_jobs 2)
        job = wait_for_job(at)
        assert job.state == "done", job.error
        assert load_runs(job.exp_dir)["region"].unique().tolist() == [region]
        assert len(at.table) == 1  # each page shows its own comparison
        folders.append(job.exp_dir)
    assert folders[0] != folders[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in folders)


def test_browse_lists_folders_and_filters_the_summary(finished, monkeypatch):
    at = new_app(finished.parent, monkeypatch)
    pick = at.selectbox(key="browse")
    assert finished.name in pick.options
    pick.set_value(finished.name)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe]
    summary = next(f for f in frames if "closures" in f.columns)
    assert len(summary) == 4
    at.multiselect(key="browse-arm").set_value(["none"])
    at.run()
    summary = next(d.value for d in at.dataframe if "closures" in d.value.columns)
    assert len(summary) == 2 and set(summary["policy"]) == {"none"}


def test_the_launcher_binds_localhost_only_and_refuses_bad_ports(capsys):
    from sim.dashboard.launch import HOST, main, streamlit_command

    cmd = streamlit_command(8600)
    assert HOST == "127.0.0.1" and cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    with pytest.raises(SystemExit) as exc:
        main(["--port", "80"])
    assert exc.value.code == 2 and "--port 80: must be in [1024, 65535]" in capsys.readouterr().err
