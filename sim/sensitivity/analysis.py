"""Indices, figures and the report of a sensitivity design: SALib's Morris and Sobol' analyses on the
outputs of :mod:`sim.sensitivity.outputs`, with replication noise kept apart.

Noise. Every sample runs replicates ``0 … reps − 1`` with seeds ``seed + r`` (common random numbers
across samples). The indices are computed on the mean over replicates; with two or more replicates
the report gives each output's *noise share*: the mean within-sample variance of single runs over
their total variance across the design. An index below the noise level says nothing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.io.safe import atomic_folder  # noqa: E402
from sim.io.writer import markdown_table  # noqa: E402
from sim.samples import Parameter, read_design  # noqa: E402
from sim.sensitivity.design import problem  # noqa: E402
from sim.sensitivity.outputs import OUTPUTS, collect  # noqa: E402

NEGLIGIBLE = 0.05  # a parameter "does not matter" for an output: index below 5 % of the output's largest
TOP = 3  # drivers named per output in the report
BOOTSTRAP = 1000  # resamples for the confidence intervals of the indices (SALib)


class Incomplete(ValueError):
    """Some samples of the design have no complete run yet."""


def design_path(exp_dir: Path) -> Path:
    return Path(exp_dir) / "design" / "design.json"


def mean_over_replicates(table: pd.DataFrame, n_samples: int, reps: int = 1,
                         noise_reps: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Per sample, the mean of each output over its replicates ``0 … reps − 1``, and each output's
    noise share: with ``reps`` >= 2 the mean within-sample variance over the total variance of single
    runs; else the variance of sample 0 over its ``noise_reps`` replicates over the variance of the
    samples (NaN without either). A sample without a complete run is an error naming it."""
    outputs = [c for c in OUTPUTS if c in table]
    main = table[table["replicate"] < reps]
    missing = sorted(set(range(n_samples)) - set(main["sample"]))
    if missing:
        raise Incomplete(f"{len(missing)} of {n_samples} samples have no complete run (e.g. sample "
                         f"{missing[0]}); run the same command again to finish the sweep")
    y = main.groupby("sample")[outputs].mean().reindex(range(n_samples))
    if reps >= 2:
        within, total = main.groupby("sample")[outputs].var(ddof=1).mean(), main[outputs].var(ddof=1)
    else:
        repeated = table[table["sample"] == 0]
        within = repeated[outputs].var(ddof=1) if len(repeated) >= 2 else pd.Series(np.nan, index=outputs)
        total = y.var(ddof=1)
    noise = (within / total).where(total > 0)
    return y, noise


def indices(method: str, params: list[Parameter], x: np.ndarray, y: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Long table: output, parameter, and the method's indices (Morris: mu, mu_star, sigma,
    mu_star_conf; Sobol': S1, S1_conf, ST, ST_conf). Outputs that do not vary are left out."""
    prob = problem(params)
    rows = []
    for out in y.columns:
        v = y[out].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)) or np.ptp(v) == 0:
            continue
        if method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(prob, x, v, num_resamples=BOOTSTRAP, num_levels=4, seed=seed)
            cols = ("mu", "mu_star", "sigma", "mu_star_conf")
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(prob, v, calc_second_order=False, num_resamples=BOOTSTRAP, seed=seed)
            cols = ("S1", "S1_conf", "ST", "ST_conf")
        for i, p in enumerate(params):
            rows.append({"output": out, "parameter": p.key, "label": p.label,
                         **{c: float(np.asarray(res[c])[i]) for c in cols}})
    return pd.DataFrame(rows)


def importance(method: str) -> str:
    return "mu_star" if method == "morris" else "ST"


def plot_indices(method: str, idx: pd.DataFrame, path: Path, top: int = 12) -> None:
    """One panel per output: the ``top`` parameters by μ* (with σ) or by ST (with S1), 95 % CIs."""
    outs = list(dict.fromkeys(idx["output"]))
    ncol = 2
    nrow = int(np.ceil(len(outs) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.2 * nrow), squeeze=False)
    for ax, out in zip(axes.flat, outs, strict=False):
        d = idx[idx["output"] == out].nlargest(top, importance(method)).iloc[::-1]
        pos = np.arange(len(d))
        if method == "morris":
            ax.barh(pos + 0.2, d["mu_star"], 0.4, xerr=d["mu_star_conf"], label="μ* (95 % CI)", color="tab:blue")
            ax.barh(pos - 0.2, d["sigma"], 0.4, label="σ", color="tab:orange")
            unit = OUTPUTS[out][1]
            ax.set_xlabel(f"elementary effect over the parameter's range ({unit})")
        else:
            ax.barh(pos + 0.2, d["ST"], 0.4, xerr=d["ST_conf"], label="ST (95 % CI)", color="tab:blue")
            ax.barh(pos - 0.2, d["S1"], 0.4, xerr=d["S1_conf"], label="S1 (95 % CI)", color="tab:orange")
            ax.set_xlabel("share of the output's variance")
        ax.set_yticks(pos, d["label"], fontsize=7)
        ax.set_title(textwrap.fill(f"{out}: {OUTPUTS[out][0]}", 75), fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(outs):]:
        ax.axis("off")
    title = "Morris screening: μ* and σ" if method == "morris" else "Sobol' indices: first (S1) and total (ST) order"
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def ranking(method: str, idx: pd.DataFrame, noise: pd.Series) -> pd.DataFrame:
    """Per output: its top drivers with their index, and how many parameters do not matter."""
    key = importance(method)
    rows = []
    for out, d in idx.groupby("output", sort=False):
        d = d.sort_values(key, ascending=False)
        biggest = d[key].max()
        top = d.head(TOP)
        small = d[d[key] < NEGLIGIBLE * biggest]
        rows.append({
            "output": out,
            "top drivers": "; ".join(f"{r.label} ({getattr(r, key):.3g})" for r in top.itertuples()),
            "negligible": f"{len(small)} of {len(d)}",
            "noise share": "" if pd.isna(noise.get(out)) else f"{noise[out]:.0%}",
        })
    return pd.DataFrame(rows)


def analyse(exp_dir: str | Path) -> Path:
    """Indices, figures and ``report.md`` of the design in ``exp_dir`` -> ``exp_dir/analysis/``."""
    exp_dir = Path(exp_dir)
    design = read_design(design_path(exp_dir))
    method, params, x = design["method"], design["params"], design["x"]
    table = collect(exp_dir)
    y, noise = mean_over_replicates(table, len(x), int(design["settings"].get("reps", 1)),
                                    int(design["settings"].get("noise_reps", 0)))
    seed = int(design["settings"].get("seed", 1))
    idx = indices(method, params, x, y, seed) if method in ("morris", "sobol") else pd.DataFrame()

    def fill(tmp: Path) -> None:
        table.to_csv(tmp / "outputs.csv", index=False)
        noise.rename("noise_share").to_csv(tmp / "noise.csv", index_label="output")
        if len(idx):
            idx.to_csv(tmp / f"{method}_indices.csv", index=False)
            plot_indices(method, idx, tmp / f"{method}_indices.png")
        (tmp / "report.md").write_text(report(exp_dir, design, table, y, noise, idx))

    atomic_folder(exp_dir / "analysis", fill)
    return exp_dir / "analysis"


def report(exp_dir: Path, design: dict, table: pd.DataFrame, y: pd.DataFrame, noise: pd.Series,
           idx: pd.DataFrame) -> str:
    method, params, s = design["method"], design["params"], design["settings"]
    noise_basis = ("replicates of every sample" if s.get("reps", 1) >= 2
                   else f"{s.get('noise_reps', 0)} replicates of sample 0")
    lines = [
        f"# Sensitivity: {method}, {s.get('region')}",
        "",
        f"Design `{exp_dir}`: {len(design['x'])} samples of {len(params)} parameters "
        f"(`configs/uncertainty.yaml`), {s.get('reps', 1)} replicate(s) each, arms "
        f"{', '.join(s.get('arms', []))}, scale {s.get('scale')}, {s.get('years')} years from "
        f"{s.get('start_year', 2025)}; {len(table)} (sample, replicate) pairs.",
        "",
        "## Outputs over the design",
        "",
        markdown_table(y.describe().T[["mean", "std", "min", "50%", "max"]].assign(
            **{"noise share": noise.reindex(y.columns).map(lambda v: "" if pd.isna(v) else f"{v:.0%}")}
        ).reset_index(names="output").round(3)),
        "",
        "Noise share: the variance between replicates (seeds) of one sample ÷ the variance of the "
        f"outputs over the design ({noise_basis}); a parameter whose effect is below that noise "
        "cannot be told from it.",
        "",
    ]
    if len(idx):
        key = importance(method)
        what = ("μ*: the mean absolute elementary effect of moving the parameter over its range "
                "(in the output's unit); σ: how much that effect depends on the other parameters"
                if method == "morris" else
                "ST: the share of the output's variance the parameter explains, with all its interactions; "
                "S1: alone")
        lines += [
            "## Which parameters decide each output",
            "",
            f"Ranked by {key} ({what}). *Negligible*: {key} below {NEGLIGIBLE:.0%} of the output's "
            "largest; those parameters could stay at their defaults for that output.",
            "",
            markdown_table(ranking(method, idx, noise)),
            "",
            f"![indices]({method}_indices.png)",
            "",
        ]
        everywhere = idx.assign(rel=idx[key] / idx.groupby("output")[key].transform("max"))
        never = everywhere.groupby("label")["rel"].max()
        never = sorted(never[never < NEGLIGIBLE].index)
        if never:
            lines += [f"Negligible for every output ({len(never)}): " + ", ".join(f"`{n}`" for n in never) + ".", ""]
    return "\n".join(lines)
