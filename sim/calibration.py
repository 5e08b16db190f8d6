"""Base-year calibration: model vs source for every calibrated figure, and the fit behind it.

    mbo-sim-calibrate                    # check all regions with the fitted values, write the table
    mbo-sim-calibrate --fit              # refit, write configs/calibration/<region>.yaml, then check

Procedure. The base year is the first simulated year (January–December of start_year, with the
September intake). Per region, two rounds of:

1. the choice fit (:mod:`sim.choice_calibration`): one constant per programme for school leavers
   (and per BBL programme for adults) so that the expected September intake of every programme
   equals its base-year intake — its base-year students ÷ the study years an intake survives
   (stock–flow consistent); their level carries the participation (the choice to enrol in mbo at
   all), so the participation constant c_mbo stays 0. Sector constants are then redundant and set
   to 0;
2. Nelder–Mead (scipy.optimize) on three parameters with those constants, on the sum of squared
   gaps of three targets, with common random numbers (seeds 1–2):

   - ``model.education.adult_bbl_rate`` → the BBL share of the October enrolment
   - ``model.labour.initial_vacancy_rate`` → vacancies per unemployed job seeker, base-year mean
     (CBS: 105–143 vacancies per 100 unemployed nationally in Q4 2021–Q3 2022; target 1.24)
   - ``model.labour.matching_efficiency`` → a steady base year: unemployment in December equal to
     January (absolute gap)

and a last choice fit with the final values. Before each Nelder–Mead run and ``PROFILE_STEPS``
times after the last, the regional vacancy profile (``model.labour.vacancy_profile_factor``,
:func:`profile_factors`): the base-year vacancy rate per sector starts from CBS's national profile
by industry; the factors move it, as little as possible and by at most ×/÷ ``PROFILE_CAP``, so
that each sector's UWV indicator (vacancies per short WW benefit) lies in the class UWV gives for
the region (``data/uwv_tightness_targets.csv``), keeping the region's vacancies in total.

The enrolment target of the check table is the institutions' enrolment in its source year (region
config ``enrolment_source_year``) carried to the start year in proportion to the 16-22-year-olds;
the model's base-year students are the institutions' figures as they are (not carried).

Figures that hold by construction (population by age band, employment by sector, sector split
of the initial students) are reported too, so that the table covers every calibrated figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import minimize

from sim.choice_calibration import ChoiceFit, fit_programme_constants
from sim.codes import N_SECTORS, SECTORS, Status
from sim.cohorts import spread_bands
from sim.hydra_config import CONFIG_DIR, compose
from sim.io.loaders import PACKAGE_DATA_DIR, DataError, load_region
from sim.io.safe import UnsafeOutput, atomic_file, atomic_folder, check_file_replaceable, check_replaceable
from sim.io.writer import markdown_table
from sim.model import RegionModel
from sim.processes.demography import DATA_YEAR
from sim.regions import REGIONS
from sim.results import UWV_CLASSES, class_matches, target_classes, uwv_class

FITTED = ("model.education.adult_bbl_rate", "model.labour.matching_efficiency", "model.labour.initial_vacancy_rate")
# plausible ranges: about half of a cohort goes to mbo nationally (OCW), regions differ with their
# vmbo share; a fit that ends on a bound is reported as such (the figure cannot be matched)
BOUNDS = ((0.0, 0.05), (0.02, 4.0), (0.005, 0.15))
# target -> relative (True) or absolute (False) gap in the loss
LOSS_TERMS = {"bbl_share": True, "tightness": True, "unemployment_drift": False}
TIGHTNESS_TARGET = 1.24  # CBS: mean of 105, 133, 143, 121 vacancies per 100 unemployed (Q4 2021–Q3 2022)
TOLERANCE = 0.05
# the regional vacancy profile (``model.labour.vacancy_profile_factor``): a sector's base-year vacancy
# rate may differ from CBS's national profile by at most PROFILE_CAP either way (assumption: regional
# vacancy rates by industry are not published; UWV's regional classes are by occupation), and the fit
# aims CLASS_MARGIN inside the sourced class band so that seeds do not push it across a bound
PROFILE_CAP = 1.5
CLASS_MARGIN = 1.05
PROFILE_STEPS = 2  # profile steps after the last Nelder–Mead (the indicator moves about in proportion)


def base_year(region: str, overrides: list[str], scale: float, seed: int, education: dict | None = None) -> dict:
    """Run the base year and measure every calibrated figure (real persons); ``education`` sets
    fields of ``model.education`` that overrides cannot carry (the per-programme constants)."""
    cfg = compose([f"region={region}", f"scale={scale}", f"seed={seed}", "years=1", "progress=false",
                   *overrides])
    for key, value in (education or {}).items():
        setattr(cfg.model.education, key, value)
    model = RegionModel(cfg, load_region(region, cfg.data_dir))
    k = 1 / scale
    pop_start = model.demography.band_labels, _band_counts(model) * k
    model.run()
    edu, p = model.education, model.education.programmes
    inside = p.in_region
    enrolled = np.where(inside, edu.enrolled[0], 0) * k  # the region's own sites (residents and ring)
    total = enrolled.sum()
    ring = edu.ring.enrolled().sum() * k
    residents_outside = edu.enrolled[0][~inside].sum() * k
    lab = model.results.arrays  # measures by name (month × sector for the labour ones)
    emp = lab["employed"].mean(0)
    vac, seek, short = lab["vacancies"].mean(0), lab["job_seekers"].mean(0), lab["ww_short"].mean(0)
    intake = np.where(inside, edu.intake[0], 0)
    unemployed = model.demography.status_counts[:, Status.UNEMPLOYED]
    employed = model.demography.status_counts[:, Status.EMPLOYED]
    return {
        "unemployment_rate": float(np.mean(unemployed / np.maximum(unemployed + employed, 1))),
        "unemployment_drift": unemployed[-1] / max(unemployed[0], 1) - 1,
        "enrolment_total": total,
        "intake_by_sector": np.bincount(p.sector, weights=intake, minlength=N_SECTORS) / max(intake.sum(), 1),
        "bbl_share": enrolled[p.route == 1].sum() / max(total, 1),
        "enrolment_by_sector": np.bincount(p.sector, weights=enrolled, minlength=N_SECTORS) / max(total, 1),
        "employment_by_sector": emp / emp.sum(),
        "tightness": vac.sum() / max(seek.sum(), 1),
        "participation": float(edu.participation[0]),
        "outflow_share": residents_outside / max(residents_outside + total - ring, 1),
        "inflow_share": ring / max(total, 1),
        "uwv_tightness_by_sector": vac / np.maximum(short, 1e-9),
        "vacancies_by_sector": vac,
        "population_by_band": pop_start,
        "model": model,
    }


def base_year_mean(region: str, overrides: list[str], scale: float, seeds: tuple[int, ...],
                   education: dict | None = None) -> dict:
    """``base_year`` averaged over seeds (the figures of one run carry sampling noise)."""
    results = [base_year(region, overrides, scale, s, education) for s in seeds]
    out = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, float | np.floating | np.ndarray) and not isinstance(value, tuple):
            out[key] = np.mean([r[key] for r in results], axis=0)
    return out


def _band_counts(model: RegionModel) -> np.ndarray:
    band = model.demography.band_of_age[model.pop.age]
    return np.bincount(band, minlength=len(model.demography.band_labels)).astype(float)


def targets(region: str, data_dir: str | None = None) -> dict:
    data = load_region(region, data_dir)
    inst = data.institutions[data.institutions["in_region"]]  # the region's own sites
    cfg = compose([f"region={region}", "scale=1"])
    # the targets do not depend on the fitted constants, which may name programmes the data no longer have
    cfg.model.education.constants_file = None
    cfg.model.education.programme_constants = {}
    cfg.model.education.adult_constants = {}
    students = inst["students_base"].sum()
    model = RegionModel(cfg, data)
    total = students * model.demography.students_factor()
    by_sector = np.zeros(N_SECTORS)
    for s, n in zip(inst["sector"], inst["students_base"], strict=True):
        by_sector[SECTORS.index(s)] += n
    p = model.education.programmes
    intake_by_sector = np.bincount(p.sector, weights=np.where(p.in_region, p.base_intake, 0), minlength=N_SECTORS)
    return {
        "enrolment_total": total,
        "intake_by_sector": intake_by_sector / intake_by_sector.sum(),
        "bbl_share": float((inst["students_base"] * inst["bbl_share"]).sum() / students),
        "enrolment_by_sector": by_sector / by_sector.sum(),
        "employment_by_sector": data.employment_shares,
        "tightness": tightness_target(region),
        "unemployment_drift": 0.0,
        "outflow_share": data.flows.get("outflow_share", 0.0),
        "inflow_share": model.education.ring.share,
        "data": data,
    }


def labour_force() -> pd.DataFrame:
    """``data/labour_force.csv`` (region, figure, value, year, source): the labour-market figures
    the calibration compares with."""
    return pd.read_csv(PACKAGE_DATA_DIR / "labour_force.csv")


def tightness_target(region: str) -> float:
    """Vacancies per unemployed in the base year: the national TIGHTNESS_TARGET times the region's
    ratio to the national figure where CBS publishes one (Zeeland: 150/120 in Q4 2022 and 162/127 in
    Q2 2023, data/labour_force.csv), else the national figure."""
    df = labour_force()
    df = df[df["figure"].str.startswith("vacancies_per_100_unemployed")]
    national = {(r.figure, r.year): r.value for r in df[df["region"] == "nl"].itertuples()}
    ratios = [r.value / national[(r.figure, r.year)] for r in df[df["region"] == region].itertuples()
              if (r.figure, r.year) in national]
    return TIGHTNESS_TARGET * (float(np.mean(ratios)) if ratios else 1.0)


def choice_education(choice: ChoiceFit) -> dict:
    """The fields of ``model.education`` that a choice fit sets (for :func:`base_year`): its constants
    only. The region's constants file, from an earlier fit, is left out: it may name programmes the
    data no longer have, and would fill in any the fit leaves out."""
    return {"constants_file": None, "participation_constant": choice.participation_constant,
            "inflow_constant": choice.inflow_constant, "programme_constants": choice.programme_constants,
            "adult_constants": choice.adult_constants, "sector_constant": dict.fromkeys(SECTORS, 0.0)}


def fit(region: str, scale: float = 1.0, seeds: tuple[int, ...] = (1, 2), maxiter: int = 80
        ) -> tuple[dict[str, float], float, ChoiceFit]:
    """Fit the parameters of ``region``; returns the values (config keys), the final loss and the
    last choice fit.

    Two rounds of: the choice fit (programme constants of school leavers and adults, whose level
    carries the participation, :mod:`sim.choice_calibration`), then Nelder–Mead on the labour-market parameters
    and the adult BBL rate with those constants."""
    tgt = targets(region)
    choice = None

    def fitted() -> dict:
        return {} if choice is None else choice_education(choice)

    def loss(x: np.ndarray, factor: np.ndarray) -> float:
        x = np.clip(x, [b[0] for b in BOUNDS], [b[1] for b in BOUNDS])
        res = base_year_mean(region, _overrides(x, factor), scale, seeds, fitted())
        return float(sum(((res[k] - tgt[k]) / (tgt[k] if rel else 1.0)) ** 2 for k, rel in LOSS_TERMS.items()))

    cfg = compose([f"region={region}"])
    x = np.array([cfg.model.education.adult_bbl_rate, cfg.model.labour.matching_efficiency,
                  cfg.model.labour.initial_vacancy_rate])
    factor = np.ones(N_SECTORS)
    bands = [class_band(uwv_targets(region)[s][0]) for s in SECTORS]
    best = None
    for _round in range(2):
        choice = fit_programme_constants(region, _overrides(x, factor), seeds)
        res = base_year_mean(region, _overrides(x, factor), scale, seeds, fitted())
        factor = profile_factors(factor, res["uwv_tightness_by_sector"], res["vacancies_by_sector"], bands)
        best = minimize(loss, x, args=(factor,), method="Nelder-Mead",
                        options={"maxiter": maxiter, "xatol": 1e-3, "fatol": 1e-5, "initial_simplex": _simplex(x)})
        x = np.clip(best.x, [b[0] for b in BOUNDS], [b[1] for b in BOUNDS])
    for _step in range(PROFILE_STEPS):  # the last Nelder–Mead moved the indicators: the profile once more
        res = base_year_mean(region, _overrides(x, factor), scale, seeds, fitted())
        factor = profile_factors(factor, res["uwv_tightness_by_sector"], res["vacancies_by_sector"], bands)
    choice = fit_programme_constants(region, _overrides(x, factor), seeds)
    values = dict(zip(FITTED, (float(v) for v in x), strict=True))
    values.update({f"model.labour.vacancy_profile_factor.{s}": float(f) for s, f in zip(SECTORS, factor, strict=True)})
    values["model.education.participation_constant"] = choice.participation_constant
    values["model.education.inflow_constant"] = choice.inflow_constant
    values.update({f"model.education.sector_constant.{s}": 0.0 for s in SECTORS})
    values.update({f"model.education.programme_constants.{k}": v for k, v in choice.programme_constants.items()})
    values.update({f"model.education.adult_constants.{k}": v for k, v in choice.adult_constants.items()})
    return values, float(best.fun), choice


def _overrides(x: np.ndarray, factor: np.ndarray | None = None) -> list[str]:
    out = [f"{k}={v:.6g}" for k, v in zip(FITTED, x, strict=True)]
    if factor is not None:
        out += [f"model.labour.vacancy_profile_factor.{s}={f:.6g}" for s, f in zip(SECTORS, factor, strict=True)]
    return out


def class_band(target: str) -> tuple[float, float]:
    """The interval of the UWV indicator that a target class of ``data/uwv_tightness_targets.csv``
    allows (alternatives such as "tight or very tight": their union)."""
    names = target_classes(target)
    lower = (0.0, *(b for b, _ in UWV_CLASSES[:-1]))
    spans = [(lo, hi) for lo, (hi, name) in zip(lower, UWV_CLASSES, strict=True) if name in names]
    if not spans:
        raise DataError(f"data/uwv_tightness_targets.csv: unknown class {target!r} "
                        f"(allowed: {', '.join(n for _, n in UWV_CLASSES)}, or alternatives joined by 'or')")
    return min(lo for lo, _ in spans), max(hi for _, hi in spans)


def profile_factors(factor: np.ndarray, indicator: np.ndarray, vacancies: np.ndarray,
                    bands: list[tuple[float, float]], cap: float = PROFILE_CAP,
                    margin: float = CLASS_MARGIN) -> np.ndarray:
    """The regional vacancy profile: new ``vacancy_profile_factor`` values, from the base year's
    UWV indicator and vacancies per sector measured with ``factor``.

    The smallest change (sum of squared log factors: closest to CBS's national profile) that puts
    each sector's indicator ``margin`` inside its sourced band (or as far inside as the cap allows),
    taking the indicator to move in proportion to the sector's vacancies, with every factor within
    [1/cap, cap] and the region's vacancies unchanged in total (the fitted mean rate stays). A sector
    whose band cannot be reached within the cap is left out of the band constraints (it keeps its
    class miss, reported by the check table) but may only move towards its band, not pay for the
    others' moves by moving away from it; if the rest cannot all be met, the sector needing the
    largest move is left out next."""
    log_f, log_i = np.log(factor), np.log(np.maximum(indicator, 1e-9))
    with np.errstate(divide="ignore"):
        lo_class = np.log([b[0] for b in bands])
    hi_class = np.log([b[1] for b in bands])
    base = log_i - log_f  # the log indicator at factor 1 (proportional approximation)
    bound = np.log(cap)
    reach = (base + bound >= lo_class) & (base - bound <= hi_class)
    # aim the margin inside the band, or as far inside as the cap allows
    lo = np.minimum(lo_class + np.log(margin), base + bound)
    hi = np.maximum(hi_class - np.log(margin), base - bound)
    weight = vacancies / factor  # vacancies at factor 1
    total = float(vacancies.sum())
    if total <= 0:
        return factor

    def need(i: int) -> float:
        return max(lo[i] - log_i[i], log_i[i] - hi[i], 0.0)

    while True:
        active = np.flatnonzero(reach)
        above = [i for i in active if np.isfinite(lo[i])]
        below = [i for i in active if np.isfinite(hi[i])]
        cons = [{"type": "eq", "fun": lambda y: weight @ np.exp(y) / total - 1,
                 "jac": lambda y: weight * np.exp(y) / total}]
        if above:
            cons.append({"type": "ineq", "fun": lambda y, k=above: base[k] + y[k] - lo[k]})
        if below:
            cons.append({"type": "ineq", "fun": lambda y, k=below: hi[k] - base[k] - y[k]})
        # a sector left out moves only towards its band (or stays at the national profile)
        low = np.where(~reach & (base > hi_class), -bound, np.where(reach, -bound, 0.0))
        high = np.where(~reach & (base < lo_class), bound, np.where(reach, bound, 0.0))
        res = minimize(lambda y: float(y @ y), np.clip(log_f, low, high), jac=lambda y: 2 * y,
                       bounds=list(zip(low, high, strict=True)), constraints=cons, method="SLSQP",
                       options={"maxiter": 200, "ftol": 1e-10})
        y = res.x
        inside = all(base[i] + y[i] >= lo[i] - 1e-6 and base[i] + y[i] <= hi[i] + 1e-6 for i in active)
        if res.success and inside and abs(weight @ np.exp(y) / total - 1) <= 1e-6:
            return np.exp(y)
        missing = [i for i in active if need(i) > 0]
        if not missing:
            return factor
        reach[max(missing, key=need)] = False


def _simplex(x0: np.ndarray) -> np.ndarray:
    steps = np.maximum(np.abs(x0) * 0.2, [0.002, 0.05, 0.005])
    return np.vstack([x0, *(x0 + np.eye(len(x0))[i] * steps[i] for i in range(len(x0)))])


def calibration_dir(config_dir: Path = CONFIG_DIR) -> Path:
    """The folder the fitted values are written to: ``calibration/`` of the package's configs (in a
    source checkout ``configs/calibration/``). Refuses clearly when it is not writable."""
    path = Path(config_dir) / "calibration"
    if not os.access(path, os.W_OK):
        raise PermissionError(
            f"cannot write the fitted values: {path} is not writable (an installed package?); "
            "run `mbo-sim-calibrate --fit` from a source checkout with an editable install (pip install -e .)"
        )
    return path


FITTED_HEADER = "# Fitted by `mbo-sim-calibrate --fit`"


def fitted_is_ours(path: Path) -> bool:
    """True if ``path`` is a calibration file ``mbo-sim-calibrate --fit`` wrote (its header says so)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = [f.readline() for _ in range(3)]
    except OSError:
        return False
    return any(line.startswith(FITTED_HEADER) for line in head)


def write_fitted(region: str, values: dict[str, float], loss: float, config_dir: Path = CONFIG_DIR,
                 note: str | None = None) -> Path:
    """Write ``calibration/<region>.yaml`` through a temporary file; never over a file the fit did not write.
    The per-programme constants (``model.education.programme_constants.<id>`` and ``adult_constants``)
    go to ``calibration/<region>_constants.csv``, which the YAML names with its sha256
    (:mod:`sim.io.constants`). ``note`` (one line) is added as a comment after the header."""
    from sim.io.constants import write_constants

    folder = calibration_dir(config_dir)
    path = folder / f"{region}.yaml"
    values = dict(values)
    constants = {kind: {k.split(".", 3)[3]: float(values.pop(k)) for k in list(values)
                        if k.startswith(f"model.education.{kind}.")}
                 for kind in ("programme_constants", "adult_constants")}
    if any(constants.values()):
        table = folder / f"{region}_constants.csv"
        text = write_constants(constants["programme_constants"], constants["adult_constants"],
                               f"calibration/{region}.yaml on {dt.date.today()}. Do not edit by hand.")
        atomic_file(table, lambda tmp: tmp.write_text(text), _table_is_ours)
        same_tree = Path(config_dir).resolve() == CONFIG_DIR.resolve()
        values["model.education.constants_file"] = f"calibration/{table.name}" if same_tree else str(table.resolve())
        values["model.education.constants_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    lines = [
        "# @package _global_",
        f"{FITTED_HEADER} on {dt.date.today()} (sim/calibration.py): Nelder-Mead on the",
        "# squared gaps of the BBL share, vacancies per unemployed and unemployment drift; programme",
        "# constants by the choice fit on base-year intake; the vacancy profile on the UWV classes (targets:",
        "# data/institutions.csv; CBS 2021-22; data/uwv_tightness_targets.csv).",
        f"# Final loss {loss:.2e}. Do not edit by hand.",
        *([f"# {note}"] if note else []),
    ]
    nested: dict = {}
    for key, v in values.items():
        node = nested
        *parents, name = key.split(".")[1:]
        for part in parents:
            node = node.setdefault(part, {})
        node[name] = v

    def emit(node: dict, indent: int) -> None:
        for name, v in node.items():
            if isinstance(v, dict):
                lines.append(" " * indent + f"{name}:")
                emit(v, indent + 2)
            elif isinstance(v, str):
                lines.append(" " * indent + f"{name}: {json.dumps(v)}")
            else:
                lines.append(" " * indent + f"{name}: {v:.4g}")

    lines.append("model:")
    emit(nested, 2)
    atomic_file(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n"), fitted_is_ours)
    return path


def _table_is_ours(path: Path) -> bool:
    from sim.io.constants import HEADER

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(HEADER)
    except OSError:
        return False


def refit_choice(region: str, write: bool = False) -> ChoiceFit:
    """Refit only the choice constants of ``region`` with the other fitted values of its
    ``configs/calibration/<region>.yaml`` as they are (the labour parameters and the adult BBL
    rate are not refit), and with ``write`` rewrite that file with the new constants. Drops the
    ``mbo_share`` an older fit wrote there (replaced by ``participation_constant``)."""
    fit = fit_programme_constants(region, [])
    if write:
        path = calibration_dir() / f"{region}.yaml"
        text = path.read_text()
        loss = re.search(r"Final loss ([0-9.e+-]+?)\.?\s", text)
        education = yaml.safe_load(text)["model"]["education"]
        values: dict[str, float] = {}

        def flatten(prefix: str, node: dict) -> None:
            for k, v in node.items():
                if isinstance(v, dict):
                    flatten(f"{prefix}.{k}", v)
                else:
                    values[f"{prefix}.{k}"] = v

        for k, v in education.items():
            if k not in ("mbo_share", "participation_constant", "inflow_constant", "programme_constants",
                         "adult_constants", "sector_constant", "constants_file", "constants_sha256"):
                values[f"model.education.{k}"] = v
        values["model.education.participation_constant"] = fit.participation_constant
        values["model.education.inflow_constant"] = fit.inflow_constant
        values.update({f"model.education.sector_constant.{s}": 0.0 for s in SECTORS})
        values.update({f"model.education.programme_constants.{k}": v for k, v in fit.programme_constants.items()})
        values.update({f"model.education.adult_constants.{k}": v for k, v in fit.adult_constants.items()})
        for section, node in yaml.safe_load(text)["model"].items():
            if section != "education":
                flatten(f"model.{section}", node)
        fitted_on = re.search(r"--fit` on (\S+) ", text)
        note = (f"Choice constants (participation_constant, inflow_constant, programme and adult constants) refit on "
                f"{dt.date.today()} by `mbo-sim-calibrate --fit-choice`; the other values are from the "
                f"fit of {fitted_on.group(1) if fitted_on else 'before'}.")
        write_fitted(region, values, float(loss.group(1)) if loss else float("nan"), note=note)
    return fit


def write_table(df: pd.DataFrame, out: Path) -> None:
    """The check table as ``out/calibration.csv`` and ``out/calibration.md``: the folder is built in a
    temporary sibling and swapped into place (never over a folder that is not mbo-sim's)."""
    md = _table_markdown(df)

    def fill(tmp: Path) -> None:
        df.to_csv(tmp / "calibration.csv", index=False)
        (tmp / "calibration.md").write_text(markdown_table(md) + "\n")

    atomic_folder(out, fill)


def _table_markdown(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(model=df["model"].map("{:.4g}".format), source=df["source"].map("{:.4g}".format),
                     gap=df["gap"].map(lambda g: "" if pd.isna(g) else f"{g:+.1%}"))


def table(region: str, scale: float, seeds: tuple[int, ...]) -> pd.DataFrame:
    """Model vs source for every calibrated figure of ``region`` (gap relative to source),
    the model figures averaged over ``seeds``."""
    tgt = targets(region)
    res = base_year_mean(region, [], scale, seeds)
    model = res["model"]
    rows = []

    def add(figure: str, item: str, model_v: float, source_v: float, source: str, kind: str = "value") -> None:
        gap = (model_v - source_v) / source_v if source_v else np.nan
        rows.append({"region": region, "figure": figure, "item": item, "model": model_v, "source": source_v,
                     "gap": gap, "within_5pct": bool(abs(gap) <= TOLERANCE) if kind == "value" else None,
                     "source_ref": source})

    labels, counts = res["population_by_band"]
    shift = model.cfg.start_year - DATA_YEAR
    data_counts = _data_bands(tgt["data"].population_bands, labels, shift, model.cfg.model.population.pension_age)
    for lab, m, d in zip(labels, counts, data_counts, strict=True):
        add("population_by_age_band", lab, m, d, f"CBS 83502NED 2021 aged {shift} years")
    add("enrolment_total", "all", res["enrolment_total"], tgt["enrolment_total"],
        f"data/institutions.csv ({model.cfg.region.enrolment_source_year}), carried to {model.cfg.start_year} "
        "with the 16-22 population")
    add("bbl_share", "all", res["bbl_share"], tgt["bbl_share"], "data/institutions.csv")
    for i, s in enumerate(SECTORS):
        add("enrolment_share_by_sector", s, res["enrolment_by_sector"][i], tgt["enrolment_by_sector"][i],
            "data/institutions.csv")
    for i, s in enumerate(SECTORS):
        add("intake_share_by_sector", s, res["intake_by_sector"][i], tgt["intake_by_sector"][i],
            "data/institutions.csv (base enrolment ÷ programme length)")
    for i, s in enumerate(SECTORS):
        add("employment_share_by_sector", s, res["employment_by_sector"][i], tgt["employment_by_sector"][i],
            "data/employment_by_sector.csv")
    add("vacancies_per_unemployed", "all", res["tightness"], tgt["tightness"],
        "CBS 2021-22 national (1.24), × the region's ratio to national where CBS gives one (Zeeland 2022-23)")
    add("mbo_participation", "school leavers", res["participation"], model.cfg.model.education.mbo_share,
        "reference, not a target: national share of a cohort entering mbo (model.education.mbo_share, CBS "
        "Jeugdmonitor 2020); the fit matches the region's base-year intake, which includes older entrants",
        kind="reference")
    add("outflow_share", "mbo students living in the region", res["outflow_share"], tgt["outflow_share"],
        "data/study_flows.csv outflow_share (assumption where no source; see its note)")
    add("inflow_share", "students of the region's sites", res["inflow_share"], tgt["inflow_share"],
        "data/study_flows.csv inflow_share_<institution> (assumption where no source; see its note)")
    drift = res["unemployment_drift"]
    rows.append({"region": region, "figure": "unemployment_drift", "item": "Dec vs Jan", "model": drift,
                 "source": 0.0, "gap": drift,
                 "within_5pct": bool(abs(drift) <= TOLERANCE),
                 "source_ref": "steady base year (assumption): unemployment neither drifts up nor down"})
    rate, rate_source = labour_figure(region, "unemployment_rate")
    u = res["unemployment_rate"]
    rows.append({"region": region, "figure": "unemployment_rate", "item": "base-year mean", "model": u,
                 "source": rate / 100, "gap": u - rate / 100, "within_5pct": bool(abs(u - rate / 100) <= 0.005),
                 "source_ref": f"within 0.5 percentage point of {rate_source}"})
    classes = uwv_targets(region)
    for i, s in enumerate(SECTORS):
        ind = float(res["uwv_tightness_by_sector"][i])
        want, source = classes[s]
        rows.append({"region": region, "figure": "uwv_tightness_class", "item": s, "model": ind,
                     "source": np.nan, "gap": np.nan, "within_5pct": class_matches(uwv_class(ind), want),
                     "source_ref": f"model class '{uwv_class(ind)}', source class '{want}' "
                                   f"(data/uwv_tightness_targets.csv: {source[:120]})"})
    return pd.DataFrame(rows)


def labour_figure(region: str, figure: str) -> tuple[float, str]:
    """A figure of ``data/labour_force.csv`` for ``region`` and its source."""
    df = labour_force()
    row = df[(df["region"] == region) & (df["figure"] == figure)]
    if row.empty:
        raise DataError(f"data file {PACKAGE_DATA_DIR / 'labour_force.csv'}: no {figure} for region {region}")
    return float(row["value"].iloc[0]), str(row["source"].iloc[0])


def uwv_targets(region: str) -> dict[str, tuple[str, str]]:
    """Sector -> (UWV tightness class, source) of ``data/uwv_tightness_targets.csv`` for ``region``."""
    path = PACKAGE_DATA_DIR / "uwv_tightness_targets.csv"
    df = pd.read_csv(path)
    df = df[df["region"] == region]
    missing = sorted(set(SECTORS) - set(df["sector"]))
    if missing:
        raise DataError(f"data file {path}: no tightness class for {region} sector(s) {missing}")
    return {r.sector: (r.target_class, r.source) for r in df.itertuples()}


def _data_bands(bands: np.ndarray, labels: list[str], shift: int, pension_age: int) -> np.ndarray:
    per_year = spread_bands(bands).sum(0)  # ages 0..99 in 2021, spread per municipality as the model does
    out = []
    for lab in labels:
        lo, hi = (int(x) for x in lab.split("-"))
        out.append(per_year[lo - shift : hi - shift + 1].sum())
    return np.asarray(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-calibrate", description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="+", default=list(REGIONS), choices=REGIONS)
    ap.add_argument("--fit", action="store_true", help="refit and rewrite configs/calibration/<region>.yaml")
    ap.add_argument("--fit-choice", action="store_true",
                    help="refit only the choice constants (participation and programmes) with the other fitted "
                         "values as they are, rewrite configs/calibration/<region>.yaml, then check")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=3, help="the check averages seeds 1..n (the fit uses 1..2)")
    ap.add_argument("--out", default="results/calibration")
    args = ap.parse_args(argv)
    out = Path(args.out)
    try:
        check_replaceable(out)  # before the (long) runs: a folder in the way that is not ours is refused
        if args.fit or args.fit_choice:
            folder = calibration_dir()  # before the (long) fit
            for region in args.regions:
                check_file_replaceable(folder / f"{region}.yaml", fitted_is_ours)
        tables = []
        for region in args.regions:
            if args.fit:
                values, loss, choice = fit(region, scale=args.scale)
                labour = {k: round(v, 6) for k, v in values.items() if k in FITTED}
                print(f"{region}: fitted {labour} (loss {loss:.2e}); choice: {choice.summary()} "
                      f"-> {write_fitted(region, values, loss)}")
            elif args.fit_choice:
                choice = refit_choice(region, write=True)
                print(f"{region}: {choice.summary()} (written)")
            tables.append(table(region, args.scale, tuple(range(1, args.seeds + 1))))
        df = pd.concat(tables, ignore_index=True)
        write_table(df, out)
    except (UnsafeOutput, PermissionError, DataError) as exc:
        print(f"mbo-sim-calibrate: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, ...: the temporary folder is already gone
        print(f"mbo-sim-calibrate: error: could not write the calibration table to {out}: {exc}", file=sys.stderr)
        return 1
    md = _table_markdown(df)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(md.drop(columns=["source_ref"]).to_string(index=False))
    bad = df[df["within_5pct"] == False]  # noqa: E712
    print(f"\n{len(df) - len(bad)}/{len(df)} figures within 5 % (or in the source's tightness class); "
          f"table: {out / 'calibration.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
