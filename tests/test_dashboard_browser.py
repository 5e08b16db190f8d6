"""The dashboard end to end in a real Chromium through Playwright: start the server, choose Achterhoek
and minimal coverage at a small scale, run, wait for the figures, check the survival figure and the
comparison table against CLI runs of the same config and seeds, switch the language, save a screenshot.

The browser is the distribution's Chromium (``bash .ci/browser_setup.sh`` installs it with apt;
``playwright install`` cannot download browsers on a machine without general internet access). The
test skips, saying why, only when there is no Chromium or no Playwright. The screenshot is written to
``$MBO_SIM_TEST_ARTIFACTS`` (default ``test-artifacts/``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MBO_SIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("MBO_SIM_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[browser-test]')")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}: run 'bash .ci/browser_setup.sh' (apt install chromium) as root")
    pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The dashboard as ``mbo-sim-dashboard`` starts it, on a free port, writing into ``tmp_path``."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from sim.dashboard.launch import main; "
                             "sys.exit(main())", "--port", str(port), "--results", str(tmp_path / "results")],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(url, timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the dashboard did not answer on {url}: {(tmp_path / 'server.log').read_text()}")
        yield url, tmp_path / "results"
    finally:
        proc.terminate()  # SIGTERM to mbo-sim-dashboard stops the server itself (it execs Streamlit)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    with socket.socket() as s, pytest.raises(OSError):
        s.connect(("127.0.0.1", port))  # nothing left listening


def _table_row(table_text: str, label: str) -> list[str]:
    """The cells of the comparison table's row that starts with ``label`` (Streamlit's table as text)."""
    lines = [ln.strip() for ln in table_text.splitlines() if ln.strip()]
    i = lines.index(label)
    return lines[i + 1 : i + 7]


def test_the_dashboard_in_a_real_browser(server, tmp_path):
    sync_playwright = _browser_or_skip()
    url, results = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(url)
        run = page.get_by_role("button", name="Run", exact=True)
        run.wait_for(timeout=120_000)
        # Achterhoek + minimal coverage at a small scale, two paired replications
        page.locator("[data-testid=stSelectbox]").first.click()
        page.get_by_role("option", name="Achterhoek").click()
        page.locator("[data-testid=stMultiSelect]").first.click()
        page.get_by_role("option", name="minimal coverage (minimaal dekkend aanbod)").click()
        page.keyboard.press("Escape")
        page.get_by_text("Parameters of minimal coverage").wait_for()
        for name, value in (("Replications [1–20]", "2"), ("Scale (share of residents simulated) [0.1–1.0]", "0.1"),
                            ("Years [1–30]", "10")):
            box = page.get_by_role("spinbutton", name=name)
            box.fill(value)
            box.press("Enter")
            page.wait_for_timeout(300)
        page.get_by_text("scale × replications × years × arms = 4 ").wait_for()
        t0 = time.perf_counter()
        run.click()
        page.get_by_text("Programme survival by sector — Achterhoek").first.wait_for(timeout=600_000)
        page.locator("[data-testid=stImage] img").first.wait_for()
        table = page.locator("[data-testid=stTable]").first
        table.wait_for()
        seconds = time.perf_counter() - t0
        survival = page.locator("[data-testid=stImage] img").first
        assert survival.evaluate("img => img.complete && img.naturalWidth > 600")

        # the comparison's numbers are the CLI's for the same configs and seeds
        folder = next(results.glob("dashboard-*-achterhoek-*"))
        info = json.loads((folder / "scenario.json").read_text())
        cli = {"none": [], "minimal_coverage": []}
        out = tmp_path / "cli"
        for i, r in enumerate(info["runs"]):
            args = r["command"].removeprefix("mbo-sim ").replace("'", "").split()
            proc = subprocess.run([sys.executable, "-c", "import sys; from sim.cli import main; main()", *args,
                                   f"output_dir={out}", f"run_name=cli{i}", "progress=false", "write_plots=false"],
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr
            cli[r["arm"]].append(json.loads((out / f"cli{i}" / "summary.json").read_text()))
        text = table.inner_text()
        for label, metric in (("opleidingen open in 2034", "programmes_open_end"),
                              ("opleidingen closed by 2034", "closures")):
            without, with_lever, difference = _table_row(text, label)[:3]
            mean = {arm: sum(s[metric] for s in runs) / len(runs) for arm, runs in cli.items()}
            digits = 0 if max(abs(v) for v in mean.values()) >= 100 else 1
            assert without.replace(",", "") == f"{mean['none']:.{digits}f}", (label, text)
            assert with_lever.replace(",", "") == f"{mean['minimal_coverage']:.{digits}f}", (label, text)
        page.get_by_text("opleidingen closed by 2034:").first.wait_for()  # the difference in words

        # the language switch
        page.get_by_text("Nederlands", exact=True).click()
        page.get_by_text("Overleving van opleidingen per sector — Achterhoek").first.wait_for(timeout=120_000)
        page.get_by_text("gesloten opleidingen t/m 2034:").first.wait_for()
        assert page.get_by_role("button", name="Start", exact=True).is_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "dashboard_e2e.png"
        page.screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000
    print(f"\ndashboard e2e: {seconds:.1f} s from Run to figures (4 runs, scale 0.1, 10 years); screenshot {shot}")
