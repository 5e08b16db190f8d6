"""What the dashboard shows of an experiment folder: tables (each downloadable as CSV) and figures
(matplotlib, labels in the chosen language).

Everything is read from the folder as the runtime wrote it, with the report's own aggregations
(:mod:`sim.analysis.aggregate`, :mod:`sim.analysis.stats`); nothing here reruns the model.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.aggregate import CLOSURE_EVENTS, paired_effects, shortage_metrics, survival  # noqa: E402
from sim.analysis.coverage import any_level  # noqa: E402
from sim.analysis.figures import (  # noqa: E402
    arm_colours,
    bands_figure,
    coverage_map_figure,
    intake_per_run,
    municipal_polygons,
    survival_figure,
)
from sim.analysis.load import load_runs, read_table, reference_arm  # noqa: E402
from sim.codes import SECTORS  # noqa: E402
from sim.dashboard.text import Text  # noqa: E402
from sim.io.loaders import resolve_data_dir  # noqa: E402

# the comparison's metrics: a run's summary (or shortage) metric -> how it is shown
COMPARED = ("closures", "bundled_programmes", "programmes_open_end", "coverage_min_end", "hard_to_fill_end",
            "unmet_demand_care", "unmet_demand_technical", "policy_cost_eur", "llo_trajectories",
            "mean_intake_travel_minutes")
PERCENT = {"coverage_min_end"}  # shares, shown in percentage points


@dataclass
class Outcomes:
    """The tables of one experiment folder (every region, arm and replicate in it)."""

    exp_dir: Path
    runs: pd.DataFrame  # one row per run: factors, replicate, arm, headline metrics
    survival: pd.DataFrame
    closures: pd.DataFrame
    access: pd.DataFrame
    shortage: pd.DataFrame
    intake: pd.DataFrame
    costs: pd.DataFrame
    effects: pd.DataFrame

    @property
    def arms(self) -> list[str]:
        """The arms, the reference (without levers) first."""
        ref = reference_arm(self.runs)
        return [ref, *(a for a in dict.fromkeys(self.runs["arm"]) if a != ref)]

    @property
    def end_year(self) -> int:
        r = self.runs.iloc[0]
        return int(r.start_year) + int(r.years) - 1


def load(exp_dir: str | Path) -> Outcomes:
    """Read an experiment folder (FileNotFoundError when it has no complete run)."""
    exp_dir = Path(exp_dir)
    runs = load_runs(exp_dir)
    lab = read_table(exp_dir, runs, "labour")
    with_shortage, _ = shortage_metrics(lab, runs)
    return Outcomes(exp_dir, with_shortage, survival(exp_dir, runs), closure_list(exp_dir, runs),
                    any_level(read_table(exp_dir, runs, "access")), shortage_by_year(lab),
                    intake_per_run(read_table(exp_dir, runs, "education")), lever_costs(exp_dir, runs),
                    paired_effects(with_shortage, tuple(m for m in COMPARED if m in with_shortage)))


def closure_list(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Every opleiding that closes or is bundled: arm, replicate, year, institution, site, name."""
    ev = read_table(exp_dir, runs, "events")
    ev = ev[ev["event"].isin(CLOSURE_EVENTS)]
    out = ev.assign(year=ev["date"].dt.year)[["region", "arm", "replicate", "year", "institution", "location",
                                              "crebo", "qualification", "sector", "level", "event", "reason"]]
    return out.sort_values(["region", "arm", "replicate", "year", "institution", "location"]).reset_index(drop=True)


def shortage_by_year(lab: pd.DataFrame) -> pd.DataFrame:
    """Per run, sector and year: the mean monthly hard-to-fill vacancies and unmet demand (persons)."""
    lab = lab.assign(year=pd.to_datetime(lab["date"]).dt.year)
    cols = ["hard_to_fill"] + (["unmet_demand"] if "unmet_demand" in lab else [])
    return lab.groupby(["region", "arm", "replicate", "sector", "year"])[cols].mean().reset_index()


def lever_costs(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run, lever and year: the lever's cost in euro (the ``policy`` table's ``cost_eur`` rows)."""
    pol = read_table(exp_dir, runs, "policy")
    pol = pol[pol["quantity"] == "cost_eur"]
    return pol.rename(columns={"value": "cost_eur"})[["region", "arm", "replicate", "lever", "year", "cost_eur"]]


# --- the comparison in plain words -----------------------------------------------------------------
def number(value: float, text: Text, digits: int = 1) -> str:
    """A number in the language's style: a true minus sign, the decimal comma in Dutch."""
    if value is None or not np.isfinite(value):
        return "–"
    s = f"{abs(value):,.{digits}f}"
    if text.lang == "nl":
        s = s.replace(",", " ").replace(".", ",").replace(" ", ".")
    return ("−" if value < 0 and float(s.replace(".", "").replace(",", ".") or 0) != 0 else "") + s


def _digits(values: list[float]) -> int:
    biggest = max((abs(v) for v in values if np.isfinite(v)), default=0)
    return 0 if biggest >= 100 else 1


def comparison(out: Outcomes, text: Text) -> pd.DataFrame:
    """The paired comparison (with lever − without), one row per region and metric, in the language
    of ``text``: the metric, both arms' means, the difference with its 95 % CI, and a sentence."""
    rows = []
    for r in out.effects.itertuples():
        base = out.runs.loc[(out.runs["arm"] == r.reference) & (out.runs["region"] == r.region), r.metric]
        arm = out.runs.loc[(out.runs["arm"] == r.arm) & (out.runs["region"] == r.region), r.metric]
        k = 100.0 if r.metric in PERCENT else 1.0
        values = [k * v for v in (float(base.mean()), float(arm.mean()), r.diff_mean, r.ci_low, r.ci_high)]
        d = _digits(values)
        label = text.metric(r.metric, out.end_year)
        diff = number(values[2], text, d)
        if values[2] > 0:
            diff = "+" + diff
        if r.n > 1:
            ci = text("ci", low=number(values[3], text, d), high=number(values[4], text, d))
        else:
            ci = text("no_ci")
        rows.append({text("region"): r.region, text("metric"): label,
                     text("without"): number(values[0], text, d), text("with"): number(values[1], text, d),
                     text("difference"): diff, text("ci_low"): number(values[3], text, d),
                     text("ci_high"): number(values[4], text, d), text("pairs"): int(r.n),
                     text("in_words"): f"{label}: {diff} ({ci})"})
    return pd.DataFrame(rows)


# --- figures ---------------------------------------------------------------------------------------
def arm_names(out: Outcomes, text: Text) -> dict[str, str]:
    return {a: text.arm(a) for a in out.arms}


def _relabel(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return df.assign(arm=df["arm"].map(names))


def _colours(names: dict[str, str]) -> dict:
    return arm_colours(list(names.values()))


def survival_fig(out: Outcomes, region: str, text: Text) -> Figure:
    names = arm_names(out, text)
    s = _relabel(out.survival[out.survival["region"] == region], names)
    return survival_figure(s, _colours(names), text("fig_survival", region=text.choice(region)),
                           text("x_years_since_start"), text("y_survival"), text.sectors(), text("arm"))


def intake_fig(out: Outcomes, region: str, text: Text) -> Figure:
    names = arm_names(out, text)
    rows = _relabel(out.intake[out.intake["region"] == region], names)
    return bands_figure(rows, "school_year", "intake", _colours(names), text("fig_intake", region=text.choice(region)),
                        text("x_school_year"), text("y_intake"), text.sectors(), text("arm"))


def shortage_fig(out: Outcomes, region: str, measure: str, text: Text) -> Figure:
    names = arm_names(out, text)
    rows = _relabel(out.shortage[out.shortage["region"] == region], names)
    return bands_figure(rows, "year", measure, _colours(names), text(f"fig_{measure}", region=text.choice(region)),
                        text("x_year"), text(f"y_{measure}"), text.sectors(), text("arm"))


def closures_fig(out: Outcomes, region: str, text: Text) -> Figure:
    """Cumulative closures and bundlings by year, per arm: mean over replications."""
    names = arm_names(out, text)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    runs = out.runs[out.runs["region"] == region]
    first, last = int(runs["start_year"].min()), out.end_year
    years = np.arange(first, last + 1)
    colours = _colours(names)
    for arm in out.arms:
        c = out.closures[(out.closures["region"] == region) & (out.closures["arm"] == arm)]
        n = max(runs.loc[runs["arm"] == arm, "replicate"].nunique(), 1)
        per_year = c.groupby("year").size().reindex(years, fill_value=0).cumsum() / n
        ax.step(years, per_year.to_numpy(), where="post", color=colours[names[arm]], label=names[arm])
    ax.set_xlabel(text("x_year"))
    ax.set_ylabel(text("y_closures"))
    ax.set_title(text("fig_closures", region=text.choice(region)))
    ax.set_ylim(bottom=0)
    ax.legend(title=text("arm"))
    fig.tight_layout()
    return fig


def costs_fig(out: Outcomes, region: str, text: Text) -> Figure:
    """Each lever's yearly cost (mean over replications), in million euro."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    c = out.costs[out.costs["region"] == region]
    if c.empty:
        ax.text(0.5, 0.5, text("no_costs"), ha="center", va="center", transform=ax.transAxes)
    for (arm, lever), g in c.groupby(["arm", "lever"]):
        yearly = g.groupby("year")["cost_eur"].mean() / 1e6
        ax.plot(yearly.index, yearly.to_numpy(), marker="o", ms=3, label=f"{text.arm(arm)} — {text.lever(lever)}")
    ax.set_xlabel(text("x_year"))
    ax.set_ylabel(text("y_costs"))
    ax.set_title(text("fig_costs", region=text.choice(region)))
    ax.set_ylim(bottom=0)
    if not c.empty:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@cache
def _shapes(data_dir: Path) -> dict:
    return municipal_polygons(data_dir)


def worst_sector(out: Outcomes, region: str) -> str:
    """The sector whose minutes to the nearest open opleiding grew most in the arm without levers."""
    a = out.access[(out.access["region"] == region) & (out.access["arm"] == out.arms[0])]
    change = a.groupby(["sector", "school_year"])["minutes_to_nearest"].mean().unstack()
    if change.empty:
        return SECTORS[0]
    return str((change.iloc[:, -1] - change.iloc[:, 0]).fillna(-np.inf).idxmax())


def coverage_fig(out: Outcomes, region: str, arm: str, sector: str, text: Text, data_dir: Path | None = None) -> Figure:
    a = out.access[(out.access["region"] == region) & (out.access["arm"] == arm) & (out.access["sector"] == sector)]
    name = text.sectors()[sector]
    return coverage_map_figure(a, _shapes(resolve_data_dir(data_dir)),
                               text("fig_coverage", sector=name, region=text.choice(region), arm=text.arm(arm)),
                               text("cbar_coverage", sector=name), text("x_lon"), text("y_lat"))


def coverage_table(out: Outcomes, region: str, sector: str) -> pd.DataFrame:
    """Minutes to the nearest open opleiding of ``sector`` per municipality and arm: first and last
    school year (mean over replications; empty where none is open)."""
    a = out.access[(out.access["region"] == region) & (out.access["sector"] == sector)]
    first, last = a["school_year"].min(), a["school_year"].max()
    a = a[a["school_year"].isin([first, last])]
    t = a.groupby(["arm", "municipality", "school_year"])["minutes_to_nearest"].mean().unstack("school_year")
    t.columns = [f"minutes_{c}" for c in t.columns]
    return t.reset_index()


_PYPLOT = threading.Lock()  # pyplot's figure registry is global: sessions (threads) draw one at a time


def render(draw, *args) -> bytes:
    """``draw(*args)`` (a figure function of this module) as PNG bytes, one figure at a time."""
    with _PYPLOT:
        return png(draw(*args))


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (100 dpi), closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
