"""``mbo-sim-dashboard``: start the dashboard on this machine only (127.0.0.1) and say where it is.

    mbo-sim-dashboard                      # http://127.0.0.1:8501, results in ./results
    mbo-sim-dashboard --port 8600 --results /data/mbo-results

On a server, open it through an SSH tunnel from your own machine:
``ssh -N -L 8501:127.0.0.1:8501 user@server``, then http://127.0.0.1:8501 in your browser.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

HOST = "127.0.0.1"  # never another interface: the page runs models and reads the results folder


def streamlit_command(port: int) -> list[str]:
    app = Path(__file__).with_name("app.py")
    return [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", HOST, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal", "--server.showEmailPrompt",
            "false"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-dashboard", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--port", type=int, default=8501, help="port on 127.0.0.1 (default 8501)")
    ap.add_argument("--results", default="results", help="the results folder runs are written to and browsed "
                    "(default: ./results)")
    args = ap.parse_args(argv)
    if not 1024 <= args.port <= 65535:
        ap.error(f"--port {args.port}: must be in [1024, 65535]")
    if importlib.util.find_spec("streamlit") is None:
        print("mbo-sim-dashboard: error: Streamlit is not installed; install the extra with "
              "\"pip install -e '.[dashboard]'\" or run 'make dashboard'", file=sys.stderr)
        return 2
    results = Path(args.results).resolve()
    if results.exists() and not results.is_dir():
        print(f"mbo-sim-dashboard: error: --results {results}: not a folder", file=sys.stderr)
        return 2
    env = {**os.environ, "MBO_SIM_RESULTS": str(results)}
    print(f"mbo-sim dashboard: http://{HOST}:{args.port}  (results: {results}; Ctrl+C stops it)", flush=True)
    cmd = streamlit_command(args.port)
    os.execve(cmd[0], cmd, env)  # this process becomes the server: Ctrl+C and SIGTERM reach Streamlit itself


if __name__ == "__main__":
    sys.exit(main())
