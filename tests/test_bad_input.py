"""The bad-input corpus: bad configuration, bad data, bad paths and damaged results, one table.

Every row of :data:`CORPUS` is an input (overrides of ``mbo-sim``, a damaged copy of the data,
an output folder in the way, a damaged results folder) with the exit code it must end in and
fragments of the message that must name the key, file or folder. Each case runs with a sentinel
user file in ``output_dir`` and checks afterwards that nothing in its temporary folder was
written, changed or deleted (damaged results are rerun or skipped, see ``expect``), that no
traceback was printed, and that a refusal of mbo-sim's own (exit 2) is one line.

Most cases run the command in this process (``sim.cli.main`` with a patched ``sys.argv``, about
0.1 s each); the cases marked ``proc`` run it as a subprocess, as a user does, to show that the
command itself behaves the same. Hydra's own composition errors (unknown keys, wrong types, group
options that do not exist) exit 1 in Hydra's words, which name the key.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA_DIR, run_cli

from sim.config import ConfigError
from sim.hydra_config import compose
from sim.io.loaders import FILES, DataError, load_region

FAST = ["years=1", "scale=0.02", "progress=false", "write_plots=false"]
SENTINEL = "my-notes.txt"
SENTINEL_TEXT = "a user's own file: must survive every bad input\n"


# --- damaging a copy of the data -----------------------------------------------------------------
def _read(d: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(d / name, comment="#", skipinitialspace=True, dtype=str, keep_default_na=False)


def _row(df: pd.DataFrame) -> int:
    """The first row of Zeeland (the region the corpus runs), or the first row of a file without regions."""
    if "region" not in df.columns:
        return int(df.index[0])
    return int(df.index[df["region"].str.lower() == "zeeland"][0])


def missing(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).unlink()


def empty(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).write_text("")


def header_only(name: str) -> Callable[[Path], None]:
    return lambda d: _read(d, name).iloc[:0].to_csv(d / name, index=False)


def drop_column(name: str, col: str) -> Callable[[Path], None]:
    return lambda d: _read(d, name).drop(columns=[col]).to_csv(d / name, index=False)


def set_cell(name: str, col: str, value: str) -> Callable[[Path], None]:
    def corrupt(d: Path) -> None:
        df = _read(d, name)
        df.loc[_row(df), col] = value
        df.to_csv(d / name, index=False)

    return corrupt


def drop_pair(name: str, origin: str, destination: str) -> Callable[[Path], None]:
    """Remove every row of ``origin`` -> ``destination`` from a travel table."""
    def corrupt(d: Path) -> None:
        df = _read(d, name)
        df[(df["origin"] != origin) | (df["destination"] != destination)].to_csv(d / name, index=False)

    return corrupt


def duplicate_row(name: str) -> Callable[[Path], None]:
    def corrupt(d: Path) -> None:
        df = _read(d, name)
        pd.concat([df, df.loc[[_row(df)]]]).to_csv(d / name, index=False)

    return corrupt


def drop_row(name: str, col: str, value: str) -> Callable[[Path], None]:
    def corrupt(d: Path) -> None:
        df = _read(d, name)
        df[df[col] != value].to_csv(d / name, index=False)

    return corrupt


MUNI, POP, INST, EMP, SECT, EXT = (FILES[k] for k in ("municipalities", "population", "institutions", "employment",
                                                       "sectors", "external_sites"))


# --- paths in the way ----------------------------------------------------------------------------
def out_is_a_file(tmp: Path) -> None:
    (tmp / "out-file").write_text("not a folder")


def out_read_only(tmp: Path) -> None:
    (tmp / "ro").mkdir()
    (tmp / "ro" / "keep.txt").write_text("kept")
    (tmp / "ro").chmod(0o555)


# --- damaged results -----------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]  # the command's arguments; {out}, {data}, {tmp} are filled in
    code: int  # the exit code
    needles: tuple[str, ...]  # fragments the output must contain ({out}, {tmp} filled in)
    data: Callable[[Path], None] | None = None  # damages a copy of the data folder (then data_dir={data})
    prepare: Callable[[Path], None] | None = None  # puts something in the way in {tmp}
    damage: str | None = None  # resume / report: the results file to truncate ("manifest.json", ...)
    command: str = "mbo-sim"  # or "mbo-sim-report"
    proc: bool = False  # run as a subprocess
    extra: dict = field(default_factory=dict)


def case(id: str, args: list[str] | str, code: int, *needles: str, **kw) -> pytest.param:
    args = args.split() if isinstance(args, str) else args
    marks = kw.pop("marks", ())
    return pytest.param(Case(tuple(args), code, tuple(needles), **kw), id=id, marks=marks)


LONG = "r" * 201
CORPUS = [
    # typos in keys and group options (Hydra: exit 1, naming the key or option)
    case("key-typo", "model.labour.layof_rate=0.1", 1, "layof_rate"),
    case("key-unknown", "foo=1", 1, "foo", proc=True),
    case("key-unknown-nested", "model.foo=1", 1, "foo"),
    case("key-unknown-appended", "+model.labour.foo=1", 2, "model.labour.foo"),
    case("group-region-typo", "region=zeelnd", 1, "region/zeelnd"),
    case("group-region-missing", "region=utrecht", 1, "region/utrecht"),
    case("group-demography-typo", "demography=strong", 1, "demography/strong"),
    case("group-policy-typo", "policy=ppss", 1, "policy/ppss"),
    case("group-policy-in-list-typo", "policy=[pps,nosuch]", 1, "policy/nosuch"),
    case("region-name-unknown", "region.name=utrecht", 2, "region.name", "utrecht"),
    # wrong types
    case("type-seed", "seed=abc", 1, "seed"),
    case("type-scale", "scale=high", 1, "scale"),
    case("type-years-float", "years=1.5", 1, "years"),
    case("type-bool", "write_plots=maybe", 1, "write_plots"),
    case("type-list-length", "model.education.dropout_rate=[0.1,0.1]", 2, "model.education.dropout_rate"),
    # out of range: rates, shares, years, scales
    case("rate-above-1", "model.labour.layoff_rate=1.5", 2, "model.labour.layoff_rate", proc=True),
    case("rate-region-above-1", "region.unemployment_rate=2", 2, "region.unemployment_rate"),
    case("share-below-0", "model.education.mbo_share=-0.1", 2, "model.education.mbo_share"),
    case("share-llo-reach", "model.llo.reach=2", 2, "model.llo.reach"),
    case("travel-mode-unknown", "model.travel.mode=bus", 2, "model.travel.mode", "straight_line"),
    case("growth-out-of-range", "economy.sector_growth.care=0.5", 2, "economy.sector_growth.care"),
    case("years-0", "years=0", 2, "years"),
    case("years-100", "years=100", 2, "years"),
    case("start-year-1990", "start_year=1990", 2, "start_year"),
    case("scale-0", "scale=0", 2, "scale"),
    case("scale-negative", "scale=-1", 2, "scale"),
    case("scale-above-1", "scale=2", 2, "scale"),
    case("seed-negative", "seed=-1", 2, "seed"),
    case("lever-share-above-1", "policy=minimal_coverage policy.minimal_coverage.share=1.5", 2,
         "policy.minimal_coverage.share"),
    case("lever-reduction-above-1", "policy=pps policy.pps.threshold_reduction=2", 2,
         "policy.pps.threshold_reduction"),
    # levers: listed twice, parameters without the lever, unknown sectors in a lever's map
    case("lever-twice", "policy=[pps,pps]", 2, "policy=[pps,pps]", "twice"),
    case("lever-param-without-lever", "policy.minimal_coverage.share=0.5", 2, "policy.minimal_coverage.share",
         "policy=minimal_coverage"),
    case("lever-map-param-without-lever", "policy.pps.organised.care=0.5", 2, "policy.pps.organised.care",
         "policy=pps"),
    case("lever-map-unknown-sector", "policy=pps +policy.pps.organised.mining=0.5", 2, "policy.pps.organised",
         "mining"),
    case("economy-unknown-sector", "economy.sector_growth.mining=0.01", 1, "economy.sector_growth.mining"),
    # a malformed experiment override
    case("experiment-unknown", "+experiment=nosuch", 1, "experiment/nosuch"),
    case("experiment-reps-0", "-m +experiment=pps reps=0", 2, "reps=0"),
    case("experiment-reps-x", "-m +experiment=pps reps=x", 2, "reps=x"),
    case("experiment-reps-negative", "-m +experiment=pps reps=-2", 2, "reps=-2"),
    # unsafe run names
    case("run-name-dot", "run_name=.", 2, "run_name"),
    case("run-name-dotdot", "run_name=..", 2, "run_name"),
    case("run-name-up", "run_name=../x", 2, "run_name", "'../x'", proc=True),
    case("run-name-absolute", "run_name=/abs/x", 2, "run_name", "'/abs/x'"),
    case("run-name-hidden", "run_name=.hidden", 2, "run_name", "'.hidden'"),
    case("run-name-empty", "run_name=", 2, "run_name"),
    case("run-name-201-chars", f"run_name={LONG}", 2, "run_name", "201"),
    case("run-name-control-char", ["run_name=a\x01b"], 1, "run_name"),
    # data_dir and output_dir
    case("data-dir-missing", "data_dir={tmp}/nowhere", 2, "data_dir", "{tmp}/nowhere", "does not exist", proc=True),
    case("data-dir-is-a-file", "data_dir={tmp}/" + SENTINEL, 2, "data_dir", "is not a folder"),
    case("output-dir-is-a-file", "output_dir={tmp}/out-file", 1, "{tmp}/out-file", prepare=out_is_a_file),
    case("output-dir-under-a-file", "output_dir={tmp}/out-file/sub", 1, "{tmp}/out-file",
         prepare=out_is_a_file),
    case("output-dir-not-writable", "output_dir={tmp}/ro/runs", 1, "{tmp}/ro", "Permission denied",
         prepare=out_read_only),
    # data files: missing, empty, a missing column, a non-numeric cell, negative counts, unknown codes
    case("data-municipalities-missing", [], 2, MUNI, "not found", data=missing(MUNI)),
    case("data-municipalities-empty", [], 2, MUNI, "is empty", data=empty(MUNI)),
    case("data-municipalities-header-only", [], 2, MUNI, "no data rows", data=header_only(MUNI)),
    case("data-municipalities-no-column", [], 2, MUNI, "centre_lat", data=drop_column(MUNI, "centre_lat")),
    case("data-municipalities-non-numeric", [], 2, MUNI, "population_2024", "'lots'",
         data=set_cell(MUNI, "population_2024", "lots")),
    case("data-municipalities-negative", [], 2, MUNI, "population_2024", data=set_cell(MUNI, "population_2024", "-5")),
    case("data-municipalities-unknown-region", [], 2, MUNI, "Zeelnd", data=set_cell(MUNI, "region", "Zeelnd")),
    case("data-municipalities-duplicate", [], 2, MUNI, "duplicate", "gm_code", data=duplicate_row(MUNI)),
    case("data-population-missing", [], 2, POP, data=missing(POP)),
    case("data-population-empty", [], 2, POP, "is empty", data=empty(POP)),
    case("data-population-no-column", [], 2, POP, "persons", data=drop_column(POP, "persons")),
    case("data-population-non-numeric", [], 2, POP, "persons", "'12x'", data=set_cell(POP, "persons", "12x")),
    case("data-population-negative", [], 2, POP, "persons", data=set_cell(POP, "persons", "-3")),
    case("data-population-fraction", [], 2, POP, "persons", "whole number", data=set_cell(POP, "persons", "12.5")),
    case("data-population-infinite", [], 2, POP, "persons", data=set_cell(POP, "persons", "inf")),
    case("data-population-unknown-municipality", [], 2, POP, "GM9999", data=set_cell(POP, "gm_code", "GM9999")),
    case("data-population-unknown-region", [], 2, POP, "Zeelnd", data=set_cell(POP, "region", "Zeelnd")),
    case("data-population-unknown-age-band", [], 2, POP, "100-104", data=set_cell(POP, "age_band", "100-104")),
    case("data-population-duplicate", [], 2, POP, "duplicate", data=duplicate_row(POP)),
    case("data-institutions-missing", [], 2, INST, data=missing(INST), proc=True),
    case("data-institutions-empty", [], 2, INST, "is empty", data=empty(INST)),
    case("data-institutions-no-column", [], 2, INST, "bbl_share", data=drop_column(INST, "bbl_share")),
    case("data-institutions-non-numeric", [], 2, INST, "students_base",
         data=set_cell(INST, "students_base", "many")),
    case("data-institutions-negative", [], 2, INST, "students_base", data=set_cell(INST, "students_base", "-10")),
    case("data-institutions-not-bool", [], 2, INST, "in_region", "'yes'", data=set_cell(INST, "in_region", "yes")),
    case("data-institutions-levels", [], 2, INST, "min_level", data=set_cell(INST, "min_level", "7")),
    case("data-institutions-unknown-site", [], 2, INST, "Atlantis", data=set_cell(INST, "site", "Atlantis")),
    case("data-institutions-unknown-sector", [], 2, INST, "mining", data=set_cell(INST, "sector", "mining")),
    case("data-institutions-unknown-region", [], 2, INST, "zeelnd", data=set_cell(INST, "region", "zeelnd")),
    case("data-employment-missing", [], 2, EMP, data=missing(EMP)),
    case("data-employment-empty", [], 2, EMP, "is empty", data=empty(EMP)),
    case("data-employment-no-column", [], 2, EMP, "share", data=drop_column(EMP, "share")),
    case("data-employment-non-numeric", [], 2, EMP, "share", data=set_cell(EMP, "share", "high")),
    case("data-employment-negative", [], 2, EMP, "share", data=set_cell(EMP, "share", "-0.1")),
    case("data-employment-unknown-sector", [], 2, EMP, "mining", data=set_cell(EMP, "sector", "mining")),
    case("data-employment-unknown-region", [], 2, EMP, "zeelnd", data=set_cell(EMP, "region", "zeelnd")),
    case("data-employment-duplicate", [], 2, EMP, "duplicate", data=duplicate_row(EMP)),
    # travel, the ring and the study flows (issue 12)
    case("data-travel-missing", [], 2, FILES["travel"], "not found", data=missing(FILES["travel"])),
    case("data-travel-pair-missing", [], 2, FILES["travel"], "Sluis", "Vlissingen",
         data=drop_pair(FILES["travel"], "Sluis", "Vlissingen")),
    case("data-travel-negative", [], 2, FILES["travel"], "minutes", data=set_cell(FILES["travel"], "minutes", "-3")),
    case("data-travel-unknown-mode", [], 2, FILES["travel"], "boat", data=set_cell(FILES["travel"], "mode", "boat")),
    case("data-ring-population-band", [], 2, FILES["ring_population"], "100-104",
         data=set_cell(FILES["ring_population"], "age_band", "100-104")),
    case("data-flows-above-1", [], 2, FILES["flows"], "[0, 1]", data=set_cell(FILES["flows"], "value", "1.5")),
    # the labour market's files (issues 13, 16)
    case("data-field-mobility-sector", [], 2, FILES["field_mobility"], "mining",
         data=set_cell(FILES["field_mobility"], "sector", "mining")),
    case("data-field-mobility-sum", [], 2, FILES["field_mobility"], "sum to",
         data=set_cell(FILES["field_mobility"], "weight", "3")),
    case("data-vacancy-rate-zero", [], 2, FILES["vacancy_rates"], "vacancies_per_100_jobs",
         data=set_cell(FILES["vacancy_rates"], "vacancies_per_100_jobs", "0")),
    case("data-cross-border-direction", [], 2, FILES["cross_border"], "sideways",
         data=set_cell(FILES["cross_border"], "direction", "sideways")),
    case("data-cross-border-negative", [], 2, FILES["cross_border"], "workers",
         data=set_cell(FILES["cross_border"], "workers", "-5")),
    case("data-labour-migration-region", [], 2, FILES["labour_migration"], "friesland",
         data=set_cell(FILES["labour_migration"], "region", "friesland")),
    case("data-border-municipality", [], 2, FILES["border"], "Utrecht",
         data=set_cell(FILES["border"], "municipality", "Utrecht")),
    case("adaptation-rate-above-1", "model.labour.adaptation_rate.care=1.5", 2, "model.labour.adaptation_rate.care",
         "[0, 1]"),
    case("vacancy-profile-factor-zero", "model.labour.vacancy_profile_factor.green=0", 2,
         "model.labour.vacancy_profile_factor.green", "> 0"),
    case("graduate-entry-months-zero", "model.labour.graduate_entry_months=0", 2,
         "model.labour.graduate_entry_months"),
    case("elasticity-negative", "model.labour.cross_border_elasticity=-1", 2, "model.labour.cross_border_elasticity"),
    case("data-sectors-missing", [], 2, SECT, data=missing(SECT)),
    case("data-sectors-empty", [], 2, SECT, "is empty", data=empty(SECT)),
    case("data-sectors-no-column", [], 2, SECT, "national_employment_share",
         data=drop_column(SECT, "national_employment_share")),
    case("data-sectors-non-numeric", [], 2, SECT, "national_employment_share",
         data=set_cell(SECT, "national_employment_share", "x")),
    case("data-sectors-negative", [], 2, SECT, "national_employment_share",
         data=set_cell(SECT, "national_employment_share", "-1")),
    case("data-sectors-unknown-sector", [], 2, SECT, "mining", data=set_cell(SECT, "sector", "mining")),
    case("data-sectors-sector-missing", [], 2, SECT, "ict", data=drop_row(SECT, "sector", "ict")),
    case("data-external-sites-missing", [], 2, EXT, data=missing(EXT)),
    case("data-external-sites-empty", [], 2, EXT, "is empty", data=empty(EXT)),
    case("data-external-sites-no-column", [], 2, EXT, "centre_lon", data=drop_column(EXT, "centre_lon")),
    case("data-external-sites-non-numeric", [], 2, EXT, "centre_lat", data=set_cell(EXT, "centre_lat", "north")),
    case("data-external-sites-negative", [], 2, EXT, "centre_lat", data=set_cell(EXT, "centre_lat", "-51.2")),
    # damaged results: resume reruns the run; the report skips it and names it
    case("resume-truncated-manifest", "run_name=r", 0, "results: {out}/r", damage="manifest.json"),
    case("resume-truncated-parquet", "run_name=r", 0, "results: {out}/r", damage="labour.parquet"),
    case("resume-missing-parquet", "run_name=r", 0, "results: {out}/r", damage="-access.parquet"),
    case("report-truncated-manifest", "{exp}", 0, "skipping run", "{exp}/runs/none-1", "manifest.json",
         damage="manifest.json", command="mbo-sim-report"),
    case("report-truncated-parquet", "{exp}", 0, "skipping run", "{exp}/runs/none-1", "labour.parquet",
         damage="labour.parquet", command="mbo-sim-report"),
]


# --- running a case --------------------------------------------------------------------------------
def run_in_process(main: Callable[[], object], argv: list[str]) -> tuple[int, str]:
    """Run a command's ``main`` here, as ``sys.argv`` = argv; returns (exit code, stdout + stderr)."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    buf = io.StringIO()
    old_argv, old_term = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = argv
    code = 0
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                ret = main()
                code = ret if isinstance(ret, int) else 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
        signal.signal(signal.SIGTERM, old_term)
        GlobalHydra.instance().clear()
    return code, buf.getvalue()


def mbo_sim(args: list[str], proc: bool = False) -> tuple[int, str]:
    if proc:
        res = run_cli(args)
        return res.returncode, res.stdout + res.stderr
    import sim.cli

    return run_in_process(sim.cli.main, ["mbo-sim", *args])


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``root``."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(root.rglob("*")) if not p.is_symlink()}


def fill(text: str, tmp: Path, out: Path, data: Path, exp: Path | None) -> str:
    return text.format(tmp=tmp, out=out, data=data, exp=exp)


@pytest.mark.parametrize("c", CORPUS)
def test_bad_input(c: Case, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)  # anything written relative to the working directory lands here
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    out = tmp_path / "out"
    out.mkdir()
    (out / SENTINEL).write_text(SENTINEL_TEXT)
    (tmp_path / SENTINEL).write_text(SENTINEL_TEXT)
    data = DATA_DIR
    if c.data is not None:
        data = Path(shutil.copytree(DATA_DIR, tmp_path / "data"))
        c.data(data)
    if c.prepare is not None:
        c.prepare(tmp_path)
        if c.prepare is out_read_only and os.geteuid() == 0:  # root writes anywhere: refuse as the kernel would
            _refuse_writes_under(monkeypatch, tmp_path / "ro")
    exp = None
    if c.command == "mbo-sim-report":  # figures skipped: the subject is which runs the report reads
        request.getfixturevalue("no_report_figures")
        exp = Path(shutil.copytree(request.getfixturevalue("tiny_experiment"), tmp_path / "exp"))
        _truncate(exp / "runs" / "none-1" / c.damage)
    args = [fill(a, tmp_path, out, data, exp) for a in c.args]
    if c.command == "mbo-sim":
        flags = [a for a in args if a.startswith("-")]
        args = [*flags, *FAST, f"output_dir={out}", f"data_dir={data}", *(a for a in args if a not in flags)]
    if c.damage and c.command == "mbo-sim":  # a complete run, then damaged: resume must redo it
        _complete_then_damage(args, out / "r", c.damage)
    before = snapshot(tmp_path)

    if c.command == "mbo-sim-report":
        from sim.analysis.report import main as report_main

        code, text = run_in_process(lambda: report_main(args), ["mbo-sim-report", *args])
    else:
        code, text = mbo_sim(args, proc=c.proc)

    assert code == c.code, f"exit {code}, expected {c.code}; output:\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    for needle in c.needles:
        needle = fill(needle, tmp_path, out, data, exp)
        assert needle in text, f"{needle!r} not named in the output:\n{text[-3000:]}"
    if c.code == 2 and c.command == "mbo-sim":  # mbo-sim's own refusal: one line
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("mbo-sim: error: "), text
    assert (out / SENTINEL).read_text() == SENTINEL_TEXT
    after = snapshot(tmp_path)
    if c.damage and c.command == "mbo-sim":
        _check_rerun(before, after, out / "r")
    elif c.damage:
        _check_report_skipped(before, after, exp)
    else:
        assert after == before, f"written or changed: {sorted(set(after) ^ set(before))[:10]}"


def _refuse_writes_under(monkeypatch, folder: Path) -> None:
    real = os.mkdir

    def mkdir(path, *a, **kw):
        if Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve()):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(os, "mkdir", mkdir)


def _complete_then_damage(args: list[str], run_dir: Path, damage: str) -> None:
    from sim.hydra_config import compose as compose_cfg
    from sim.io.writer import is_complete

    code, text = mbo_sim(args)
    assert code == 0, text
    cfg = compose_cfg([a for a in args if not a.startswith("-")])
    assert is_complete(run_dir, cfg)
    if damage.startswith("-"):
        (run_dir / damage[1:]).unlink()
    else:
        _truncate(run_dir / damage)
    assert not is_complete(run_dir, cfg)


def _check_rerun(before: dict, after: dict, run_dir: Path) -> None:
    from sim.io.writer import damage

    assert damage(run_dir) is None  # replaced by a complete run
    prefix = str(run_dir.relative_to(run_dir.parent.parent)) + "/"
    assert {k for k in after if not k.startswith(prefix)} == {k for k in before if not k.startswith(prefix)}
    assert not [k for k in after if ".tmp-" in k or ".old-" in k]


def _check_report_skipped(before: dict, after: dict, exp: Path) -> None:
    new = sorted(set(after) - set(before))
    assert new and all(k.startswith(("exp/report", "exp/summary.parquet")) for k in new), new
    assert all(after[k] == v for k, v in before.items())  # nothing changed or deleted
    summary = pd.read_parquet(exp / "summary.parquet")
    assert sorted(summary["run"]) == ["none-0", "pps-0"]
    assert "2 runs" in (exp / "report" / "report.md").read_text()


def test_corpus_size():
    assert len(CORPUS) >= 40
    assert sum(p.values[0].proc for p in CORPUS) >= 5


# --- good input: the same command runs --------------------------------------------------------------
def test_cli_control_good_input_runs(tmp_path):
    """The control: the command with good input writes a results folder, so the refusals above are
    about the input, not a broken command. An output_dir that does not exist yet is created."""
    out = tmp_path / "new" / "out"
    res = run_cli([*FAST, "scale=0.01", f"output_dir={out}", f"data_dir={DATA_DIR}", "run_name=ok"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "ok" / "manifest.json").is_file()
    assert [p.name for p in out.iterdir()] == ["ok"]  # no temporary folder left beside it


# --- the API --------------------------------------------------------------------------------------
API_CASES = [
    pytest.param(["foo=1"], "foo", id="unknown-key"),
    pytest.param(["+model.labour.foo=1"], "foo", id="unknown-key-appended"),
    pytest.param(["model.foo=1"], "foo", id="unknown-nested-key"),
    pytest.param(["seed=abc"], "seed", id="seed-not-int"),
    pytest.param(["model.labour.layoff_rate=1.5"], "model.labour.layoff_rate", id="rate-above-1"),
    pytest.param(["years=0"], "years", id="years-0"),
    pytest.param(["region=utrecht"], "region", id="region-group-missing"),
    pytest.param(["economy.sector_growth.mining=0.01"], "mining", id="unknown-sector"),
    pytest.param(["reps=0"], "reps", id="reps-0"),
    pytest.param(["model.institutions.funding_count_lag_years=-1"], "model.institutions.funding_count_lag_years",
                 id="funding-lag-negative"),
    pytest.param(["model.institutions.funding_count_lag_years=1.5"], "funding_count_lag_years",
                 id="funding-lag-not-whole"),
    pytest.param(["model.education.havo_shift_per_year=-0.01"], "model.education.havo_shift_per_year",
                 id="havo-shift-negative"),
    pytest.param(["model.institutions.housing_cost_fall_per_year=1.5"],
                 "model.institutions.housing_cost_fall_per_year", id="housing-fall-above-1"),
    pytest.param(["model.institutions.staff_cost_share=0.9", "model.institutions.housing_cost_share=0.2"],
                 "model.institutions.staff_cost_share + housing_cost_share", id="sticky-shares-above-1"),
]


@pytest.mark.parametrize(("bad", "key"), API_CASES)
def test_compose_raises_config_error(bad, key):
    with pytest.raises(ConfigError) as err:
        compose(bad)
    assert key in str(err.value)


def test_compose_accepts_good_overrides():
    cfg = compose(["scale=0.5", "model.labour.layoff_rate=0.01", "region=achterhoek"])
    assert cfg.scale == 0.5
    assert cfg.model.labour.layoff_rate == 0.01
    assert cfg.region.name == "achterhoek"


DATA_CASES = [p for p in CORPUS if p.values[0].data is not None]


@pytest.mark.parametrize("c", DATA_CASES)
def test_load_region_raises_data_error(tmp_path, c: Case):
    data = Path(shutil.copytree(DATA_DIR, tmp_path / "data"))
    c.data(data)
    with pytest.raises(DataError) as err:
        load_region("zeeland", data)
    assert len(str(err.value).splitlines()) == 1
    for needle in c.needles:
        assert needle in str(err.value)


def test_load_region_good_copy_loads(tmp_path):
    data = Path(shutil.copytree(DATA_DIR, tmp_path / "data"))
    assert len(load_region("zeeland", data).municipality_names) == 13
    for region in ("achterhoek", "zuid_limburg"):
        assert load_region(region, data).population_bands.sum() > 0


# --- a failure while writing leaves nothing ------------------------------------------------------
def test_write_run_is_all_or_nothing(tmp_path, zeeland_frames):
    from sim.io.writer import write_run

    frames = dict(zeeland_frames)
    del frames["municipalities"]  # the last table: the others are written before it fails
    out = tmp_path / "runs" / "broken"
    with pytest.raises(KeyError):
        write_run(out, frames, {"x": 1}, {"run_name": "broken"}, plot=False)
    assert not out.exists()
    assert list((tmp_path / "runs").iterdir()) == []


def test_damage_names_what_is_wrong(tmp_path, zeeland_frames):
    from sim.io.writer import damage, write_run

    out = tmp_path / "r"
    write_run(out, zeeland_frames, {"x": 1}, {"run_name": "r"}, plot=False)
    assert damage(out) is None
    (out / "summary.json").write_text("{")
    assert "summary.json" in damage(out)
    (out / "manifest.json").write_text(json.dumps({"status": "running"}))
    assert "complete" in damage(out)
