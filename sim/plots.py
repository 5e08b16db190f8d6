"""Figures of one run: shortages by sector, open programmes, intake by sector, population by status."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

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


def plot_run(frames: dict[str, pd.DataFrame], out: Path, title: str = "") -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    lab = frames["labour"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.5))
    wide = lab.pivot(index="date", columns="sector", values="hard_to_fill")
    for s in wide.columns:
        a1.plot(wide.index, wide[s], label=s, color=SECTOR_COLOURS.get(s))
    a1.set(title="Hard-to-fill vacancies (open ≥ 3 months)", xlabel="month", ylabel="vacancies (persons)")
    tight = lab.pivot(index="date", columns="sector", values="tightness")
    for s in tight.columns:
        a2.plot(tight.index, tight[s], label=s, color=SECTOR_COLOURS.get(s))
    a2.set(title="Tightness (vacancies per unemployed job seeker)", xlabel="month",
           ylabel="vacancies / job seekers", yscale="log")
    _legend_outside(a2)
    fig.suptitle(f"Shortages by sector — {title}")
    paths.append(out / "shortages_by_sector.png")
    _save(fig, paths[-1])

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
