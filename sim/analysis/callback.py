"""Hydra callback that builds the experiment report when a sweep ends.

Named in ``experiments/_common.yaml`` (``hydra.callbacks.report``), so every named experiment
ends with :func:`sim.analysis.report.build` on ``results/<experiment>/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from sim.analysis.report import build, up_to_date


class ReportCallback(Callback):
    """Hydra callback: aggregate the experiment when its sweep ends."""

    def on_multirun_end(self, config, **kwargs: Any) -> None:
        exp_dir = Path(str(config.output_dir)).parent
        if up_to_date(exp_dir, data_dir=config.data_dir):
            print(f"report: {exp_dir / 'report' / 'report.md'} (up to date: built from these runs)")
            return
        try:
            out = build(exp_dir, data_dir=config.data_dir)
        except (OSError, ValueError) as exc:  # Hydra would bury it in a multi-line warning
            print(f"mbo-sim-report: error: the report of {exp_dir} was not written: {exc}", file=sys.stderr)
            return
        print(f"report: {out / 'report.md'}")
