"""Aggregate an experiment: one summary table, survival curves, shortage maps, policy effects.

    mbo-sim-report results/<experiment> [--sector care]

Reads every complete run under ``results/<experiment>/runs/`` and writes
``results/<experiment>/summary.parquet`` (one row per run: its factors and headline metrics) and
``results/<experiment>/report/`` (figures and ``report.md``). Runs after every sweep of a named
experiment through :class:`ReportCallback`.

Arms are the factors that vary across runs other than region and replicate (policy,
demography, economy, ...). Policy effects are paired differences: each arm against the reference
arm of the same region and replicate (the same seed, common random numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from scipy import stats  # noqa: E402

from sim.codes import SECTORS  # noqa: E402
from sim.io.loaders import resolve_data_dir  # noqa: E402
from sim.io.writer import markdown_table  # noqa: E402

FACTORS = ("region", "demography", "economy", "policy", "scale", "years", "start_year")
EFFECT_METRICS = ("closures", "coverage_min_end", "hard_to_fill_end", "llo_trajectories", "policy_cost_eur")
CLOSURE_EVENTS = ("closed", "bundled")
MILESTONES = (2030, 2035, 2045)


# --- loading ----------------------------------------------------------------------------------
def load_runs(exp_dir: Path) -> pd.DataFrame:
    """One row per complete run: folder, factors, replicate, seed and scalar headline metrics."""
    rows = []
    for manifest_path in sorted((exp_dir / "runs").glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("status") != "complete":
            continue
        cfg = manifest["config"]
        summary = json.loads((manifest_path.parent / "summary.json").read_text())
        policy = "+".join(sorted(cfg.get("policy") or {})) or "none"
        row: dict[str, Any] = {
            "run": manifest_path.parent.name, "region": cfg["region"]["name"],
            "demography": cfg["demography"]["name"], "economy": cfg["economy"]["name"], "policy": policy,
            "scale": cfg["scale"], "years": cfg["years"], "start_year": cfg["start_year"],
            "replicate": cfg.get("replicate", 0), "seed": manifest["seed"],
        }
        row.update({k: v for k, v in summary.items() if not isinstance(v, dict)})
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"no complete runs under {exp_dir / 'runs'}")
    df = pd.DataFrame(rows)
    varying = [f for f in FACTORS if f != "region" and df[f].nunique() > 1]
    df["arm"] = df[varying].astype(str).agg(" / ".join, axis=1) if varying else "all"
    return df


def _read(exp_dir: Path, runs: pd.DataFrame, table: str) -> pd.DataFrame:
    parts = []
    for r in runs.itertuples():
        df = pd.read_parquet(exp_dir / "runs" / r.run / f"{table}.parquet")
        parts.append(df.assign(run=r.run, region=r.region, arm=r.arm, replicate=r.replicate))
    return pd.concat(parts, ignore_index=True)


def reference_arm(runs: pd.DataFrame) -> str:
    arms = list(dict.fromkeys(runs["arm"]))
    for a in arms:
        if "none" in a.split(" / "):
            return a
    return arms[0]


# --- analyses -----------------------------------------------------------------------------------
def survival(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Kaplan–Meier programme survival per region, arm and sector (closure or bundling ends a
    programme; censored at the horizon), pooled over replications, with 95 % bands."""
    edu = _read(exp_dir, runs, "education")
    ev = _read(exp_dir, runs, "events")
    out = []
    for (region, arm), grp in runs.groupby(["region", "arm"]):
        r0 = grp.iloc[0]
        horizon = 12 * int(r0.years)
        start = pd.Timestamp(f"{int(r0.start_year)}-01-01")
        progs = edu[(edu["run"].isin(grp["run"])) & (edu["school_year"] == int(r0.start_year))]
        ends = ev[ev["run"].isin(grp["run"]) & ev["event"].isin(CLOSURE_EVENTS)]
        ends = ends.groupby(["run", "programme_id"])["date"].min()
        for sector in SECTORS:
            p = progs[progs["sector"] == sector]
            if p.empty:
                continue
            key = list(zip(p["run"], p["programme_id"], strict=True))
            end = ends.reindex(key)
            closed = end.notna().to_numpy()
            months = np.where(closed, (end.dt.year - start.year) * 12 + end.dt.month - start.month + 0.5, horizon)
            data = stats.CensoredData(uncensored=months[closed].astype(float),
                                      right=months[~closed].astype(float))
            res = stats.ecdf(data)
            t = np.arange(0, horizon + 1, 3, dtype=float)
            ci = res.sf.confidence_interval(0.95)
            out.append(pd.DataFrame({"region": region, "arm": arm, "sector": sector, "month": t,
                                     "survival": res.sf.evaluate(t), "low": ci.low.evaluate(t),
                                     "high": ci.high.evaluate(t), "programmes": len(p)}))
    return pd.concat(out, ignore_index=True)


def closures_by_year(exp_dir: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Share of replications in which each programme has closed by each milestone year."""
    ev = _read(exp_dir, runs, "events")
    ev = ev[ev["event"].isin(CLOSURE_EVENTS)]
    n_reps = runs.groupby(["region", "arm"])["replicate"].nunique()
    rows = []
    for (region, arm, pid), g in ev.groupby(["region", "arm", "programme_id"]):
        first = g.groupby("run")["date"].min().dt.year
        row = {"region": region, "arm": arm, "programme_id": pid, "sector": g["sector"].iloc[0],
               "level": int(g["level"].iloc[0]), "location": g["location"].iloc[0]}
        for year in MILESTONES:
            row[f"closed_by_{year}"] = float((first <= year).sum() / n_reps[(region, arm)])
        rows.append(row)
    cols = ["region", "arm", "programme_id", "sector", "level", "location", *[f"closed_by_{y}" for y in MILESTONES]]
    return pd.DataFrame(rows, columns=cols)


def paired_effects(runs: pd.DataFrame, metrics: tuple[str, ...] = EFFECT_METRICS) -> pd.DataFrame:
    """Paired differences with a 95 % CI (Student t over replications).

    Where the policy varies and ``none`` is one of its values, each policy arm is compared with
    ``none`` under the same other factors (region, demography, economy, …) and replicate; else
    each arm with the reference arm of the same region and replicate."""
    varying = [f for f in FACTORS if f != "region" and runs[f].nunique() > 1]
    if "policy" in varying and (runs["policy"] == "none").any():
        keys = ["region", *(f for f in varying if f != "policy"), "replicate"]
        base_rows = runs[runs["policy"] == "none"]
        others = runs[runs["policy"] != "none"]
    else:
        keys = ["region", "replicate"]
        base_rows = runs[runs["arm"] == reference_arm(runs)]
        others = runs[runs["arm"] != reference_arm(runs)]
    base = base_rows.set_index(keys)
    rows = []
    for (region, arm), grp in others.groupby(["region", "arm"]):
        g = grp.set_index(keys)
        common = g.index.intersection(base.index)
        ref = " / ".join(dict.fromkeys(base.loc[common, "arm"])) if len(common) else ""
        for m in metrics:
            d = (g.loc[common, m] - base.loc[common, m]).to_numpy(dtype=float)
            n = d.size
            mean = float(d.mean()) if n else np.nan
            half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            rows.append({"region": region, "arm": arm, "reference": ref, "metric": m, "diff_mean": mean,
                         "ci_low": mean - half, "ci_high": mean + half, "n": n})
    return pd.DataFrame(rows, columns=["region", "arm", "reference", "metric", "diff_mean", "ci_low", "ci_high",
                                       "n"])


# --- figures ------------------------------------------------------------------------------------
def _arm_colours(arms: list[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {a: cmap(i % 10) for i, a in enumerate(arms)}


def plot_survival(surv: pd.DataFrame, out: Path) -> list[Path]:
    paths = []
    colours = _arm_colours(list(dict.fromkeys(surv["arm"])))
    for region, g in surv.groupby("region"):

        def draw(ax, sector, g=g):
            for arm, ga in g[g["sector"] == sector].groupby("arm", sort=False):
                years = ga["month"] / 12
                ax.step(years, ga["survival"], where="post", color=colours[arm], label=arm)
                ax.fill_between(years, ga["low"], ga["high"], step="post", color=colours[arm], alpha=0.15)
            ax.set_ylim(0, 1.02)

        paths.append(_sector_grid(draw, "years since start", "share of programmes still open (Kaplan–Meier, 95 % band)",
                                  f"Programme survival by sector — {region}", out / f"survival_{region}.png",
                                  sharey=True))
    return paths


def _sector_grid(draw, xlabel: str, ylabel: str, title: str, path: Path, sharey: bool = False) -> Path:
    """One panel per sector (3 × 4), drawn by ``draw(ax, sector)``, the legend in the spare panel."""
    fig, axes = plt.subplots(3, 4, figsize=(14, 9), sharex=True, sharey=sharey)
    for ax, sector in zip(axes.flat, SECTORS, strict=False):
        draw(ax, sector)
        ax.set_title(sector, fontsize=9)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=8, title="arm")
    fig.supxlabel(xlabel)
    fig.supylabel(ylabel)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_intake(edu: pd.DataFrame, out: Path) -> list[Path]:
    """mbo intake per sector and school year, per arm: median and 5–95 % over replications."""
    paths = []
    colours = _arm_colours(list(dict.fromkeys(edu["arm"])))
    per_run = edu.groupby(["region", "arm", "sector", "replicate", "school_year"])["intake"].sum().reset_index()
    for region, g in per_run.groupby("region"):

        def draw(ax, sector, g=g):
            for arm, ga in g[g["sector"] == sector].groupby("arm", sort=False):
                q = ga.groupby("school_year")["intake"].quantile([0.05, 0.5, 0.95]).unstack()
                ax.plot(q.index, q[0.5], color=colours[arm], label=arm)
                ax.fill_between(q.index, q[0.05], q[0.95], color=colours[arm], alpha=0.15)
            ax.set_ylim(bottom=0)

        paths.append(_sector_grid(draw, "school year (starting September)",
                                  "new mbo students (persons; median, 5–95 % over replications)",
                                  f"mbo intake by sector — {region}", out / f"intake_{region}.png"))
    return paths


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
    paths = []
    colours = _arm_colours(list(dict.fromkeys(lab["arm"])))
    lab = lab.assign(year=pd.to_datetime(lab["date"]).dt.year)
    yearly = lab.groupby(["region", "arm", "sector", "replicate", "year"])[["vacancies", "job_seekers"]].sum()
    yearly["tightness"] = yearly["vacancies"] / yearly["job_seekers"].where(yearly["job_seekers"] > 0)
    for region, g in yearly.reset_index().groupby("region"):

        def draw(ax, sector, g=g):
            for arm, ga in g[g["sector"] == sector].groupby("arm", sort=False):
                q = ga.groupby("year")["tightness"].quantile([0.05, 0.5, 0.95]).unstack()
                ax.plot(q.index, q[0.5], color=colours[arm], label=arm)
                ax.fill_between(q.index, q[0.05], q[0.95], color=colours[arm], alpha=0.15)
            ax.axhline(1.0, color="grey", lw=0.5, ls=":")

        paths.append(_sector_grid(draw, "year",
                                  "vacancies per unemployed job seeker (median, 5–95 % over replications)",
                                  f"Tightness by sector — {region}", out / f"tightness_{region}.png"))
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


def _municipal_polygons(data_dir: Path) -> dict[str, list[np.ndarray]]:
    geo = json.loads((data_dir / "municipalities_2017_wgs84.geojson").read_text())
    shapes: dict[str, list[np.ndarray]] = {}
    for f in geo["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        shapes[f["properties"]["municipality"]] = [np.asarray(p[0]) for p in polys]
    return shapes


def plot_coverage_maps(access: pd.DataFrame, runs: pd.DataFrame, sector: str, data_dir: Path,
                       out: Path) -> list[Path]:
    shapes = _municipal_polygons(data_dir)
    ref = reference_arm(runs)
    a = access[(access["arm"] == ref) & (access["sector"] == sector)]
    paths = []
    for region, g in a.groupby("region"):
        first, last = g["school_year"].min(), g["school_year"].max()
        fig, axes = plt.subplots(1, 2, figsize=(11, 5))
        vmax = float(np.nanmax(g["minutes_to_nearest"].to_numpy())) if g["minutes_to_nearest"].notna().any() else 60
        for ax, year in zip(axes, (first, last), strict=True):
            m = g[g["school_year"] == year].groupby("municipality")["minutes_to_nearest"].mean()
            polys, values = [], []
            for name, minutes in m.items():
                for poly in shapes.get(name, []):
                    polys.append(poly)
                    values.append(np.nan if pd.isna(minutes) else minutes)
            coll = PolyCollection(polys, array=np.ma.masked_invalid(values), cmap="viridis_r", edgecolor="white",
                                  linewidth=0.5)
            coll.set_clim(0, vmax)
            coll.cmap.set_bad("lightgrey")
            ax.add_collection(coll)
            ax.autoscale_view()
            ax.set_aspect(1.6)
            ax.set_title(f"{year}")
            ax.set_xlabel("longitude (°E)")
            ax.set_ylabel("latitude (°N)")
        fig.colorbar(coll, ax=axes.tolist(), label=f"minutes to the nearest open {sector} programme (grey: none)")
        fig.suptitle(f"Access to {sector} programmes — {region}, arm '{ref}', mean over replications")
        paths.append(out / f"coverage_map_{region}_{sector}.png")
        fig.savefig(paths[-1], dpi=100, bbox_inches="tight")
        plt.close(fig)
    return paths


# --- the report ------------------------------------------------------------------------------------
def experiment_question(name: str) -> str:
    path = Path(__file__).resolve().parent.parent / "experiments" / f"{name}.yaml"
    if not path.is_file():
        return ""
    lines = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#") and "@package" not in ln]
    return " ".join(lines)


def build(exp_dir: str | Path, sector: str | None = None, data_dir: str | Path | None = None) -> Path:
    """Write summary.parquet and report/ for the experiment folder; returns the report folder."""
    exp_dir = Path(exp_dir)
    runs = load_runs(exp_dir)
    runs.to_parquet(exp_dir / "summary.parquet", index=False)
    out = exp_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    lab = _read(exp_dir, runs, "labour")
    access = _read(exp_dir, runs, "access")
    edu = _read(exp_dir, runs, "education")
    surv = survival(exp_dir, runs)
    surv.to_csv(out / "survival.csv", index=False)
    closed = closures_by_year(exp_dir, runs)
    closed.to_csv(out / "closures_by_year.csv", index=False)
    effects = paired_effects(runs)
    effects.to_csv(out / "policy_effects.csv", index=False)
    if sector is None:  # the sector whose access worsened most in the reference arm
        ref = access[access["arm"] == reference_arm(runs)]
        change = ref.groupby(["sector", "school_year"])["minutes_to_nearest"].mean().unstack()
        sector = str((change.iloc[:, -1] - change.iloc[:, 0]).fillna(-np.inf).idxmax())
    figures = [*plot_survival(surv, out), *plot_intake(edu, out), *plot_shortage_heatmaps(lab, out),
               *plot_tightness_bands(lab, out)]
    forest = plot_forest(effects, out)
    figures += [forest] if forest else []
    figures += plot_coverage_maps(access, runs, sector, resolve_data_dir(data_dir), out)
    write_markdown(exp_dir, runs, closed, effects, figures, out)
    return out


def write_markdown(exp_dir: Path, runs: pd.DataFrame, closed: pd.DataFrame, effects: pd.DataFrame,
                   figures: list[Path], out: Path) -> Path:
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
    if not effects.empty:
        lines += ["## Policy effects (paired differences, 95 % CI)", "", markdown_table(effects.round(3)), ""]
    lines += ["## Figures", ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - hydra is a dependency
    Callback = object  # type: ignore[assignment,misc]


class ReportCallback(Callback):
    """Hydra callback: aggregate the experiment when its sweep ends."""

    def on_multirun_end(self, config, **kwargs: Any) -> None:
        exp_dir = Path(str(config.output_dir)).parent
        out = build(exp_dir, data_dir=config.data_dir)
        print(f"report: {out / 'report.md'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mbo-sim-report", description=__doc__.splitlines()[0])
    ap.add_argument("experiment_dir", help="results/<experiment>")
    ap.add_argument("--sector", choices=SECTORS, default=None, help="sector of the coverage map")
    ap.add_argument("--data-dir", default=None, help="default: the data shipped with the package")
    args = ap.parse_args(argv)
    try:
        out = build(args.experiment_dir, args.sector, args.data_dir)
    except FileNotFoundError as exc:
        print(f"mbo-sim-report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
