"""Fixed-output baseline: small runs whose tables are hashed and stored in ``tests/baseline.json``.

A refactoring must leave every hash unchanged (``tests/test_baseline.py`` checks it). A
deliberate change of behaviour updates the stored hashes with one command, and the diff of
``tests/baseline.json`` shows which tables of which case changed:

    make baseline            # = .venv/bin/python tests/baseline.py --update

Tables are hashed as CSV text with floats at 10 significant digits, so that a last-bit
difference of floating-point arithmetic between machines does not count as a change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
STORE = HERE / "baseline.json"

ALL_LEVERS = ("minimal_coverage", "pps", "integrated_governance", "llo_vouchers", "numerus_fixus", "image",
              "bundling", "procurement")
SMALL = ["scale=0.05", "years=4", "progress=false", "write_plots=false"]

# name -> Hydra overrides. Every region; every lever (alone or together); each scenario group.
CASES: dict[str, list[str]] = {
    "achterhoek": ["region=achterhoek"],
    "zeeland": ["region=zeeland"],
    "zuid_limburg": ["region=zuid_limburg"],
    "zeeland_levers": ["region=zeeland", "policy=[" + ",".join(x for x in ALL_LEVERS if x != "bundling") + "]",
                       "policy.minimal_coverage.share=0.99", "seed=2"],
    "zuid_limburg_coverage_bundling": ["region=zuid_limburg", "policy=[minimal_coverage,bundling]",
                                       "demography=strong_decline", "model.education.viability_min_intake=25"],
    "achterhoek_recession_bundling": ["region=achterhoek", "policy=[bundling]", "economy=recession",
                                      "demography=strong_decline", "model.education.viability_min_intake=25",
                                      "start_year=2030", "seed=3"],
}


def table_hash(df: pd.DataFrame) -> str:
    text = df.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def summary_hash(summary: dict) -> str:
    def norm(x):
        if isinstance(x, float):
            return float(f"{x:.10g}")
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        return x

    return hashlib.sha256(json.dumps(norm(summary), sort_keys=True).encode()).hexdigest()[:16]


def run_case(overrides: list[str]) -> dict[str, str]:
    """Run one case and return the hash of each results table and of the summary."""
    from sim.hydra_config import compose
    from sim.runner import simulate, tables_and_summary

    cfg = compose([*SMALL, f"data_dir={REPO_ROOT / 'data'}", *overrides])
    model = simulate(cfg)
    frames, summary = tables_and_summary(model)
    out = {name: table_hash(df) for name, df in sorted(frames.items())}
    out["summary"] = summary_hash(summary)
    return out


def compute(cases: list[str] | None = None) -> dict[str, dict[str, str]]:
    return {name: run_case(CASES[name]) for name in (cases or CASES)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compute, check or update the fixed-output baseline.")
    ap.add_argument("--update", action="store_true", help="rewrite tests/baseline.json with the current hashes")
    args = ap.parse_args(argv)
    now = compute()
    if args.update:
        STORE.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
        print(f"wrote {STORE}")
        return 0
    stored = json.loads(STORE.read_text()) if STORE.is_file() else {}
    changed = [f"{c}/{t}" for c in now for t in now[c] if stored.get(c, {}).get(t) != now[c][t]]
    print("unchanged" if not changed else "changed: " + ", ".join(changed))
    return 1 if changed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
