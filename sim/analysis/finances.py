"""The institutions' assumed finances against the sector's annual accounts.

    python -m sim.analysis.finances [EXPERIMENT_DIR]

The closures hang on three inputs no region-level source gives: the institutions' base-year result
(``model.institutions.base_result_share``), their starting reserve and the floor they keep
(``reserve_initial_share``, ``reserve_floor_share``). This compares them, and their ranges in
``configs/uncertainty.yaml``, with the distribution over all mbo institutions of two ratios from
their annual accounts (``data/institution_finances.csv``, DUO via onderwijsincijfers.nl,
2012–2016): the result as a share of income (rentabiliteit) and equity plus provisions as a share of
the balance sheet (solvabiliteit 2). The model's reserve is a share of a year's costs and only its
part above the floor is spent on carrying weak opleidingen; a real institution's free reserve is
its solvency above the Inspectie's signalling value, times its balance sheet over its costs
(both in ``data/institution_finance_figures.csv``). Prints a Markdown table; docs/ODD.md §7.17
quotes it.

With an experiment folder it also compares what the model makes of them: the yearly results of
the region's own institutions (result ÷ income, income = funding + municipal revenue; the outside
sites' institutions, which count only the region's students there, left out) by period, against
the sector's yearly results. Writes ``finances.md`` and ``results.csv`` into the experiment's
``finances/`` folder (written whole, never over a folder mbo-sim did not write).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io.loaders import PACKAGE_DATA_DIR

FINANCES = PACKAGE_DATA_DIR / "institution_finances.csv"
FIGURES = PACKAGE_DATA_DIR / "institution_finance_figures.csv"
#: the institutions whose balance sheet and costs are in FIGURES (``<name>_<year>_<item>``)
ACCOUNTS = ("roc_midden_nederland_2021",)


def bands(indicator: str, path=FINANCES) -> pd.DataFrame:
    """The institutions per band of ``indicator``, pooled over the years: lower, upper, institutions.
    Open-ended bands are closed at the width of their neighbour (for interpolation only)."""
    every = pd.read_csv(path)
    df = every[every["indicator"] == indicator]
    if df.empty:
        raise ValueError(f"{path}: no rows for indicator {indicator!r}; has {sorted(every['indicator'].unique())}")
    out = df.groupby(["lower", "upper"], dropna=False, sort=False)["institutions"].sum().reset_index()
    out = out.sort_values("upper", na_position="last").reset_index(drop=True)
    width = (out["upper"] - out["lower"]).dropna()
    out.loc[out["lower"].isna(), "lower"] = out["upper"] - width.iloc[0]
    out.loc[out["upper"].isna(), "upper"] = out["lower"] + width.iloc[-1]
    return out


def _cdf(b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The band edges and the share of institutions below each (piecewise linear within a band)."""
    cum = np.concatenate([[0.0], b["institutions"].cumsum().to_numpy(float)]) / b["institutions"].sum()
    edges = np.concatenate([[b["lower"].iloc[0]], b["upper"].to_numpy(float)])
    return edges, cum


def quantile(b: pd.DataFrame, q: float) -> float:
    """The ``q`` quantile of a banded distribution, linear within its band."""
    edges, cum = _cdf(b)
    return float(np.interp(q, cum, edges))


def percentile_of(b: pd.DataFrame, x: float) -> float:
    """The share of institutions below ``x`` (0–1), linear within its band."""
    edges, cum = _cdf(b)
    return float(np.interp(x, edges, cum))


def figures(path=FIGURES) -> dict[str, float]:
    """The single figures of ``institution_finance_figures.csv`` by name."""
    df = pd.read_csv(path)
    return dict(zip(df["figure"], df["value"].astype(float), strict=True))


def balance_to_costs(fig: dict[str, float]) -> float:
    """Balance-sheet total over a year's costs, the mean over the institutions of :data:`ACCOUNTS`."""
    return float(np.mean([fig[f"{a}_total_assets"] / fig[f"{a}_costs"] for a in ACCOUNTS]))


def implied_solvency(reserve: float, floor: float, ratio: float, signal_value: float) -> float:
    """The solvabiliteit 2 of a real institution whose free reserve (above the signalling value)
    equals the model's (reserve above the floor, as a share of a year's costs)."""
    return signal_value + (reserve - floor) / ratio


def summary(inst, registry: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """One row per input: the model's value and range, and where they sit in the data."""
    rent, solv = bands("rentabiliteit"), bands("solvabiliteit_2")
    fig = figures()
    ratio, sig = balance_to_costs(fig), fig["solvency_2_signal"]
    lo, hi = registry["model.institutions.base_result_share"]
    r_lo, r_hi = registry["model.institutions.reserve_initial_share"]
    floor = inst.reserve_floor_share
    solvency = [implied_solvency(r, floor, ratio, sig) for r in (inst.reserve_initial_share, r_lo, r_hi)]
    return pd.DataFrame([
        {"input": "base_result_share (result ÷ income)", "data": "rentabiliteit",
         "data_p10_p50_p90": [round(quantile(rent, q), 4) for q in (0.1, 0.5, 0.9)],
         "model": inst.base_result_share, "model_percentile": round(percentile_of(rent, inst.base_result_share), 2),
         "range": [lo, hi], "range_percentiles": [round(percentile_of(rent, x), 2) for x in (lo, hi)]},
        {"input": "reserve_initial_share − reserve_floor_share, as solvabiliteit 2", "data": "solvabiliteit_2",
         "data_p10_p50_p90": [round(quantile(solv, q), 3) for q in (0.1, 0.5, 0.9)],
         "model": round(solvency[0], 3), "model_percentile": round(percentile_of(solv, solvency[0]), 2),
         "range": [round(s, 3) for s in solvency[1:]],
         "range_percentiles": [round(percentile_of(solv, s), 2) for s in solvency[1:]]},
    ])


#: periods of the model's yearly results (school years, inclusive)
PERIODS = ((2025, 2030), (2031, 2037), (2038, 2045))


def in_region_institutions(path=PACKAGE_DATA_DIR / "institutions.csv") -> set[tuple[str, str]]:
    """(region, institution) pairs with a site in the region (``institutions.csv``)."""
    df = pd.read_csv(path, usecols=["region", "institution", "in_region"])
    df = df[df["in_region"].astype(str).str.lower() == "true"]
    return set(zip(df["region"], df["institution"], strict=True))


def model_results(exp_dir: Path, runs: pd.DataFrame | None = None, data_dir: Path | None = None) -> pd.DataFrame:
    """The region's own institutions' yearly results (result ÷ income) in an experiment, by
    region, arm and period: 10th / 50th / 90th percentile over institution-years and replicates,
    and the share of loss-making years; the sector's row (all periods: its 2012-2016 years) first.
    ``runs``: the experiment's runs if already loaded; ``data_dir``: for results without
    ``institutions.parquet``'s ``in_region`` column, where ``institutions.csv`` says which
    institutions have a site in the region (default the package's data)."""
    from sim.analysis.load import load_runs, read_table

    runs = load_runs(exp_dir) if runs is None else runs
    inst = read_table(exp_dir, runs, "institutions")
    if "in_region" in inst.columns:
        keep = inst["in_region"].to_numpy(dtype=bool)
    else:  # results written before institutions.parquet had the column: the data say
        own = in_region_institutions(PACKAGE_DATA_DIR / "institutions.csv" if data_dir is None
                                     else Path(data_dir) / "institutions.csv")
        keep = [(str(r), str(i)) in own for r, i in zip(inst["region"], inst["institution"], strict=True)]
    inst = inst[np.asarray(keep) & (inst["funding_eur"] > 0)].copy()
    inst["result_share"] = inst["result_eur"] / (inst["funding_eur"] + inst["municipal_revenue_eur"])
    rent = bands("rentabiliteit")
    years = pd.read_csv(FINANCES)["year"]
    span = f"{years.min()}-{years.max()}"
    rows = [{"region": f"sector (DUO {span})", "arm": "", "period": span,
             "institution_years": int(rent["institutions"].sum()),
             "p10": quantile(rent, 0.1), "p50": quantile(rent, 0.5), "p90": quantile(rent, 0.9),
             "loss_share": percentile_of(rent, 0.0)}]
    for (region, arm), g in inst.groupby(["region", "arm"], observed=True):
        for lo, hi in PERIODS:
            x = g.loc[g["school_year"].between(lo, hi), "result_share"]
            if len(x):
                rows.append({"region": str(region), "arm": str(arm), "period": f"{lo}-{hi}",
                             "institution_years": len(x), "p10": x.quantile(0.1), "p50": x.median(),
                             "p90": x.quantile(0.9), "loss_share": float((x < 0).mean())})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    from sim.hydra_config import compose
    from sim.io.safe import atomic_folder
    from sim.io.writer import markdown_table
    from sim.sensitivity.registry import load_registry

    ap = argparse.ArgumentParser(prog="python -m sim.analysis.finances", description=__doc__.splitlines()[0])
    ap.add_argument("experiment_dir", nargs="?", help="also compare the yearly results of this experiment's runs")
    args = ap.parse_args(argv)
    params, _ = load_registry()
    registry = {p.key: (p.low, p.high) for p in params}
    md = ["# The institutions' finances against the sector's annual accounts", "", "## Inputs", "",
          markdown_table(summary(compose().model.institutions, registry)), ""]
    if args.experiment_dir:
        exp_dir = Path(args.experiment_dir)
        res = model_results(exp_dir)
        md += ["## Yearly results (result ÷ income), the region's own institutions", "",
               markdown_table(res.round(4)), ""]

        def fill(tmp: Path) -> None:
            res.to_csv(tmp / "results.csv", index=False)
            (tmp / "finances.md").write_text("\n".join(md))

        atomic_folder(exp_dir / "finances", fill)
    print("\n".join(md))


if __name__ == "__main__":
    main()
