"""Hydra callback: analyse a sensitivity design when its sweep ends (``experiments/_sensitivity.yaml``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


class AnalyseCallback(Callback):
    def on_multirun_end(self, config, **kwargs: Any) -> None:
        from sim.sensitivity.analysis import Incomplete, analyse

        exp_dir = Path(str(config.output_dir)).parent
        try:
            out = analyse(exp_dir)
        except Incomplete as exc:  # e.g. after the noise sweep, before the design's
            print(f"analysis: not yet: {exc}")
            return
        except (OSError, ValueError) as exc:
            print(f"mbo-sim-sensitivity: error: the analysis of {exp_dir} was not written: {exc}", file=sys.stderr)
            return
        print(f"analysis: {out / 'report.md'}")
