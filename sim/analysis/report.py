"""Aggregate an experiment: one summary table, survival curves, shortage maps, policy effects.

The command ``mbo-sim-report``:

    mbo-sim-report results/<experiment> [--sector care]

Reads every complete run under ``results/<experiment>/runs/`` (a damaged run is skipped with a
warning naming it) and writes ``results/<experiment>/summary.parquet`` (one row per run: its
factors and headline metrics) and ``results/<experiment>/report/`` (figures, tables as CSV and
``report.md``), each whole or not at all, and never over a file or folder that mbo-sim did not
write. Runs after every sweep of a named experiment through :class:`sim.analysis.callback.ReportCallback`.

Arms are the factors that vary across runs other than region and replicate (policy,
demography, economy, ...). Policy effects are paired differences: each arm against the reference
arm of the same region and replicate (the same seed, common random numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.aggregate import (
    MILESTONES,
    closures_by_year,
    paired_effects,
    qualification_survival,
    shortage_metrics,
    survival,
)
from sim.analysis.coverage import access_lost, any_level, has_rule_and_none, kept_per_euro
from sim.analysis.coverage import markdown_lines as coverage_lines
from sim.analysis.figures import (
    plot_coverage_maps,
    plot_forest,
    plot_intake,
    plot_shortage_heatmaps,
    plot_survival,
    plot_tightness_bands,
)
from sim.analysis.finances import model_results
from sim.analysis.load import load_runs, read_table, reference_arm, shared_tables
from sim.codes import SECTORS
from sim.hydra_config import CONFIG_DIR
from sim.io.loaders import resolve_data_dir
from sim.io.safe import (
    MARKER,
    MARKER_TEXT,
    UnsafeOutput,
    atomic_file,
    atomic_folder,
    check_file_replaceable,
    check_replaceable,
)
from sim.io.writer import markdown_table


def experiment_question(name: str) -> str:
    """The comment lines heading the experiment's config file (its question), joined; "" if none."""
    path = CONFIG_DIR / "experiment" / f"{name}.yaml"
    if not path.is_file():
        return ""
    lines = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#") and "@package" not in ln]
    return " ".join(lines)


INPUTS = "inputs.json"  # in report/: the fingerprint of what the report was built from


def inputs_fingerprint(exp_dir: Path, sector: str | None, data_dir: str | Path | None) -> str:
    """A hash of what the report is built from: every run's manifest (a rerun run has a new one),
    the arguments and the code (:func:`~sim.io.writer.model_digest`, which covers the report's
    own code and the packaged data it reads: inside git or not, with edits or without)."""
    import hashlib

    from sim.io.writer import model_digest

    h = hashlib.sha256(json.dumps([model_digest(), sector, str(data_dir)]).encode())
    for manifest in sorted((Path(exp_dir) / "runs").glob("*/manifest.json")):
        h.update(manifest.parent.name.encode() + b"\0" + manifest.read_bytes())
    return h.hexdigest()


def up_to_date(exp_dir: str | Path, sector: str | None = None, data_dir: str | Path | None = None) -> bool:
    """True if ``report/`` and ``summary.parquet`` were built from exactly the runs there are now
    (the sweep callback then leaves them; ``mbo-sim-report`` always rebuilds)."""
    exp_dir = Path(exp_dir)
    try:
        then = json.loads((exp_dir / "report" / INPUTS).read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return False
    now = inputs_fingerprint(exp_dir, sector, data_dir)
    return then == now and (exp_dir / "summary.parquet").is_file()


def build(exp_dir: str | Path, sector: str | None = None, data_dir: str | Path | None = None) -> Path:
    """Write summary.parquet and report/ for the experiment folder; returns the report folder.

    Both are written whole or not at all (:mod:`sim.io.safe`): the report folder is built in a
    temporary sibling and swapped into place, the summary goes through a temporary file. A
    ``report/`` folder or ``summary.parquet`` that mbo-sim did not write is refused (UnsafeOutput)
    before any work, and left untouched."""
    exp_dir = Path(exp_dir)
    out = exp_dir / "report"
    summary_path = exp_dir / "summary.parquet"
    fingerprint = inputs_fingerprint(exp_dir, sector, data_dir)  # before reading: a run finishing meanwhile
    #                                                                makes the next sweep's callback rebuild
    _adopt_version_01_report(out)
    check_replaceable(out)
    check_file_replaceable(summary_path, summary_is_ours)
    runs = load_runs(exp_dir)
    with shared_tables():
        return _build(exp_dir, out, summary_path, runs, sector, data_dir, fingerprint)


def _build(exp_dir: Path, out: Path, summary_path: Path, runs: pd.DataFrame, sector: str | None,
           data_dir: str | Path | None, fingerprint: str | None) -> Path:
    lab = read_table(exp_dir, runs, "labour")
    access = any_level(read_table(exp_dir, runs, "access"))
    edu = read_table(exp_dir, runs, "education")
    surv = survival(exp_dir, runs)
    closed = closures_by_year(exp_dir, runs)
    quals = qualification_survival(exp_dir, runs)
    effects = paired_effects(runs)
    with_shortage, shortage = shortage_metrics(lab, runs)
    if not effects.empty:
        effects = pd.concat([effects, paired_effects(with_shortage, shortage)], ignore_index=True)
    finances = model_results(exp_dir, runs, resolve_data_dir(data_dir))
    rule = has_rule_and_none(runs)
    kept = kept_per_euro(exp_dir, runs) if rule else None
    lost = access_lost(exp_dir, runs) if rule else None
    ref = reference_arm(runs)
    if sector is None:  # the sector whose access worsened most in the reference arm
        change = access[access["arm"] == ref].groupby(["sector", "school_year"])["minutes_to_nearest"].mean().unstack()
        sector = str((change.iloc[:, -1] - change.iloc[:, 0]).fillna(-np.inf).idxmax())

    def fill(tmp: Path) -> None:
        surv.to_csv(tmp / "survival.csv", index=False)
        closed.to_csv(tmp / "closures_by_year.csv", index=False)
        quals.to_csv(tmp / "survival_by_qualification.csv", index=False)
        effects.to_csv(tmp / "policy_effects.csv", index=False)
        finances.to_csv(tmp / "finances.csv", index=False)
        if rule:
            kept.to_csv(tmp / "coverage_effects.csv", index=False)
            lost.to_csv(tmp / "access_lost.csv", index=False)
        figures = [*plot_survival(surv, tmp), *plot_intake(edu, tmp), *plot_shortage_heatmaps(lab, tmp),
                   *plot_tightness_bands(lab, tmp)]
        forest = plot_forest(effects, tmp)
        figures += [forest] if forest else []
        figures += plot_coverage_maps(access, ref, sector, resolve_data_dir(data_dir), tmp)
        write_markdown(exp_dir, runs, closed, effects, figures, tmp, quals, kept, lost, finances)
        (tmp / INPUTS).write_text(json.dumps({"fingerprint": fingerprint}))

    atomic_folder(out, fill)
    write_summary(runs, summary_path)
    return out


SUMMARY_COLUMNS = {"run", "region", "arm", "replicate", "seed"}


def summary_is_ours(path: Path) -> bool:
    """True if ``path`` is a summary mbo-sim wrote: a parquet file marked ``generator: mbo-sim`` in
    its metadata (or, written by version 0.1 before the mark, with the summary's columns)."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError):
        return False
    if (schema.metadata or {}).get(b"generator") == b"mbo-sim":
        return True
    return SUMMARY_COLUMNS <= set(schema.names)


def write_summary(runs: pd.DataFrame, path: Path) -> None:
    """``summary.parquet``, marked as mbo-sim's, through a temporary file (never over a file not ours)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(tmp: Path) -> None:
        table = pa.Table.from_pandas(runs, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"generator": b"mbo-sim"})
        pq.write_table(table, tmp)

    atomic_file(path, write, summary_is_ours)


def _adopt_version_01_report(out: Path) -> None:
    """Mark a report folder that version 0.1 wrote before folders were marked (``report.md`` headed
    ``# Experiment``, nothing but the report's kinds of files), so that it may be replaced."""
    if out.is_symlink() or not out.is_dir() or (out / MARKER).exists():
        return
    md = out / "report.md"
    try:
        head = md.read_text(errors="replace")[:14] if md.is_file() else ""
    except OSError:
        return
    if head == "# Experiment `" and all(f.is_file() and not f.is_symlink() and f.suffix in (".md", ".csv", ".png")
                                       for f in out.iterdir()):
        (out / MARKER).write_text(MARKER_TEXT)


def write_markdown(exp_dir: Path, runs: pd.DataFrame, closed: pd.DataFrame, effects: pd.DataFrame,
                   figures: list[Path], out: Path, quals: pd.DataFrame | None = None,
                   coverage_kept: pd.DataFrame | None = None, lost_access: pd.DataFrame | None = None,
                   finances: pd.DataFrame | None = None) -> Path:
    """Write ``report.md``: the question, headline metrics per arm, likely closures, policy effects, the
    minimal-coverage rule's kept students per euro and lost access (with both arms), the institutions'
    yearly results against the sector's accounts, figures."""
    name = exp_dir.name
    lines = [f"# Experiment `{name}`", ""]
    q = experiment_question(name)
    if q:
        lines += [q, ""]
    lines += [f"{len(runs)} runs: regions {sorted(runs['region'].unique())}, arms {list(dict.fromkeys(runs['arm']))}, "
              f"{runs['replicate'].nunique()} replications each (seeds shared across arms).", ""]
    lines += ["## Headline metrics (mean over replications)", ""]
    cols = ["closures", "programmes_open_end", "coverage_min_end", "hard_to_fill_end", "llo_trajectories",
            "policy_cost_eur"]
    table = runs.groupby(["region", "arm"])[cols].mean().round(2).reset_index()
    lines += [markdown_table(table), ""]
    lines += ["## Programmes closing by 2030, 2035, 2045", "",
              "Share of replications in which the programme has closed (or been bundled) by the end of each year; "
              "programmes closing in at least half of the replications by the horizon.", ""]
    last = f"closed_by_{MILESTONES[-1]}"
    likely = closed[closed[last] >= 0.5].sort_values(["region", "arm", last], ascending=[True, True, False])
    lines += [markdown_table(likely) if not likely.empty else "_none_", ""]
    if quals is not None:
        gone = f"gone_by_{MILESTONES[-1]}"
        lost = quals[quals[gone] >= 0.5].sort_values(["region", "arm", gone], ascending=[True, True, False])
        lines += [f"## Qualifications no longer offered in the region by {MILESTONES[-1]}", "",
                  "Share of replications in which no site of the region offers the qualification any more "
                  "(`survival_by_qualification.csv` has every qualification, with the share of its sites still "
                  "open); qualifications gone in at least half of the replications.", ""]
        lines += [markdown_table(lost[["region", "arm", "crebo", "qualification", "sector", "level",
                                       "opleidingen_start", gone]]) if not lost.empty else "_none_", ""]
    if not effects.empty:
        lines += ["## Policy effects (paired differences, 95 % CI)", "",
                  "`hard_to_fill_<sector>`: mean monthly hard-to-fill vacancies, `unmet_demand_<sector>`: unmet "
                  "demand in person-years a year, both from the fifth year of the run (2030) on.", "",
                  markdown_table(effects.round(3)), ""]
    if coverage_kept is not None and lost_access is not None:
        lines += coverage_lines(coverage_kept, lost_access, markdown_table)
    if finances is not None and len(finances) > 1:
        lines += ["## The institutions' yearly results against the sector's accounts", "",
                  "The region's own institutions' result ÷ income (funding and municipal revenue) per school year, "
                  "over institution-years and replications: 10th / 50th / 90th percentile and the share of years "
                  "with a loss; the first row is the sector's (DUO annual accounts, all mbo institutions). The "
                  "reserves these results build or spend decide how long weak opleidingen are carried "
                  "(docs/ODD.md §7.15, §7.17; `finances.csv`).", "",
                  markdown_table(finances.round(4)), ""]
    lines += ["## Figures", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-report", description=__doc__.splitlines()[0])
    ap.add_argument("experiment_dir", help="results/<experiment>")
    ap.add_argument("--sector", choices=SECTORS, default=None, help="sector of the coverage map")
    ap.add_argument("--data-dir", default=None, help="default: the data shipped with the package")
    args = ap.parse_args(argv)
    try:
        out = build(args.experiment_dir, args.sector, args.data_dir)
    except (UnsafeOutput, FileNotFoundError) as exc:
        print(f"mbo-sim-report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, permissions, ...: the temporary folder or file is already gone
        print(f"mbo-sim-report: error: could not write the report of {args.experiment_dir}: {exc}", file=sys.stderr)
        return 1
    print(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
