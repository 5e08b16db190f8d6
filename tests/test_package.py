"""The installable package: a wheel built from this checkout runs outside it, with its configs,
experiments and data inside the package; the schema module stays free of the model.

The wheel is built (``pip wheel --no-deps``) from a copy of the package's sources, so that no
``build/`` folder lands in the checkout, and installed with ``pip install --no-deps`` into a fresh
venv in a temporary folder. That venv borrows the dependencies of the interpreter running the
tests through a ``.pth`` file naming its site-packages: a ``.pth`` line only adds the folder to
``sys.path`` (the editable install's finder there is not activated), and the venv's own
site-packages comes first, so ``sim`` is imported from the wheel; the test asserts it. The
commands then run from a temporary working directory, without ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sim.regions import REGISTRY

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300
SMALL = ["scale=0.02", "years=2", "write_plots=false", "progress=false"]
# pip's words when it cannot reach an index (the build backend, setuptools, comes from the index)
NO_INDEX = ("Could not find a version that satisfies", "No matching distribution found", "NewConnectionError",
            "Network is unreachable", "Temporary failure in name resolution", "ProxyError", "ConnectTimeout")


def _env() -> dict[str, str]:
    """The environment of a command outside the checkout: no PYTHONPATH (nor a venv of the tests)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv (outside the checkout) with the wheel of this checkout installed; returns its bin/."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    for package in ("sim", "hydra_plugins"):  # hydra_plugins: the experiments' sweeper (hydra/sweeper=mbo)
        shutil.copytree(REPO_ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    res = _pip("wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(src), cwd=root)
    if res.returncode != 0 and any(s in res.stdout + res.stderr for s in NO_INDEX):
        pytest.skip(f"cannot build the wheel: pip cannot reach an index for the build backend:\n{res.stderr[-800:]}")
    assert res.returncode == 0, res.stderr[-3000:]
    wheel = next((root / "dist").glob("mbo_sim-*.whl"))

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    py = venv / "bin" / "python"
    res = _pip("--python", str(py), "install", "--no-deps", "--no-index", str(wheel), cwd=root)
    assert res.returncode == 0 and (venv / "bin" / "mbo-sim").is_file(), res.stdout[-3000:] + res.stderr[-3000:]
    # only now the dependencies: pip installing into the venv never sees (nor touches) this environment
    purelib = Path(subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (purelib / "_mbo_sim_test_dependencies.pth").write_text("".join(f"{p}\n" for p in deps))
    return venv / "bin"


def _run(bin_dir: Path, cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**_env(), "HYDRA_FULL_ERROR": "1"}
    return subprocess.run([str(bin_dir / cmd[0]), *cmd[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def _ok(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, f"failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_wheel_imports_sim_from_the_wheel(installed, tmp_path):
    venv = installed.parent
    res = _ok(_run(installed, ["python", "-c",
                               "import json, sim, sim.hydra_config as h, sim.io.loaders as l; "
                               "print(json.dumps([sim.__file__, str(h.CONFIG_DIR), str(l.PACKAGE_DATA_DIR)]))"],
                   tmp_path))
    module, config_dir, data_dir = json.loads(res.stdout)
    for path in (module, config_dir, data_dir):
        assert _inside(path, venv) and not _inside(path, REPO_ROOT), path
    assert (Path(config_dir) / "experiment" / "pps.yaml").is_file()
    assert (Path(data_dir) / "municipalities_2017_wgs84.geojson").is_file()


@pytest.mark.parametrize("region", [None, "achterhoek"])
def test_wheel_runs_a_scenario(installed, tmp_path, region):
    args = [f"region={region}"] if region else []
    _ok(_run(installed, ["mbo-sim", *args, *SMALL], tmp_path))
    [manifest] = (tmp_path / "results" / "runs").glob("*/manifest.json")
    m = json.loads(manifest.read_text())
    assert m["config"]["region"]["name"] == (region or "zeeland")
    assert m["config"]["data_dir"] is None
    assert _inside(m["data_dir"], installed.parent), m["data_dir"]  # the data shipped in the wheel


def test_wheel_runs_an_experiment(installed, tmp_path):
    # reps=1 and the small scale keep the sweep (3 regions × 2 arms) and its report small
    _ok(_run(installed, ["mbo-sim", "-m", "+experiment=pps", "reps=1", "scale=0.05", "years=2"], tmp_path))
    exp = tmp_path / "results" / "pps"
    assert len(list((exp / "runs").glob("*/manifest.json"))) == 6
    assert (exp / "report" / "report.md").is_file()


def test_wheel_names_the_data_folder_it_looked_in(installed, tmp_path):
    res = _run(installed, ["mbo-sim", "data_dir=nowhere", *SMALL], tmp_path)
    assert res.returncode == 2
    error = res.stderr.strip().splitlines()[-1]
    assert "mbo-sim: error: data file" in error and str((tmp_path / "nowhere").resolve()) in error, error
    assert "set data_dir=" in error
    assert not (tmp_path / "results" / "runs").exists() or not any((tmp_path / "results" / "runs").iterdir())


# --- without the wheel ----------------------------------------------------------------------------
def test_config_schema_imports_no_model():
    """sim.config is the schema only: importing it loads neither the policies, the model nor the agents."""
    code = ("import sys, sim.config; "
            "print([m for m in sys.modules if m.startswith(('sim.policies', 'sim.model', 'sim.agents'))])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.check_output([sys.executable, "-c", code], text=True, env=env, timeout=60)
    assert out.strip() == "[]"


def test_region_registry_matches_configs_and_data():
    import pandas as pd

    from sim.hydra_config import CONFIG_DIR
    from sim.io.loaders import FILES, PACKAGE_DATA_DIR

    assert sorted(p.stem for p in (CONFIG_DIR / "region").glob("*.yaml")) == sorted(r.name for r in REGISTRY)
    assert sorted(p.stem for p in (CONFIG_DIR / "calibration").glob("*.yaml")) == sorted(r.name for r in REGISTRY)
    muni = pd.read_csv(PACKAGE_DATA_DIR / FILES["municipalities"], comment="#", skipinitialspace=True)
    assert muni.groupby("region").size().to_dict() == {r.label: r.municipalities for r in REGISTRY}


def test_checkout_paths_link_into_the_package():
    for link, target in (("configs", "sim/configs"), ("experiments", "sim/configs/experiment"),
                         ("data", "sim/data")):
        assert (REPO_ROOT / link).resolve() == (REPO_ROOT / target).resolve(), link


def test_calibration_refuses_a_configs_folder_it_cannot_write(monkeypatch, capsys):
    """`mbo-sim-calibrate --fit` writes into the package's configs (a checkout's configs/calibration/);
    when that folder is not writable (an installed package) it says so before fitting."""
    from sim import calibration

    monkeypatch.setattr(calibration.os, "access", lambda path, mode: False)
    monkeypatch.setattr(calibration, "fit", lambda *a, **k: pytest.fail("fitted although it cannot write"))
    assert calibration.main(["--fit", "--regions", "zeeland"]) == 2
    err = capsys.readouterr().err
    assert "mbo-sim-calibrate: error:" in err and str(calibration.CONFIG_DIR / "calibration") in err
    assert "not writable" in err
