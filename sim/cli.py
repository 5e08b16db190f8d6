"""The ``mbo-sim`` command: compose the Hydra config, validate, run, report where results are.

    mbo-sim                                   # Zeeland, baseline, no policy, every resident
    mbo-sim region=achterhoek seed=3 scale=0.5
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from sim.config import CONFIG_DIR, ConfigError, register_schema, to_config
from sim.io.loaders import DataError

register_schema()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def app(dcfg: DictConfig) -> None:
    try:
        cfg = to_config(dcfg)
        from sim.runner import run

        out = run(cfg)
    except (ConfigError, DataError) as exc:
        print(f"mbo-sim: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"results: {out}")
    print(f"plots:   {out / 'plots'}" if cfg.write_plots else "plots:   (not written)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
