"""Figures of one run: shortages by sector, open programmes, intake by sector, population by status."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator  # noqa: E402

SECTOR_COLOURS = dict(zip(
    ["care", "technical", "construction", "logistics", "retail", "hospitality", "business", "ict",
     "green", "education", "other"],
    plt.get_cmap("tab20").colors[::2] + plt.get_cmap("tab20").colors[1:2], strict=False,
))


def _legend_outside(ax: plt.Axes) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _area_by_sector(edu: pd.DataFrame, column: str, title: str, ylabel: str, path: Path) -> Path:
    """Stacked area of an education column summed per sector and school year."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    wide = edu.groupby(["school_year", "sector"])[column].sum().unstack()
    wide.plot.area(ax=ax, color=[SECTOR_COLOURS.get(s) for s in wide.columns], lw=0)
    ax.set(title=title, xlabel="school year (starting September)", ylabel=ylabel)
    _legend_outside(ax)
    _save(fig, path)
    return path


# --- shortages by sector: yearly lines over a band of the months in the year --------------------
BAND_ALPHA = 0.18


def year_tick_step(span: int) -> int:
    """Years between labelled ticks on an axis spanning ``span`` years: at most about nine labels."""
    return 1 if span <= 8 else 2 if span <= 16 else 5 if span <= 40 else 10


def _year_axis(ax: plt.Axes, first: int, last: int) -> None:
    """Integer-year ticks every 1, 2, 5 or 10 years (by span), a minor tick each year, label "year"."""
    step = year_tick_step(last - first)
    ax.xaxis.set_major_locator(FixedLocator([y for y in range(first, last + 1) if y % step == 0]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f}"))
    ax.xaxis.set_minor_locator(FixedLocator(range(first, last + 1)) if step > 1 else NullLocator())
    ax.set_xlim(first - 0.5, last + 0.5)
    ax.set_xlabel("year")


def shortage_panels(lab: pd.DataFrame) -> list[tuple[str, str, bool, pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The panels of the shortages figure: (title, y label, log scale, line, band low, band high).

    Each of line, low and high is a year × sector table (calendar year of the month's date). The line is
    the yearly figure: hard-to-fill is the mean of the monthly counts; tightness is the year's summed
    vacancies over its summed job seekers (NaN when no job seekers all year); unmet demand (only when the
    labour frame has ``unmet_demand``) is the year's summed monthly persons ÷ 12, i.e. person-years per
    year. The band is the lowest and highest monthly value within the year (for tightness, of the months
    with a positive, finite value, as the panel is log-scaled).
    """
    t = lab["tightness"].astype(float)
    # the log axis cannot show a zero month: the tightness band spans the months with a positive value
    lab = lab.assign(year=pd.to_datetime(lab["date"]).dt.year, tightness_positive=t.where(np.isfinite(t) & (t > 0)))
    g = lab.groupby(["year", "sector"], observed=True)

    def wide(series: pd.Series) -> pd.DataFrame:
        return series.unstack("sector").sort_index()

    def band(col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return wide(g[col].min()), wide(g[col].max())

    sums = g[["vacancies", "job_seekers"]].sum()
    seekers = sums["job_seekers"].where(sums["job_seekers"] > 0)
    panels = [
        ("Hard-to-fill vacancies (open ≥ 3 months)", "vacancies (persons)", False,
         wide(g["hard_to_fill"].mean()), *band("hard_to_fill")),
        ("Tightness (vacancies per unemployed job seeker)", "vacancies / job seekers (ratio)", True,
         wide(sums["vacancies"] / seekers), *band("tightness_positive")),
    ]
    if "unmet_demand" in lab.columns:
        panels.append(("Unmet demand (person-years per year)", "unmet demand (person-years per year)", False,
                       wide(g["unmet_demand"].sum() / 12), *band("unmet_demand")))
    return panels


def _positive(df: pd.DataFrame) -> pd.DataFrame:
    """Finite positive values only (NaN elsewhere): what a log axis can show."""
    return df.where(np.isfinite(df) & (df > 0))


def shortages_figure(lab: pd.DataFrame, title: str = "") -> plt.Figure:
    """Hard-to-fill vacancies, tightness and (if recorded) unmet demand per sector by year.

    On the log-scaled tightness panel, zero, negative and NaN values are left out (a gap in the line or
    band); if nothing positive remains the panel stays linear.
    """
    panels = shortage_panels(lab)
    years = pd.to_datetime(lab["date"]).dt.year
    first, last = int(years.min()), int(years.max())
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 2.2, 4.5), squeeze=False)
    for ax, (panel_title, ylabel, log, line, lo, hi) in zip(axes[0], panels, strict=True):
        if log:
            line, lo, hi = _positive(line), _positive(lo), _positive(hi)
        for s in line.columns:
            (ln,) = ax.plot(line.index, line[s], label=s, color=SECTOR_COLOURS.get(s), lw=1.6, marker=".", ms=4)
            ax.fill_between(lo.index, lo[s], hi[s], color=ln.get_color(), alpha=BAND_ALPHA, lw=0)
        ax.set(title=panel_title, ylabel=ylabel)
        if log and line.notna().to_numpy().any():
            ax.set_yscale("log")
        _year_axis(ax, first, last)
    last_ax = axes[0, -1]
    handles, _ = last_ax.get_legend_handles_labels()
    handles.append(Patch(color="grey", alpha=BAND_ALPHA * 2, label="monthly min–max in the year"))
    last_ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(f"Shortages by sector, yearly — {title}")
    return fig


def plot_run(frames: dict[str, pd.DataFrame], out: Path, title: str = "") -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    paths.append(out / "shortages_by_sector.png")
    _save(shortages_figure(frames["labour"], title), paths[-1])

    edu = frames["education"]
    paths.append(_area_by_sector(edu, "open", f"Open programmes — {title}",
                                 "open programmes (qualification × route × site)", out / "open_programmes.png"))
    paths.append(_area_by_sector(edu, "intake", f"mbo intake by sector — {title}", "new students (persons)",
                                 out / "intake_by_sector.png"))

    pop = frames["population"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    by = pop.groupby(["year", "status"])["persons"].sum().unstack() / 1000
    by.plot.area(ax=ax, lw=0, cmap="tab10")
    ax.set(title=f"Population aged 15 to pension age, by status — {title}", xlabel="year (1 January)",
           ylabel="persons (thousands)")
    _legend_outside(ax)
    paths.append(out / "population_by_status.png")
    _save(fig, paths[-1])
    return paths
