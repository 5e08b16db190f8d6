"""Time the dashboard in a real browser: seconds from pressing Run to the survival figure and the comparison table.

    python benchmarks/bench_dashboard.py [--reps-list 1 5] [--sessions 3] [--scale 0.25] [--screenshot PATH]

Starts ``mbo-sim-dashboard`` on a free port of 127.0.0.1 with a temporary results folder and drives
Debian's Chromium (/usr/bin/chromium, headless) with Playwright (the ``browser-test`` extra), in
English. Every scenario has the lever minimal coverage, so R replications are 2 R runs (without and
with the lever), over the page's default horizon (config.yaml's years). Two measurements:

1. one session at a time: for each R of --reps-list (default 1 and 5) a new browser context (a new
   Streamlit session) in Achterhoek; the time from the click on Run until the survival figure's
   caption, an image and the comparison table are shown ("seconds"). It covers the page's rerun
   that checks the scenario and starts the job ("start": until the job's scenario.json is
   written), the job ("job": the page's own "Finished in … s": a fresh interpreter, the runs, the
   summary), noticing its end (the page polls every 0.5 s), drawing the figures and the browser.
2. concurrent sessions (--sessions N, default 3; 0 skips): N browser contexts, each its region
   (Achterhoek, Zeeland, Zuid-Limburg, then round again), 1 replication each; Run is pressed in all
   of them one after the other (all within a fraction of a second) and the pages are polled together.
   Each session ends finished, refused ("Not run: …": the server runs at most ``max_jobs`` jobs
   at once, configs/dashboard.yaml) or failed. Then the results folder is checked: each finished
   session has its own new folder ``dashboard-<time>-<region>-<token>`` with a summary and all its
   runs, and a refused session none.

--screenshot PATH saves the page of the last R of --reps-list, finished, at a 1400×2600 viewport
(Streamlit scrolls inside its main container: a tall viewport shows more of the page).
The machine's other load shows in the timings: run it on an otherwise idle machine. The exit
code is 1 when a session that should have finished did not (a refusal in the concurrent
measurement is expected), else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REGIONS = {"achterhoek": "Achterhoek", "zeeland": "Zeeland", "zuid_limburg": "Zuid-Limburg"}  # key: page label
DEFAULT_REGION = "achterhoek"  # configs/dashboard.yaml defaults.region
LEVER = "minimal coverage (minimaal dekkend aanbod)"  # the option's label (sim/dashboard/text.py)
LEVER_HEADING = "Parameters of minimal coverage"
REPS_BOX = "Replications [1–20]"
SCALE_BOX = "Scale (share of residents simulated) [0.1–1.0]"
YEARS_BOX = "Years [1–30]"
FIGURE_CAPTION = "Programme survival by sector"  # the survival figure's caption
REFUSED, FAILED = "Not run:", "The run failed:"
FINISHED = re.compile(r"Finished in ([0-9.]+) s: (\S+)")
FOLDER = re.compile(r"^dashboard-\d{8}-\d{6}-(?P<region>.+)-[0-9a-f]{6}$")
VIEWPORT = {"width": 1400, "height": 1000}
SCREENSHOT_VIEWPORT = {"width": 1400, "height": 2600}


@dataclass
class Session:
    label: str
    region: str
    reps: int
    page: Page
    results: Path  # the server's results folder
    t0: float = 0.0
    clicked: float = 0.0  # wall clock of the click (time.time), to compare with the job folder's times
    start_seconds: float | None = None  # click → the job's scenario.json written
    state: str = "waiting"  # finished, refused, failed, error, timeout
    seconds: float = float("nan")
    server_seconds: float | None = None
    folder: str = ""
    message: str = ""
    browser_errors: list[str] = field(default_factory=list)


# --- the server ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(command: str, port: int, results: Path, log, timeout: float = 120) -> subprocess.Popen:
    """Start the dashboard in a process group of its own and wait until its page answers 200."""
    proc = subprocess.Popen([command, "--port", str(port), "--results", str(results)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url, end = f"http://127.0.0.1:{port}/", time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with code {proc.returncode} (log: {log.name})")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    stop_dashboard(proc)
    raise RuntimeError(f"the dashboard did not answer on {url} within {timeout:g} s (log: {log.name})")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_dashboard(proc: subprocess.Popen) -> None:
    """SIGTERM to the dashboard's process group (the launcher, Streamlit, any running job), then SIGKILL.

    The group is the one ``start_dashboard`` made (``proc.pid``): the launcher does not pass SIGTERM on
    to Streamlit, so terminating the launcher alone would leave Streamlit running."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            proc.poll()  # reap the launcher, so that a zombie does not keep the group alive
            if not _group_alive(proc.pid):
                return
            time.sleep(0.1)


# --- the page ------------------------------------------------------------------------------------------------
def set_number(page: Page, name: str, value: float) -> None:
    box = page.get_by_role("spinbutton", name=name)
    box.fill(f"{value:g}")
    box.press("Enter")


def open_session(browser: Browser, url: str, results: Path, label: str, region: str, reps: int, scale: float,
                 problems: list[str]) -> Session:
    """A new browser context (a new Streamlit session) with the scenario filled in, ready to run."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    s = Session(label, region, reps, page, results)
    page.on("pageerror", lambda exc: s.browser_errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: s.browser_errors.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.goto(url)
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
    if region != DEFAULT_REGION:
        page.locator("[data-testid=stSelectbox]").first.click()
        page.get_by_role("option", name=REGIONS[region], exact=True).click()
        page.wait_for_timeout(500)
    page.locator("[data-testid=stMultiSelect]").first.click()
    page.get_by_role("option", name=LEVER).click()
    page.keyboard.press("Escape")
    page.get_by_text(LEVER_HEADING).wait_for()
    set_number(page, REPS_BOX, reps)
    set_number(page, SCALE_BOX, scale)
    page.wait_for_timeout(1000)  # let Streamlit rerun with the new inputs
    # the page's own size of the run says whether the inputs took: scale × reps × years × 2 arms
    years = int(page.get_by_role("spinbutton", name=YEARS_BOX).input_value())
    cost = f"= {scale * reps * years * 2:g} ("
    try:
        page.get_by_text(cost).wait_for(timeout=10_000)
    except Exception:
        problems.append(f"{label}: the page's size of the run is not '{cost}…' (inputs not taken?)")
    shown = page.get_by_role("combobox", name="Region", exact=True).input_value()
    if REGIONS[region] not in shown:
        problems.append(f"{label}: the region box shows {shown!r}, not {REGIONS[region]!r}")
    return s


def press_run(s: Session) -> None:
    run = s.page.get_by_role("button", name="Run", exact=True)
    s.t0, s.clicked = time.perf_counter(), time.time()
    run.click()


def page_state(page: Page) -> str | None:
    """finished (figure and table shown), refused, failed, error (a Python exception on the page), or None."""
    if page.get_by_text(REFUSED).first.is_visible():
        return "refused"
    if page.get_by_text(FAILED).first.is_visible():
        return "failed"
    if page.locator("[data-testid=stException]").first.is_visible():
        return "error"
    if (page.get_by_text(FIGURE_CAPTION).first.is_visible()
            and page.locator("[data-testid=stImage] img").first.is_visible()
            and page.locator("[data-testid=stTable]").first.is_visible()):
        return "finished"
    return None


def wait_all(sessions: list[Session], timeout: float, interval: float = 0.1) -> None:
    """Poll every page until each has ended (or ``timeout`` seconds): one thread, so each ending is seen
    within one round over the pages, whichever page ends first."""
    pending, end = list(sessions), time.perf_counter() + timeout
    while pending and time.perf_counter() < end:
        for s in list(pending):
            state = page_state(s.page)
            if state is None:
                continue
            s.seconds, s.state = time.perf_counter() - s.t0, state
            pending.remove(s)
            read_outcome(s)
        time.sleep(interval)
    for s in pending:
        s.state, s.seconds = "timeout", time.perf_counter() - s.t0
        shown = s.page.locator("[data-testid=stProgress], [data-testid=stAlert]").all_inner_texts()
        s.message = "page shows: " + (" | ".join(" ".join(t.split()) for t in shown) or "no progress bar, no message")


def settle(page: Page, timeout: float = 15) -> None:
    """Wait (at most ``timeout`` seconds) until no element is stale: the figures show before the rerun that
    draws them has ended, and until it has, the elements of the run before (the Cancel button) stay, faded."""
    end = time.monotonic() + timeout
    while page.locator("[data-stale=true]").count() and time.monotonic() < end:
        page.wait_for_timeout(250)


def read_outcome(s: Session) -> None:
    page = s.page
    if s.state == "finished":
        done = page.get_by_text(FINISHED)
        with contextlib.suppress(Exception):
            done.first.wait_for(timeout=5_000)
        m = FINISHED.search(done.first.inner_text()) if done.count() else None
        if m:
            s.server_seconds, s.folder = float(m.group(1)), m.group(2)
            with contextlib.suppress(OSError):
                s.start_seconds = (s.results / s.folder / "scenario.json").stat().st_mtime - s.clicked
    else:
        texts = {"refused": REFUSED, "failed": FAILED}
        loc = (page.get_by_text(texts[s.state]) if s.state in texts
               else page.locator("[data-testid=stException]"))
        s.message = " ".join(loc.first.inner_text().split())


# --- the results folder --------------------------------------------------------------------------------------
def dashboard_folders(results: Path) -> set[str]:
    return {p.name for p in results.glob("dashboard-*") if p.is_dir()} if results.is_dir() else set()


def check_folder(results: Path, s: Session, problems: list[str]) -> None:
    """The folder named on the page: under the results folder, of the session's region, with all runs."""
    if s.state != "finished":
        return
    if not s.folder:
        problems.append(f"{s.label}: no 'Finished in … s: <folder>' on the page")
        return
    folder, m = results / s.folder, FOLDER.match(s.folder)
    if not folder.is_dir():
        problems.append(f"{s.label}: {s.folder} (named on the page) is not under {results}")
    elif not m or m["region"] != s.region:
        problems.append(f"{s.label}: folder {s.folder} is not named dashboard-<time>-{s.region}-<token>")
    else:
        runs = len(list((folder / "runs").glob("*/manifest.json")))
        if runs != 2 * s.reps or not (folder / "summary.parquet").is_file():
            problems.append(f"{s.label}: {s.folder} holds {runs} of {2 * s.reps} runs, summary.parquet "
                            f"{'present' if (folder / 'summary.parquet').is_file() else 'missing'}")


# --- the measurements ----------------------------------------------------------------------------------------
def single(browser: Browser, url: str, results: Path, reps: int, scale: float, timeout: float,
           screenshot: str | None, problems: list[str]) -> Session:
    s = open_session(browser, url, results, f"single ({reps} rep)", DEFAULT_REGION, reps, scale, problems)
    press_run(s)
    wait_all([s], timeout)
    check_folder(results, s, problems)
    if screenshot:
        s.page.set_viewport_size(SCREENSHOT_VIEWPORT)
        s.page.wait_for_timeout(2000)  # the page lays itself out anew for the taller window
        settle(s.page)
        s.page.screenshot(path=screenshot)
    s.page.context.close()
    return s


def concurrent(browser: Browser, url: str, results: Path, n: int, scale: float, timeout: float,
               problems: list[str]) -> tuple[list[Session], dict[str, int]]:
    regions = list(REGIONS)
    sessions = [open_session(browser, url, results, f"session {i + 1}/{n}", regions[i % len(regions)], 1, scale,
                             problems) for i in range(n)]
    before = dashboard_folders(results)
    for s in sessions:
        press_run(s)
    wait_all(sessions, timeout)
    new = sorted(dashboard_folders(results) - before)
    per_region = {r: 0 for r in REGIONS}
    for name in new:
        m = FOLDER.match(name)
        per_region[m["region"] if m else name] = per_region.get(m["region"] if m else name, 0) + 1
    for s in sessions:
        check_folder(results, s, problems)
    named = [s.folder for s in sessions if s.state == "finished"]
    if len(set(named)) != len(named):
        problems.append(f"concurrent: two finished sessions name the same folder: {named}")
    for region in REGIONS:
        want = sum(s.state == "finished" for s in sessions if s.region == region)
        if per_region[region] != want:
            problems.append(f"concurrent: {per_region[region]} new folder(s) for {region}, "
                            f"{want} finished session(s) of it")
    for s in sessions:
        s.page.context.close()
    return sessions, per_region


def row(name: str, s: Session) -> str:
    start = f"{s.start_seconds:8.1f}" if s.start_seconds is not None else f"{'-':>8}"
    server = f"{s.server_seconds:8.1f}" if s.server_seconds is not None else f"{'-':>8}"
    what = s.folder if s.state == "finished" else s.message
    return f"{name:<52} {s.seconds:8.1f} {start} {server}   {s.state}: {what}"


def measure(browser: Browser, url: str, results: Path, args: argparse.Namespace, rows: list[str],
            problems: list[str]) -> int:
    """Both measurements; a line of the table each session (printed as it comes); returns the number of
    sessions that should have finished and did not."""
    unfinished = 0
    for i, reps in enumerate(args.reps_list):
        shot = args.screenshot if i == len(args.reps_list) - 1 else None
        s = single(browser, url, results, reps, args.scale, args.timeout, shot, problems)
        name = f"single run ({reps} rep{'s' if reps > 1 else ''}, {2 * reps} runs, scale {args.scale:g})"
        rows.append(row(name, s))
        print(rows[-1], flush=True)
        if s.state != "finished":
            unfinished += 1
            problems.append(f"{name}: {s.state} {s.message}")
        problems += [f"{name}: {e}" for e in s.browser_errors]
    if args.sessions:
        sessions, per_region = concurrent(browser, url, results, args.sessions, args.scale, args.timeout, problems)
        for s in sessions:
            name = f"concurrent {s.label} {REGIONS[s.region]} (1 rep, 2 runs)"
            rows.append(row(name, s))
            print(rows[-1], flush=True)
            if s.state not in ("finished", "refused"):
                unfinished += 1
                problems.append(f"{name}: {s.state} {s.message}")
            problems += [f"{name}: {e}" for e in s.browser_errors]
        finished = sum(s.state == "finished" for s in sessions)
        refused = sum(s.state == "refused" for s in sessions)
        rows.append(f"concurrent: {finished} finished, {refused} refused of {len(sessions)}; new results folders "
                    + ", ".join(f"{r} {n}" for r, n in per_region.items()))
    return unfinished


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--reps-list", nargs="*", type=int, default=[1, 5], metavar="R",
                    help="replications of the one-session runs, one measurement each (default 1 5; none: skip)")
    ap.add_argument("--sessions", type=int, default=3, help="concurrent sessions (default 3; 0: skip)")
    ap.add_argument("--scale", type=float, default=0.25, help="share of residents simulated (default 0.25)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds a measurement may take (default 600)")
    ap.add_argument("--screenshot", metavar="PATH", help="save the finished page of the last --reps-list run")
    ap.add_argument("--dashboard", default=str(Path(sys.executable).with_name("mbo-sim-dashboard")),
                    help="the mbo-sim-dashboard command (default: the one next to this Python)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary results folder and the server log")
    args = ap.parse_args(argv)
    if any(not 1 <= r <= 20 for r in args.reps_list):
        ap.error("--reps-list: each in [1, 20] (configs/dashboard.yaml)")
    if args.sessions < 0:
        ap.error("--sessions: at least 0")
    if args.screenshot and not args.reps_list:
        ap.error("--screenshot needs a --reps-list run")
    if not Path(args.dashboard).exists() and shutil.which(args.dashboard) is None:
        ap.error(f"--dashboard {args.dashboard}: not found (pip install -e '.[dashboard]')")

    tmp = Path(tempfile.mkdtemp(prefix="bench_dashboard-"))
    results, port = tmp / "results", free_port()
    url = f"http://127.0.0.1:{port}/"
    problems: list[str] = []
    rows: list[str] = []
    t_all = time.perf_counter()
    print(f"dashboard {url}, results {results}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)
    with open(tmp / "dashboard.log", "w") as log:
        proc = start_dashboard(args.dashboard, port, results, log)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    unfinished = measure(browser, url, results, args, rows, problems)
                finally:
                    browser.close()
        finally:
            stop_dashboard(proc)
    if args.screenshot:
        rows.append(f"screenshot: {args.screenshot}")

    print(f"\n{'measurement':<52} {'seconds':>8} {'start':>8} {'job':>8}   outcome")
    print("\n".join(rows))
    print(f"total {time.perf_counter() - t_all:.0f} s. seconds: Run pressed → survival figure and comparison table "
          "shown; start: Run pressed → the job's folder written; job: the page's own 'Finished in … s'")
    if problems:
        print("\nproblems:")
        print("\n".join(f"- {x}" for x in problems))
        lines = [x for x in (tmp / "dashboard.log").read_text(errors="replace").splitlines()
                 if "missing ScriptRunContext" not in x]  # each job process's import of the page says so
        print(f"\nlast lines of the dashboard's log ({tmp / 'dashboard.log'}):")
        print("\n".join(lines[-30:]))
    if args.keep or problems:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if unfinished else 0


if __name__ == "__main__":
    sys.exit(main())
