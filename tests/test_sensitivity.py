"""Issue 14: the registry of uncertain inputs, samples into config, SALib/EMA glue, and a small design
run end to end through the Hydra launcher (resumable, refused when the design differs)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config import ConfigError
from sim.hydra_config import CONFIG_DIR, register_schema, to_config
from sim.policies import POLICIES
from sim.samples import Parameter, apply
from sim.sensitivity.registry import assumption_keys, covered, load_registry

pytest.importorskip("SALib")

PARAMS, EXCLUDED = load_registry()


def composed(overrides: list[str]):
    """The composed DictConfig (not yet validated) of ``overrides``."""
    from hydra import compose, initialize_config_dir

    register_schema()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


ALL_LEVERS = f"policy=[{','.join(sorted(POLICIES))}]"


@pytest.fixture(scope="module")
def all_levers():
    return composed(["region=zeeland", ALL_LEVERS])


def test_every_registry_key_is_in_the_schema(all_levers):
    missing = [p.key for p in PARAMS if OmegaConf.select(all_levers, p.key, default=None) is None]
    assert not missing, f"registry keys not in the config: {missing}"
    for key in EXCLUDED:
        assert OmegaConf.select(all_levers, key, default=None) is not None, key


@pytest.mark.parametrize("region", ["achterhoek", "zeeland", "zuid_limburg"])
def test_every_range_lies_inside_what_the_key_allows(region):
    base = composed([f"region={region}", ALL_LEVERS])
    for p in PARAMS:
        for value in (p.low, p.high):
            cfg = base.copy()
            assert apply(cfg, p, value)
            try:
                to_config(cfg)
            except ConfigError as exc:
                pytest.fail(f"{p.key} at {value} ({region}) is not allowed: {exc}")


@pytest.mark.parametrize("corner", ["low", "high"])
def test_every_range_end_is_allowed_with_all_the_others_at_the_same_end(corner):
    """Keys that are checked together (the staff and housing shares of the costs per student sum
    to at most 1) stay allowed when every parameter is at its low end or at its high end at once:
    a design samples them jointly (a Morris design once failed after 9 minutes at 1.02)."""
    cfg = composed(["region=zeeland", ALL_LEVERS])
    for p in PARAMS:
        assert apply(cfg, p, getattr(p, corner))
    try:
        to_config(cfg)
    except ConfigError as exc:
        pytest.fail(f"every parameter at its {corner} end is not allowed: {exc}")


def test_every_assumption_is_sampled_or_excluded_with_a_reason():
    names = {p.key for p in PARAMS}
    assert not names & set(EXCLUDED), "a key is both sampled and excluded"
    assert all(len(reason) > 20 for reason in EXCLUDED.values())
    marked = assumption_keys()
    assert len(marked) > 60  # the scan finds the marked values (model, levers, scenarios, regions)
    uncovered = sorted(k for k in marked if not covered(k, names | set(EXCLUDED)))
    assert not uncovered, f"marked 'assumption' in configs/ but neither in the registry nor excluded: {uncovered}"


def test_the_completeness_check_finds_an_unregistered_assumption(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "default.yaml").write_text(
        "labour:\n  layoff_rate: 0.004   # assumption: x\n  new_rate: 0.1   # Assumption: y\n"
        "  sourced: 0.2   # CBS\n  group:   # assumption\n    a: 1\n    b: 2\n")
    marked = assumption_keys(tmp_path)
    assert set(marked) == {"model.labour.layoff_rate", "model.labour.new_rate", "model.labour.group.a",
                           "model.labour.group.b"}
    names = {p.key for p in PARAMS} | set(EXCLUDED)
    assert [k for k in marked if not covered(k, names)] == ["model.labour.new_rate", "model.labour.group.a",
                                                             "model.labour.group.b"]


@pytest.mark.parametrize("spec, message", [
    ({"range": [1, 0], "source": "x"}, "low < high"),
    ({"range": [0, 1]}, "needs a 'source'"),
    ({"range": [0, 1], "multiply": [0, 1], "source": "x"}, "exactly one of"),
    ({"range": [0, 1], "source": "x", "dist": "norm"}, "unknown field"),
])
def test_a_malformed_registry_entry_is_one_clear_error(tmp_path, spec, message):
    path = tmp_path / "u.yaml"
    path.write_text(json.dumps({"parameters": {"model.labour.layoff_rate": spec}}))
    with pytest.raises(ConfigError, match=message) as err:
        load_registry(path)
    assert "model.labour.layoff_rate" in str(err.value)


def test_apply_sets_multiplies_adds_rounds_and_skips_other_levers():
    cfg = composed(["region=zeeland", "policy=minimal_coverage"])
    before = OmegaConf.to_container(cfg.model.labour.adaptation_rate)
    assert apply(cfg, Parameter("model.education.viability_min_intake", "range", 5, 12, "s"), 9.6)
    assert apply(cfg, Parameter("model.labour.adaptation_rate", "multiply", 0.5, 2, "s"), 2.0)
    assert apply(cfg, Parameter("economy.sector_growth", "add", -0.005, 0.005, "s"), 0.005)
    assert apply(cfg, Parameter("policy.minimal_coverage.share", "range", 0.8, 0.95, "s", "minimal_coverage"), 0.85)
    assert not apply(cfg, Parameter("policy.pps.threshold_reduction", "range", 0.25, 0.75, "s", "pps"), 0.3)
    c = to_config(cfg)
    assert c.model.education.viability_min_intake == 10
    assert c.model.labour.adaptation_rate == {k: 2 * v for k, v in before.items()}
    assert c.economy.sector_growth["ict"] == pytest.approx(0.025)
    assert c.policy["minimal_coverage"]["share"] == 0.85
    assert "pps" not in c.policy


def _design(tmp_path: Path, params: list[Parameter], x: np.ndarray) -> Path:
    from sim.sensitivity.design import design_dict, write_design

    write_design(tmp_path, design_dict("lhs", params, x, {"region": "zeeland"}))
    return tmp_path / "design.json"


def test_a_run_takes_its_row_of_the_design_and_records_it(tmp_path):
    from sim.hydra_config import compose

    params = [Parameter("model.education.viability_min_intake", "range", 5, 12, "s"),
              Parameter("policy.minimal_coverage.share", "range", 0.8, 0.95, "s", "minimal_coverage")]
    path = _design(tmp_path, params, np.array([[6.0, 0.81], [11.0, 0.93]]))
    c = compose([f"samples_file={path}", "sample=1", "policy=minimal_coverage"])
    assert (c.model.education.viability_min_intake, c.policy["minimal_coverage"]["share"]) == (11, 0.93)
    assert compose([f"samples_file={path}", "sample=0"]).model.education.viability_min_intake == 6
    assert "sample0" in compose([f"samples_file={path}", "sample=0"]).resolved_run_name
    with pytest.raises(ConfigError, match=r"sample = 2: the design has samples 0 … 1"):
        compose([f"samples_file={path}", "sample=2"])
    with pytest.raises(ConfigError, match="samples_file"):
        compose(["sample=0"])
    with pytest.raises(ConfigError, match="no such file"):
        compose([f"samples_file={tmp_path / 'missing.json'}", "sample=0"])
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="not a readable design.json"):
        compose([f"samples_file={tmp_path / 'bad.json'}", "sample=0"])


def test_indices_rank_a_known_function_correctly():
    """The glue keeps SALib's sample order: y = 4a + b (c does nothing) ranks a, b, c."""
    from sim.sensitivity.analysis import indices
    from sim.sensitivity.design import sample

    params = [Parameter(k, "range", 0.0, 1.0, "s") for k in ("a", "b", "c")]
    for method, n, key in (("morris", 20, "mu_star"), ("sobol", 256, "ST")):
        x = sample(method, params, n, seed=3)
        y = pd.DataFrame({"closures_2045": 4 * x[:, 0] + x[:, 1]})
        idx = indices(method, params, x, y, seed=3).set_index("parameter")[key]
        assert idx["a"] > idx["b"] > idx["c"]
        assert idx["c"] < 0.05 * idx["a"]
        if method == "sobol":
            assert idx["a"] == pytest.approx(16 / 17, abs=0.08)


def test_prim_finds_the_box_that_makes_the_answer_yes():
    pytest.importorskip("ema_workbench")
    from sim.sensitivity.discover import box

    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    b = box(x, ((x["a"] > 0.6) & (x["b"] < 0.5)).to_numpy())
    assert set(b["limits"].index) == {"a", "b"}
    # the box with the highest coverage at density >= 0.8 may be a little wider than the true one
    assert 0.5 <= b["limits"].loc["a", "min"] <= 0.65
    assert 0.45 <= b["limits"].loc["b", "max"] <= 0.65
    assert b["density"] >= 0.8 and b["coverage"] > 0.8


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.sensitivity.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


SMALL = ["--region", "zeeland", "--scale", "0.02", "--years", "4", "--trajectories", "2", "--noise-reps", "2",
         "--params", "model.labour.layoff_rate,policy.minimal_coverage.share", "--jobs", "2",
         "--output", "out", "--name", "m"]


def test_a_small_morris_design_runs_resumes_and_refuses_another_design(tmp_path):
    r = _cli("morris", *SMALL, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    # one analysis, when the design's sweep ends (none after the noise sweep, which said "not yet")
    analyses = re.findall(r"^analysis: .*$", r.stdout, flags=re.M)
    assert analyses == [f"analysis: {Path('out/m/analysis/report.md')}"], r.stdout
    exp = tmp_path / "out" / "m"
    runs = [p for p in (exp / "runs").iterdir() if not p.name.startswith(".")]
    assert len(runs) == (2 * 3 + 1) * 2  # 2 trajectories × (2 + 1) samples + 1 noise replicate, 2 arms
    out = pd.read_csv(exp / "analysis" / "outputs.csv")
    assert set(out["sample"]) == set(range(6)) and (out["replicate"] == 1).sum() == 1
    idx = pd.read_csv(exp / "analysis" / "morris_indices.csv")
    # (the layoff rate moves the labour outputs in every run, whatever the draws: a closure-only
    # parameter left every output constant in 4 years at this scale, with no indices to compute)
    assert set(idx["parameter"]) == {"model.labour.layoff_rate", "policy.minimal_coverage.share"}
    assert (exp / "analysis" / "morris_indices.png").stat().st_size > 10_000
    # each run recorded the values of its row
    design = json.loads((exp / "design" / "design.json").read_text())
    one = next(p for p in runs if "sample=3," in p.name and "policy=none" in p.name and "replicate=0" in p.name)
    cfg = json.loads((one / "manifest.json").read_text())["config"]
    assert cfg["model"]["labour"]["layoff_rate"] == pytest.approx(design["samples"][3][0])
    # the same command again resumes: nothing is rerun
    again = _cli("morris", *SMALL, cwd=tmp_path)
    assert again.returncode == 0 and "results:" not in again.stdout and "complete, skipped" in again.stdout
    # another design under the same name is refused, and nothing of the first is touched
    other = _cli("morris", *[a if a != "2" else "3" for a in SMALL], cwd=tmp_path)
    assert other.returncode == 2 and "holds another design" in other.stderr
    assert json.loads((exp / "design" / "design.json").read_text()) == design


def test_bad_command_lines_are_one_clear_error(tmp_path):
    r = _cli("morris", "--region", "utrecht", "--dry-run", "--output", "out", cwd=tmp_path)
    assert r.returncode == 2 and "--region 'utrecht': unknown region" in r.stderr
    r = _cli("sobol", "--n", "100", "--params", "model.labour.layoff_rate", "--dry-run", "--output", "out",
             cwd=tmp_path)
    assert r.returncode == 2 and "power of 2" in r.stderr
    r = _cli("morris", "--params", "model.labour.nonsense", "--dry-run", "--output", "out", cwd=tmp_path)
    assert r.returncode == 2 and "model.labour.nonsense" in r.stderr
    r = _cli("morris", "--levers", "subsidy", "--dry-run", "--output", "out", cwd=tmp_path)
    assert r.returncode == 2 and "--levers 'subsidy': unknown lever" in r.stderr
    r = _cli("morris", "--reps", "0", "--dry-run", "--output", "out", cwd=tmp_path)
    assert r.returncode == 2 and "--reps 0" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_dry_run_writes_the_design_and_prints_the_sweep(tmp_path):
    r = _cli("lhs", "--n", "8", "--levers", "none", "--dry-run", "--output", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    design = json.loads((tmp_path / "out" / "sensitivity_lhs_zeeland" / "design" / "design.json").read_text())
    assert len(design["samples"]) == 8 and design["settings"]["arms"] == ["none"]
    keys = [p["key"] for p in design["parameters"]]
    assert "policy.minimal_coverage.share" not in keys and "model.education.viability_min_intake" in keys
    x = np.asarray(design["samples"])
    lows = np.array([p["low"] for p in design["parameters"]])
    highs = np.array([p["high"] for p in design["parameters"]])
    assert ((x >= lows) & (x <= highs)).all()
    assert "sample=range(0,8)" in r.stdout and "policy=none " in r.stdout and "replicate=range(1,10)" in r.stdout


def test_top_parameters_leave_out_those_that_move_the_calibrated_base_year(tmp_path):
    from sim.sensitivity.cli import top_parameters

    (tmp_path / "analysis").mkdir()
    rows = [("closures_2045", "a", 10), ("closures_2045", "b", 8), ("closures_2045", "c", 1), ("closures_2045", "d", 9),
            ("unmet_demand_care_2035", "a", 1), ("unmet_demand_care_2035", "b", 5), ("unmet_demand_care_2035", "c", 4),
            ("unmet_demand_care_2035", "d", 5),
            ("intake_first_year", "a", 10), ("intake_first_year", "b", 0), ("intake_first_year", "c", 0),
            ("intake_first_year", "d", 50)]  # d moves the base year by 5 %: left out
    pd.DataFrame(rows, columns=["output", "parameter", "mu_star"]).to_csv(tmp_path / "analysis" / "morris_indices.csv")
    pd.DataFrame({"intake_first_year": [1000.0, 1000.0]}).to_csv(tmp_path / "analysis" / "outputs.csv")
    assert top_parameters(tmp_path, 2) == ["b", "a"]  # b: (0.8 + 1) / 2, a: (1 + 0.2) / 2, c: (0.1 + 0.8) / 2
    assert top_parameters(tmp_path, 3) == ["b", "a", "c"]


def test_a_question_answers_at_its_threshold_or_above_the_75th_percentile():
    from sim.sensitivity.discover import Question

    y = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    q = Question("x", "closures_2045", None, "{t}")
    yes, t = q.answer(y)
    assert t == 4.0 and yes.tolist() == [False, False, False, False, True]
    yes, t = q.answer(y, threshold=3.0)
    assert t == 3.0 and yes.tolist() == [False, False, True, True, True]
    assert Question("d", "care_shortage_ratio", 2.0, "{t}").answer(y)[0].sum() == 4
