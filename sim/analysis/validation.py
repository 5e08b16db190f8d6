"""Validation report: the model against published figures that were not used for calibration.

``mbo-sim-validate`` (``make validate``) runs each region from ``--start-year`` (2021, the earliest
the data allow) for ``--years`` (20) over ``--seeds`` seeds (3) at ``--scale`` (0.5) and compares
the model with the figures in ``sim/data/validation_targets.csv``: enrolment and intake (totals,
per institution or site, shares by sector) and closures. It writes ``docs/validation.md`` and a
few figures in ``docs/figures/validation/``, each file atomically (a temporary file, then
``os.replace``).

Only the public results tables are read (``tables_and_summary(model)``: the ``education`` frame
with school_year, institution, sector, level, location, open, intake, enrolled, and the
``events`` frame), so the report keeps working while the programme unit changes.

Comparison rules (also printed in the report):

- A level (enrolment, a ratio or a share) is compared in the target's year. A year before the
  model's first school year is compared with the first school year, a year after the last with
  the last; the report flags both.
- A change (``forecast_enrolment_change``, % from ``base_year`` to ``year``) is compared over the
  years the model and the source share: the published change is converted to that span at its
  own constant annual rate, (1 + v)^(span / published span) − 1.
- Regional totals count the sites inside the region; shares count all the region's students
  (the sources count residents).
- Model values are means over seeds with a 5–95 % band. A target is met when the published value
  lies in the band widened by a tolerance (10 % of the model mean for levels, 5 percentage
  points for changes); otherwise it is a miss, listed with its likely reason.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.codes import SECTORS  # noqa: E402
from sim.regions import REGION_LABELS, REGIONS  # noqa: E402

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
TARGETS = DATA_DIR / "validation_targets.csv"
REPO = Path(__file__).resolve().parents[2]
COLUMNS = ["region", "measure", "institution", "location", "sector", "base_year", "year", "value", "unit",
           "source", "url", "used_in_calibration", "note"]
LEVEL_MEASURES = ("enrolment_total", "enrolment_institution", "intake_total", "intake_to_enrolment",
                  "intake_share_sector", "enrolment_share_sector", "closures")
CHANGE_MEASURES = ("forecast_enrolment_change",)
MEASURES = LEVEL_MEASURES + CHANGE_MEASURES
NOT_USED = "not used in calibration"


class TargetError(ValueError):
    """A validation target file that cannot be used (one message for all bad rows)."""


# --------------------------------------------------------------------------------------- targets

def _sector_items(text: str) -> list[tuple[str, int, int]]:
    """'business+other:L2-4' -> [(business, 1, 4), (other, 2, 4)]."""
    items = []
    for part in str(text).split("+"):
        name, _, lv = part.strip().partition(":")
        lo, hi = 1, 4
        if lv:
            if not lv.startswith("L"):
                raise ValueError(f"level filter {lv!r} must look like L1 or L2-4")
            a, _, b = lv[1:].partition("-")
            lo, hi = int(a), int(b or a)
            if not 1 <= lo <= hi <= 4:
                raise ValueError(f"level filter {lv!r} outside 1..4")
        if name not in SECTORS:
            raise ValueError(f"unknown sector {name!r}")
        items.append((name, lo, hi))
    return items


def load_targets(path: str | Path = TARGETS) -> pd.DataFrame:
    """Read and check the target file; a bad row anywhere raises one TargetError naming every problem."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise TargetError(f"{path}: cannot read the validation targets ({exc})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise TargetError(f"{path}: missing column(s) {', '.join(missing)}")
    problems = []
    for i, row in df.iterrows():
        where = f"row {i + 2}"  # the header is line 1
        if row["region"] not in REGIONS:
            problems.append(f"{where}: unknown region {row['region']!r} (known: {', '.join(REGIONS)})")
        if row["measure"] not in MEASURES:
            problems.append(f"{where}: unknown measure {row['measure']!r} (known: {', '.join(MEASURES)})")
        for col in ("value", "year") + (("base_year",) if row["measure"] in CHANGE_MEASURES else ()):
            try:
                v = float(row[col])
                if not math.isfinite(v):
                    raise ValueError
            except ValueError:
                problems.append(f"{where}: {col} {row[col]!r} is not a number")
        if row["measure"] in ("intake_share_sector", "enrolment_share_sector"):
            try:
                _sector_items(row["sector"])
            except ValueError as exc:
                problems.append(f"{where}: sector {row['sector']!r}: {exc}")
        if row["used_in_calibration"].strip().lower() != "false":
            problems.append(f"{where}: used_in_calibration must be false (this report holds only figures "
                            "that were not used for calibration)")
        if not row["source"].strip():
            problems.append(f"{where}: no source")
    if problems:
        raise TargetError(f"{path}: {len(problems)} bad target row(s):\n  " + "\n  ".join(problems))
    for col in ("value", "year"):
        df[col] = df[col].astype(float)
    df["year"] = df["year"].astype(int)
    df["base_year"] = pd.to_numeric(df["base_year"], errors="coerce")
    return df


# ------------------------------------------------------------------------------------------ runs

@dataclass(frozen=True)
class RunSpec:
    region: str
    seed: int
    start_year: int
    years: int
    scale: float


def run_one(spec: RunSpec) -> dict:
    """One model run; returns the public tables the report needs (education, closed events)."""
    from sim.hydra_config import compose
    from sim.runner import simulate, tables_and_summary

    t0 = time.perf_counter()
    cfg = compose([f"region={spec.region}", f"seed={spec.seed}", f"start_year={spec.start_year}",
                   f"years={spec.years}", f"scale={spec.scale}", "progress=false", "write_plots=false"])
    frames, _ = tables_and_summary(simulate(cfg))
    edu = frames["education"]
    edu = edu[["school_year", "institution", "sector", "level", "location", "open", "intake", "doorstroom",
               "enrolled"]].copy()
    ev = frames["events"]
    closed = ev[ev["event"] == "closed"][["date", "institution", "sector", "level", "location"]].copy()
    return {"spec": spec, "education": edu, "closed": closed, "seconds": time.perf_counter() - t0}


def run_all(regions, seeds, start_year, years, scale, jobs=2, progress=print) -> list[dict]:
    specs = [RunSpec(r, s, start_year, years, scale) for r in regions for s in seeds]
    out = []
    if jobs <= 1:
        results = map(run_one, specs)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs)
        results = pool.map(run_one, specs)
    try:
        for i, res in enumerate(results, 1):
            sp = res["spec"]
            progress(f"[{i}/{len(specs)}] {sp.region} seed {sp.seed}: {sp.start_year}-{sp.start_year + sp.years - 1}"
                     f" at scale {sp.scale} in {res['seconds']:.1f} s")
            out.append(res)
    finally:
        if jobs > 1:
            pool.shutdown()
    return out


def _in_region_locations(region: str) -> set[str]:
    m = pd.read_csv(DATA_DIR / "municipalities.csv")
    return set(m.loc[m["region"] == REGION_LABELS[region], "municipality"])


# ------------------------------------------------------------------------------------ comparison

def _scope(edu: pd.DataFrame, t: pd.Series, region_sites: set[str] | None) -> pd.DataFrame:
    e = edu
    if t["institution"]:
        e = e[e["institution"] == t["institution"]]
    if t["location"]:
        e = e[e["location"] == t["location"]]
    if region_sites is not None and not t["institution"] and not t["location"]:
        e = e[e["location"].isin(region_sites)]
    return e


def _sector_mask(e: pd.DataFrame, text: str) -> pd.Series:
    mask = pd.Series(False, index=e.index)
    for name, lo, hi in _sector_items(text):
        mask |= (e["sector"] == name) & e["level"].between(lo, hi)
    return mask


def _level_value(edu: pd.DataFrame, t: pd.Series, year: int, sites: set[str]) -> float:
    m = t["measure"]
    if m == "closures":
        e = _scope(edu, t, None)
        e = e[e["school_year"] == year]
        return 1.0 if e.empty or not e["open"].any() else 0.0
    e = _scope(edu, t, sites if m in ("enrolment_total", "intake_total") else None)
    e = e[e["school_year"] == year]
    if m in ("enrolment_total", "enrolment_institution"):
        return float(e["enrolled"].sum())
    if m == "intake_total":
        return float(e["intake"].sum())
    if m == "intake_to_enrolment":  # new students, as the sources count them: without doorstroom within mbo
        new = e["intake"].sum() - e["doorstroom"].sum()
        return float(new / e["enrolled"].sum()) if e["enrolled"].sum() else math.nan
    col = "intake" if m == "intake_share_sector" else "enrolled"
    total = e[col].sum()
    return float(e.loc[_sector_mask(e, t["sector"]), col].sum() / total) if total else math.nan


def _band(values: list[float]) -> tuple[float, float, float]:
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return math.nan, math.nan, math.nan
    return float(a.mean()), float(np.quantile(a, 0.05)), float(np.quantile(a, 0.95))


def _years(edu: pd.DataFrame) -> tuple[int, int]:
    return int(edu["school_year"].min()), int(edu["school_year"].max())


def compare(targets: pd.DataFrame, runs: list[dict]) -> pd.DataFrame:
    """One row per target of a region that was run: model mean and band, published value, gap, verdict."""
    by_region: dict[str, list[pd.DataFrame]] = {}
    for r in runs:
        by_region.setdefault(r["spec"].region, []).append(r["education"])
    rows = []
    for _, t in targets.iterrows():
        if t["region"] not in by_region:
            continue
        edus = by_region[t["region"]]
        sites = _in_region_locations(t["region"])
        first, last = _years(edus[0])
        flags = []
        drift = math.nan
        published = float(t["value"])
        if t["measure"] in CHANGE_MEASURES:
            y0, y1 = max(int(t["base_year"]), first), min(int(t["year"]), last)
            span_pub = int(t["year"]) - int(t["base_year"])
            if (y0, y1) != (int(t["base_year"]), int(t["year"])):
                flags.append(f"compared over {y0}-{y1} (published {int(t['base_year'])}-{int(t['year'])}, "
                             f"{published:+.0f} %, converted at its annual rate)")
            if y1 > y0:
                published = ((1 + published / 100) ** ((y1 - y0) / span_pub) - 1) * 100
                vals = []
                for e in edus:
                    tt = t.copy()
                    tt["measure"] = "enrolment_institution"
                    a, b = _level_value(e, tt, y0, sites), _level_value(e, tt, y1, sites)
                    vals.append((b / a - 1) * 100 if a else math.nan)
            else:
                flags.append("no overlapping years: not comparable")
                vals = [math.nan]
            model_year = f"{y0}-{y1}"
            tol = 5.0
        else:
            y = min(max(int(t["year"]), first), last)
            if y != int(t["year"]):
                flags.append(f"published {int(t['year'])}, model {y} (model years {first}-{last})")
            vals = [_level_value(e, t, y, sites) for e in edus]
            model_year = str(y)
            tol = None
            if t["measure"] in ("enrolment_total", "enrolment_institution") and y > first:
                v0 = _band([_level_value(e, t, first, sites) for e in edus])[0]
                drift = (np.mean(vals) / v0 - 1) * 100 if v0 else math.nan
        mean, lo, hi = _band(vals)
        tol = tol if tol is not None else 0.10 * abs(mean)
        ok = bool(np.isfinite(mean) and lo - tol <= published <= hi + tol)
        if t["measure"] in CHANGE_MEASURES:
            gap = mean - published
            gap_text = f"{gap:+.1f} pp"
        else:
            gap = (mean - published) / published if published else math.nan
            gap_text = f"{gap:+.0%}" if np.isfinite(gap) else ""
        rows.append({
            "region": t["region"], "measure": t["measure"], "scope": _scope_label(t), "year": model_year,
            "published": published, "model": mean, "model_p5": lo, "model_p95": hi, "gap": gap,
            "gap_text": gap_text, "verdict": "met" if ok else ("miss" if np.isfinite(mean) else "n/a"),
            "flags": "; ".join(flags), "unit": t["unit"], "source": t["source"], "url": t["url"],
            "note": t["note"], "reason": "" if ok else likely_reason(t, mean, published, drift, first, model_year),
            "statement": NOT_USED,
        })
    return pd.DataFrame(rows)


def _scope_label(t: pd.Series) -> str:
    parts = [REGION_LABELS[t["region"]]]
    parts += [t[c] for c in ("institution", "location") if t[c]]
    if t["sector"]:
        parts.append(t["sector"])
    return " · ".join(parts)


def likely_reason(t: pd.Series, model: float, published: float, drift: float = math.nan, first: int = 0,
                  year: str = "") -> str:
    """The likely reason for a miss, by measure and direction (kept short; the target's note adds detail).

    ``drift``: the model's own change (%) in the scope from its first school year to the compared year."""
    m = t["measure"]
    if not np.isfinite(model):
        return "the model has no value for this scope in the compared years"
    if m == "closures":
        return ("the model starts in 2021 from data/institutions.csv, which still lists this institution; "
                "in the model an opleiding closes only when the April review finds it weak and its institution "
                "can no longer carry it (docs/ODD.md §7.15), never by a take-over or a whole institution's end")
    if m in CHANGE_MEASURES:
        if model > published:
            return ("the model declines more slowly than the forecast: its participation in mbo falls with the "
                    "national shift from vmbo to havo/vwo of 2003-2020 (model.education.havo_shift_per_year) and "
                    "otherwise changes only with access, while a regional forecast may assume a steeper shift; and "
                    "its outflow to schools elsewhere is a fixed-share assumption calibrated in the base year")
        return ("the model declines faster than the forecast: the base-year stock is not the stock that the "
                "model's intake, durations and dropout sustain (issue 11), so enrolment falls in the first years")
    if m in ("enrolment_total", "enrolment_institution", "intake_total"):
        side = "below" if model < published else "above"
        text = (f"the model is {side} the published figure: data/institutions.csv totals and site splits are "
                "partly assumptions (e.g. Scalda's 2017 8,600 scaled so that Zeeland has the PZC 2021 total), "
                "and the inflow from outside the region is an assumed share (data/study_flows.csv)")
        if np.isfinite(drift) and abs(drift) >= 10:
            text += (f"; besides, the model's own enrolment in this scope changes {drift:+.0f} % from {first} to "
                     f"{year}: the base-year stock is not the stock that the model's intake, durations and dropout "
                     "sustain (issue 11)")
        return text
    if m == "intake_to_enrolment":
        return ("base-year intake is derived as enrolment / programme length (an assumption); the ratio (new "
                "students, without doorstroom, over enrolment) mirrors the assumed durations and dropout, not a "
                "measured intake")
    return ("sector splits in data/institutions.csv beyond the sourced clusters are assumptions (an ROC profile "
            "modelled on Graafschap College); the source's fields map only approximately onto the model's sectors")


# --------------------------------------------------------------------------------------- figures

def _atomic_write_bytes(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save(fig, path: Path) -> Path:
    _atomic_write_bytes(path, lambda tmp: fig.savefig(tmp, dpi=80, format="png"))
    plt.close(fig)
    return path


def _series(runs: list[dict], region: str, scope: pd.Series | None, col: str, sites=None) -> pd.DataFrame:
    """Per school year: mean, 5 % and 95 % over the region's seeds of ``col`` summed over the scope."""
    per_seed = []
    for r in runs:
        if r["spec"].region != region:
            continue
        e = r["education"] if scope is None else _scope(r["education"], scope, sites)
        if scope is None and sites is not None:
            e = e[e["location"].isin(sites)]
        per_seed.append(e.groupby("school_year")[col].sum())
    m = pd.concat(per_seed, axis=1)
    return pd.DataFrame({"mean": m.mean(axis=1), "p5": m.quantile(0.05, axis=1), "p95": m.quantile(0.95, axis=1)})


def _band_plot(ax, s: pd.DataFrame, label: str, colour="C0"):
    ax.plot(s.index, s["mean"], color=colour, label=label)
    ax.fill_between(s.index, s["p5"], s["p95"], color=colour, alpha=0.2, linewidth=0)


def plot_enrolment(targets: pd.DataFrame, runs: list[dict], table: pd.DataFrame, out: Path) -> Path:
    """One panel per enrolment scope with a published figure: the model's line and band, the sources' points."""
    regions = sorted({r["spec"].region for r in runs})
    enrol = targets[targets["measure"].isin(("enrolment_total", "enrolment_institution") + CHANGE_MEASURES)
                    & targets["region"].isin(regions)]
    scopes = [(reg, "", "") for reg in regions]
    for _, t in enrol.iterrows():
        key = (t["region"], t["institution"], t["location"])
        if key not in scopes:
            scopes.append(key)
    n = len(scopes)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, (reg, inst, loc) in zip(axes.flat, scopes, strict=False):
        scope = pd.Series({"institution": inst, "location": loc})
        sites = _in_region_locations(reg)
        s = _series(runs, reg, scope, "enrolled", sites)
        _band_plot(ax, s, "model (mean, 5–95 % over seeds)")
        first = s.index.min()
        for _, t in enrol[(enrol["region"] == reg) & (enrol["institution"] == inst)
                          & (enrol["location"] == loc)].iterrows():
            short = t["source"].split(",")[0]
            if t["measure"] in CHANGE_MEASURES:
                y0 = max(int(t["base_year"]), first)
                y1 = min(int(t["year"]), int(s.index.max()))
                if y1 > y0:
                    rate = (1 + t["value"] / 100) ** (1 / (int(t["year"]) - int(t["base_year"])))
                    ys = np.arange(y0, y1 + 1)
                    span = f"{int(t['base_year'])}–{int(t['year'])}"
                    ax.plot(ys, s.loc[y0, "mean"] * rate ** (ys - y0), "k--",
                            label=f"{short}: {t['value']:+.0f} % {span} (from model {y0})")
            else:
                ax.plot([t["year"]], [t["value"]], "o", color="C3", label=f"{short} ({int(t['year'])})")
        title = " · ".join(x for x in (REGION_LABELS[reg], inst, loc) if x) or REGION_LABELS[reg]
        ax.set_title(title if (inst or loc) else f"{title} (sites in region)", fontsize=9)
        ax.set_xlabel("school year (1 Oct count)")
        ax.set_ylabel("mbo students (persons)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6, loc="lower left")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Enrolment: model vs published figures (not used in calibration)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out / "enrolment.png")


def plot_intake(runs: list[dict], table: pd.DataFrame, out: Path) -> Path:
    """Intake per region over time (line and band) and, beside it, every share/ratio target as model vs published."""
    regions = sorted({r["spec"].region for r in runs})
    shares = table[table["measure"].isin(("intake_share_sector", "enrolment_share_sector", "intake_to_enrolment"))]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.3]})
    for i, reg in enumerate(regions):
        _band_plot(a1, _series(runs, reg, None, "intake"), REGION_LABELS[reg], colour=f"C{i}")
    a1.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    a1.set_xlabel("school year (September intake)")
    a1.set_ylabel("entrants (persons)")
    a1.set_ylim(bottom=0)
    a1.set_title("Model intake by region (mean, 5–95 % over seeds)", fontsize=9)
    a1.legend(fontsize=7)
    if not shares.empty:
        y = np.arange(len(shares))
        err = np.vstack([(shares["model"] - shares["model_p5"]).clip(lower=0),
                         (shares["model_p95"] - shares["model"]).clip(lower=0)])
        a2.errorbar(shares["model"], y, xerr=err, fmt="o", color="C0", label="model (5–95 %)")
        a2.plot(shares["published"], y, "s", color="C3", label="published")
        labels = [f"{r.measure.replace('_sector', '').replace('_', ' ')}: {r.scope}"[:62]
                  for r in shares.itertuples()]
        a2.set_yticks(y, labels, fontsize=6)
        a2.invert_yaxis()
        a2.set_xlabel("share or ratio (fraction)")
        a2.legend(fontsize=7)
        a2.set_title("Shares and ratios, model vs published", fontsize=9)
    else:
        a2.axis("off")
    fig.suptitle("Intake: model vs published figures (not used in calibration)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out / "intake.png")


def plot_closures(targets: pd.DataFrame, runs: list[dict], out: Path) -> Path:
    """Cumulative programme closures per region (line and band) with the published closures marked."""
    regions = sorted({r["spec"].region for r in runs})
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, reg in enumerate(regions):
        per_seed = []
        years = None
        for r in runs:
            if r["spec"].region != reg:
                continue
            years = np.arange(r["education"]["school_year"].min(), r["education"]["school_year"].max() + 1)
            cy = pd.to_datetime(r["closed"]["date"]).dt.year
            per_seed.append(np.array([(cy <= y).sum() for y in years], dtype=float))
        a = np.vstack(per_seed)
        ax.plot(years, a.mean(axis=0), color=f"C{i}", label=f"{REGION_LABELS[reg]} (model)")
        ax.fill_between(years, np.quantile(a, 0.05, axis=0), np.quantile(a, 0.95, axis=0), color=f"C{i}",
                        alpha=0.2, linewidth=0)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # whole years and counts
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.0))  # a count: from 0, with a scale when none close
    pub = targets[(targets["measure"] == "closures") & targets["region"].isin(regions)]
    for _, t in pub.iterrows():
        ax.axvline(t["year"], color="k", ls=":", lw=1)
        ax.annotate(f"{t['institution']} mbo closed {int(t['year'])}\n({t['source'].split(',')[0]})",
                    (t["year"], ax.get_ylim()[1] * 0.9), fontsize=7, ha="left")
    ax.set_xlabel("year")
    ax.set_ylabel("closed programmes (cumulative)")
    ax.set_title("Closures: model (mean, 5–95 % over seeds) vs published\n(not used in calibration)", fontsize=9)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    return _save(fig, out / "closures.png")


# ---------------------------------------------------------------------------------------- report

def _fmt(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "–"
    if "share" in unit or "/" in unit:
        return f"{v:.3f}"
    if "%" in unit:
        return f"{v:+.1f} %"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2f}"


def model_version() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--tags", "--dirty"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def render(table: pd.DataFrame, figures: list[Path], md_path: Path, settings: dict, wall: float) -> str:
    rel = [os.path.relpath(p, md_path.parent) for p in figures]
    lines = [
        "# Validation against published figures (not used in calibration)",
        "",
        f"Generated by `make validate` (`mbo-sim-validate`, sim/analysis/validation.py) with model commit "
        f"`{settings['version']}`: regions {', '.join(settings['regions'])}, start year {settings['start_year']}, "
        f"{settings['years']} years, seeds {', '.join(map(str, settings['seeds']))}, scale {settings['scale']} "
        f"({wall:.0f} s wall time). Targets: `sim/data/validation_targets.csv`.",
        "",
        "Every figure below was **not used in calibration**. The calibration (docs/calibration.md) fits the "
        "base-year enrolment total and BBL share from data/institutions.csv, the base-year intake per programme "
        "(enrolment ÷ programme length), vacancies per unemployed and the unemployment drift; the figures here are "
        "other years, other institutions' own forecasts, intake counts, sector mixes and closures.",
        "",
        "Rules: a level is compared in the published year, clipped to the model's years (flagged); a change is "
        "compared over the years model and source share, the published change converted at its own annual rate; "
        "regional totals count sites inside the region, shares count all the region's students. Model = mean "
        "over seeds, band = 5–95 %. *met*: the published value lies in the band widened by 10 % of the model mean "
        "(levels) or 5 percentage points (changes); otherwise *miss*.",
        "",
        "## Model vs published",
        "",
        "| region | measure | scope | year (model) | model (5–95 %) | published | gap | verdict | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        model = f"{_fmt(r.model, r.unit)} ({_fmt(r.model_p5, r.unit)}–{_fmt(r.model_p95, r.unit)})"
        src = f"[{r.source.split(',')[0]}]({r.url}) — {NOT_USED}"
        year = r.year + (f" ⚑ {r.flags}" if r.flags else "")
        lines.append(f"| {REGION_LABELS[r.region]} | {r.measure} | {r.scope} | {year} | {model} | "
                     f"{_fmt(r.published, r.unit)} | {r.gap_text} | {r.verdict} | {src} |")
    misses = table[table["verdict"] != "met"]
    lines += ["", f"## Misses ({len(misses)} of {len(table)}) and their likely reasons", ""]
    if misses.empty:
        lines.append("None.")
    for r in misses.itertuples():
        lines.append(f"- **{REGION_LABELS[r.region]} · {r.measure} · {r.scope}** ({r.year}): model "
                     f"{_fmt(r.model, r.unit)}, published {_fmt(r.published, r.unit)} ({r.gap_text}). "
                     f"Likely reason: {r.reason}. Source note: {r.note}")
    lines += ["", "## Figures", ""]
    captions = {
        "enrolment.png": "Enrolment per region (sites in the region) and per institution or site with a published "
                         "figure; red points: published levels; dashed: published changes drawn from the model's "
                         "value in the first shared year.",
        "intake.png": "Left: the model's intake per region. Right: intake and enrolment shares by sector and the "
                      "intake/enrolment ratio, model vs published.",
        "closures.png": "Cumulative programme closures in the model; dotted: closures reported in the sources.",
    }
    for p, rp in zip(figures, rel, strict=True):
        lines += [f"![{p.stem}]({rp})", "", f"{captions.get(p.name, '')} Sources: see the table; {NOT_USED}.", ""]
    lines += ["## Sources", ""]
    for src, url in table[["source", "url"]].drop_duplicates().itertuples(index=False):
        lines.append(f"- {src}. <{url}> — {NOT_USED}.")
    lines.append("")
    return "\n".join(lines)


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def validate(regions=REGIONS, seeds=(1, 2, 3), scale=0.5, start_year=2021, years=20, jobs=2,
             targets_path: str | Path = TARGETS, md_path: str | Path = "docs/validation.md",
             fig_dir: str | Path | None = None, progress=print) -> pd.DataFrame:
    """Run, compare, plot and write the report; returns the comparison table."""
    targets = load_targets(targets_path)  # a bad file fails before any run
    md_path = Path(md_path)
    fig_dir = Path(fig_dir) if fig_dir is not None else md_path.parent / "figures" / "validation"
    t0 = time.perf_counter()
    runs = run_all(list(regions), list(seeds), start_year, years, scale, jobs=jobs, progress=progress)
    table = compare(targets, runs)
    figures = [plot_enrolment(targets, runs, table, fig_dir), plot_intake(runs, table, fig_dir),
               plot_closures(targets, runs, fig_dir)]
    settings = {"version": model_version(), "regions": list(regions), "seeds": list(seeds), "scale": scale,
                "start_year": start_year, "years": years}
    _atomic_write_text(md_path, render(table, figures, md_path, settings, time.perf_counter() - t0))
    progress(f"wrote {md_path} and {len(figures)} figures in {fig_dir} "
             f"({(table['verdict'] == 'met').sum()} met, {(table['verdict'] != 'met').sum()} missed)")
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mbo-sim-validate", description=__doc__.split("\n\n")[0])
    p.add_argument("--regions", nargs="+", default=list(REGIONS), choices=REGIONS)
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (1..N), default 3")
    p.add_argument("--scale", type=float, default=0.5)
    p.add_argument("--start-year", type=int, default=2021)
    p.add_argument("--years", type=int, default=20)
    p.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument("--targets", default=str(TARGETS))
    p.add_argument("--out", default="docs/validation.md", help="the report (Markdown), relative to the working dir")
    p.add_argument("--figures", default=None, help="figure folder (default: <out dir>/figures/validation)")
    a = p.parse_args(argv)
    if a.seeds < 1:
        p.error("--seeds must be >= 1")
    try:
        validate(a.regions, range(1, a.seeds + 1), a.scale, a.start_year, a.years, a.jobs, a.targets, a.out,
                 a.figures)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
