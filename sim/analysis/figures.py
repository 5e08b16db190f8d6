"""The figures of the experiment report, one PNG each, written into the report folder.

Per region: programme survival, mbo intake and tightness by sector (one panel a sector, one line
and band an arm), hard-to-fill vacancies by sector and year (a heat map an arm) and access to one
sector's programmes (a map, first and last school year); over all regions the policy effects
(a forest plot). Every ``plot_*`` function returns the paths it wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.codes import SECTORS  # noqa: E402


def arm_colours(arms: list[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {a: cmap(i % 10) for i, a in enumerate(arms)}


def survival_figure(surv: pd.DataFrame, colours: dict[str, Any], title: str,
                    xlabel: str = "years since start",
                    ylabel: str = "share of programmes still open (Kaplan–Meier, 95 % band)",
                    names: dict[str, str] | None = None, legend_title: str = "arm") -> Figure:
    """Programme survival of one region: a panel a sector, a step line and band an arm."""

    def draw(ax, sector):
        for arm, ga in surv[surv["sector"] == sector].groupby("arm", sort=False):
            years = ga["month"] / 12
            ax.step(years, ga["survival"], where="post", color=colours[arm], label=arm)
            ax.fill_between(years, ga["low"], ga["high"], step="post", color=colours[arm], alpha=0.15)
        ax.set_ylim(0, 1.02)

    return sector_grid(draw, xlabel, ylabel, title, sharey=True, names=names, legend_title=legend_title)


def plot_survival(surv: pd.DataFrame, out: Path) -> list[Path]:
    colours = arm_colours(list(dict.fromkeys(surv["arm"])))
    return [save(survival_figure(g, colours, f"Programme survival by sector — {region}"),
                 out / f"survival_{region}.png") for region, g in surv.groupby("region")]


def sector_grid(draw, xlabel: str, ylabel: str, title: str, sharey: bool = False,
                names: dict[str, str] | None = None, legend_title: str = "arm") -> Figure:
    """One panel per sector (3 × 4), drawn by ``draw(ax, sector)``, the legend in the spare panel;
    ``names`` titles the panels (default: the sector codes)."""
    fig, axes = plt.subplots(3, 4, figsize=(14, 9), sharex=True, sharey=sharey)
    for ax, sector in zip(axes.flat, SECTORS, strict=False):
        draw(ax, sector)
        ax.set_title((names or {}).get(sector, sector), fontsize=9)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=8, title=legend_title)
    fig.supxlabel(xlabel)
    fig.supylabel(ylabel)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: Path, **kwargs: Any) -> Path:
    """Write ``fig`` as a PNG (100 dpi) and close it."""
    fig.savefig(path, dpi=100, **kwargs)
    plt.close(fig)
    return path


def _median_bands(ax, rows: pd.DataFrame, x: str, y: str, colours: dict[str, Any]) -> None:
    """One line an arm: the median of ``y`` over replications against ``x``, in a 5–95 % band."""
    for arm, ga in rows.groupby("arm", sort=False):
        q = ga.groupby(x)[y].quantile([0.05, 0.5, 0.95]).unstack()
        ax.plot(q.index, q[0.5], color=colours[arm], label=arm)
        ax.fill_between(q.index, q[0.05], q[0.95], color=colours[arm], alpha=0.15)


def bands_figure(rows: pd.DataFrame, x: str, y: str, colours: dict[str, Any], title: str, xlabel: str,
                 ylabel: str, names: dict[str, str] | None = None, legend_title: str = "arm",
                 from_zero: bool = True) -> Figure:
    """A panel a sector: per arm the median of ``y`` over replications against ``x``, in a 5–95 % band."""

    def draw(ax, sector):
        _median_bands(ax, rows[rows["sector"] == sector], x, y, colours)
        if from_zero:
            ax.set_ylim(bottom=0)

    return sector_grid(draw, xlabel, ylabel, title, names=names, legend_title=legend_title)


def intake_per_run(edu: pd.DataFrame) -> pd.DataFrame:
    """mbo intake per region, arm, sector, replicate and school year (the programmes summed)."""
    return edu.groupby(["region", "arm", "sector", "replicate", "school_year"])["intake"].sum().reset_index()


def plot_intake(edu: pd.DataFrame, out: Path) -> list[Path]:
    """mbo intake per sector and school year, per arm: median and 5–95 % over replications."""
    colours = arm_colours(list(dict.fromkeys(edu["arm"])))
    return [save(bands_figure(g, "school_year", "intake", colours, f"mbo intake by sector — {region}",
                              "school year (starting September)",
                              "new mbo students (persons; median, 5–95 % over replications)"),
                 out / f"intake_{region}.png")
            for region, g in intake_per_run(edu).groupby("region")]


def plot_shortage_heatmaps(lab: pd.DataFrame, out: Path) -> list[Path]:
    paths = []
    lab = lab.assign(year=pd.to_datetime(lab["date"]).dt.year)
    for region, g in lab.groupby("region"):
        arms = list(dict.fromkeys(g["arm"]))
        mean = g.groupby(["arm", "sector", "year", "replicate"])["hard_to_fill"].mean().groupby(
            ["arm", "sector", "year"]).mean()
        vmax = float(mean.max()) or 1.0
        fig, axes = plt.subplots(1, len(arms), figsize=(5 * len(arms) + 1, 4.5), squeeze=False)
        for ax, arm in zip(axes[0], arms, strict=True):
            grid = mean.loc[arm].unstack("year").reindex(SECTORS)
            im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=vmax)
            ax.set_yticks(range(len(SECTORS)), SECTORS if ax is axes[0][0] else [], fontsize=8)
            years = grid.columns.to_numpy()
            step = max(len(years) // 6, 1)
            ax.set_xticks(range(0, len(years), step), years[::step], fontsize=8)
            ax.set_title(arm, fontsize=9)
            ax.set_xlabel("year")
        fig.colorbar(im, ax=axes[0].tolist(), label="hard-to-fill vacancies (mean over months and replications)")
        fig.suptitle(f"Hard-to-fill vacancies by sector and year — {region}")
        paths.append(out / f"shortage_heatmap_{region}.png")
        fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    return paths


def plot_tightness_bands(lab: pd.DataFrame, out: Path) -> list[Path]:
    colours = arm_colours(list(dict.fromkeys(lab["arm"])))
    lab = lab.assign(year=pd.to_datetime(lab["date"]).dt.year)
    yearly = lab.groupby(["region", "arm", "sector", "replicate", "year"])[["vacancies", "job_seekers"]].sum()
    yearly["tightness"] = yearly["vacancies"] / yearly["job_seekers"].where(yearly["job_seekers"] > 0)
    paths = []
    for region, g in yearly.reset_index().groupby("region"):
        fig = bands_figure(g, "year", "tightness", colours, f"Tightness by sector — {region}", "year",
                           "vacancies per unemployed job seeker (median, 5–95 % over replications)", from_zero=False)
        for ax in fig.axes[: len(SECTORS)]:
            ax.axhline(1.0, color="grey", lw=0.5, ls=":")
        paths.append(save(fig, out / f"tightness_{region}.png"))
    return paths


def plot_forest(effects: pd.DataFrame, out: Path) -> Path | None:
    if effects.empty:
        return None
    metrics = list(dict.fromkeys(effects["metric"]))
    labels = list(dict.fromkeys(effects["region"] + " — " + effects["arm"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 0.45 * len(labels) + 1.8), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, metrics, strict=True):
        e = effects[effects["metric"] == m].assign(label=lambda d: d["region"] + " — " + d["arm"])
        e = e.set_index("label").reindex(labels)
        y = np.arange(len(labels))
        ax.errorbar(e["diff_mean"], y, xerr=[e["diff_mean"] - e["ci_low"], e["ci_high"] - e["diff_mean"]],
                    fmt="o", color="black", ecolor="grey", capsize=3)
        ax.axvline(0, color="red", lw=0.8)
        ax.set_title(m, fontsize=9)
        ax.set_yticks(y, labels, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    refs = list(dict.fromkeys(effects["reference"]))
    what = f"the reference arm '{refs[0]}'" if len(refs) == 1 else "policy 'none' under the same other factors"
    fig.supxlabel(f"difference with {what} (paired by replicate, mean and 95 % CI)")
    fig.suptitle("Policy effects")
    fig.tight_layout()
    path = out / "policy_effects.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def municipal_polygons(data_dir: Path) -> dict[str, list[np.ndarray]]:
    """Municipality name -> outer rings (lon, lat) of its polygons."""
    geo = json.loads((data_dir / "municipalities_2017_wgs84.geojson").read_text())
    shapes: dict[str, list[np.ndarray]] = {}
    for f in geo["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        shapes[f["properties"]["municipality"]] = [np.asarray(p[0]) for p in polys]
    return shapes


def coverage_map_figure(access: pd.DataFrame, shapes: dict[str, list[np.ndarray]], title: str,
                        colorbar_label: str, xlabel: str = "longitude (°E)", ylabel: str = "latitude (°N)") -> Figure:
    """Minutes to the nearest open programme per municipality (mean over the rows' replications), the
    first and last school year of ``access`` side by side; grey where none is open."""
    first, last = access["school_year"].min(), access["school_year"].max()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    minutes = access["minutes_to_nearest"]
    vmax = float(np.nanmax(minutes.to_numpy())) if minutes.notna().any() else 60
    for ax, year in zip(axes, (first, last), strict=True):
        m = access[access["school_year"] == year].groupby("municipality")["minutes_to_nearest"].mean()
        polys, values = [], []
        for name, value in m.items():
            for poly in shapes.get(name, []):
                polys.append(poly)
                values.append(np.nan if pd.isna(value) else value)
        cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="lightgrey")  # grey: nothing open
        coll = PolyCollection(polys, array=np.ma.masked_invalid(values), cmap=cmap, edgecolor="white", linewidth=0.5)
        coll.set_clim(0, vmax)
        ax.add_collection(coll)
        ax.autoscale_view()
        ax.set_aspect(1.6)
        ax.set_title(f"{year}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.colorbar(coll, ax=axes.tolist(), label=colorbar_label)
    fig.suptitle(title)
    return fig


def plot_coverage_maps(access: pd.DataFrame, ref: str, sector: str, data_dir: Path, out: Path) -> list[Path]:
    """Minutes to the nearest open ``sector`` programme (any level) per municipality in arm ``ref``:
    first and last school year side by side (municipal outlines from ``data_dir``)."""
    shapes = municipal_polygons(data_dir)
    if "level" in access:  # any level
        access = access[access["level"] == 0]
    a = access[(access["arm"] == ref) & (access["sector"] == sector)]
    return [save(coverage_map_figure(g, shapes, f"Access to {sector} programmes — {region}, arm '{ref}', mean over "
                                     "replications", f"minutes to the nearest open {sector} programme (grey: none)"),
                 out / f"coverage_map_{region}_{sector}.png", bbox_inches="tight")
            for region, g in a.groupby("region")]
