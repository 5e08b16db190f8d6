"""Scenario discovery with the EMA Workbench: PRIM boxes and feature scores on a finished design.

A *question* turns an output into a yes/no per sample ("minimal coverage costs more than €X per
protected student", "more than N care opleidingen close by 2045", "the care shortage doubles").
PRIM (Friedman & Fisher 1999, ``ema_workbench.analysis.prim``) peels the parameter space to a box
where the answer is mostly yes; the box chosen is the one with the highest coverage (share of all
yes-samples inside it) among those with density (share of yes inside it) >= ``MIN_DENSITY``.
Feature scores (extra trees, ``ema_workbench.analysis.feature_scoring``) rank the parameters for
each output as a whole; PRIM peels the top ``PRIM_FEATURES`` of them (with dozens of parameters and
a few hundred samples it would otherwise trim dimensions by chance).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io.safe import atomic_folder
from sim.io.writer import markdown_table
from sim.samples import read_design
from sim.sensitivity.analysis import design_path, mean_over_replicates
from sim.sensitivity.design import samples_frame
from sim.sensitivity.outputs import OUTPUTS, collect

MIN_DENSITY = 0.8
MAX_QP = 0.05  # restrictions less significant than this are dropped from the chosen box
PRIM_FEATURES = 8  # PRIM peels the output's 8 parameters with the highest feature scores


@dataclass(frozen=True)
class Question:
    name: str
    output: str
    threshold: float | None  # None: the design's 75th percentile of the output
    text: str  # with {t} for the threshold

    def answer(self, y: pd.Series, threshold: float | None = None) -> tuple[np.ndarray, float]:
        """Yes per sample, and the threshold used: ``threshold`` (or the question's own), at or
        above it; without either, above the design's 75th percentile."""
        t = self.threshold if threshold is None else threshold
        if t is None:
            t = float(np.nanpercentile(y, 75))
            return (y > t).to_numpy(), t
        return (y >= t).to_numpy(), t


QUESTIONS = (
    Question("cost", "cost_per_protected_student_eur", None,
             "minimal coverage costs more than €{t:,.0f} per protected student-year"),
    Question("care_closures", "care_closures_2045", None, "more than {t:.0f} care opleidingen close by 2045"),
    Question("care_shortage", "care_shortage_ratio", 2.0, "the care shortage (unmet demand) at least doubles"),
)


def _quiet_ema():
    warnings.filterwarnings("ignore", message=".*ipyparallel.*")
    from ema_workbench.analysis import feature_scoring, prim

    return prim, feature_scoring


def box(x: pd.DataFrame, yes: np.ndarray) -> dict | None:
    """The chosen PRIM box: coverage, density, mass and the limits of each restricted parameter.

    With many parameters and few samples PRIM also trims dimensions by chance; restrictions whose
    quasi-p-value (Bryant & Lempert 2010) is above ``MAX_QP`` are dropped, one at a time from the
    least significant, and the box's statistics are those after dropping."""
    prim, _ = _quiet_ema()
    if yes.sum() == 0 or yes.all():
        return None
    b = prim.Prim(x, yes).find_box()
    traj = b.peeling_trajectory
    ok = traj[traj["density"] >= MIN_DENSITY]
    b.select(int(ok["coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax()))
    while True:
        limits = b.inspect(style="data")[0][1]
        limits.columns = ["min", "max", "qp_low", "qp_high"]
        qp = limits[["qp_low", "qp_high"]].min(axis=1)
        if len(limits) <= 1 or qp.max() <= MAX_QP:
            break
        b.drop_restriction(str(qp.idxmax()))
    return {"coverage": float(b.coverage), "density": float(b.density), "mass": float(b.mass),
            "limits": limits, "yes": int(yes.sum()), "n": len(yes)}


def feature_scores(x: pd.DataFrame, y: pd.DataFrame) -> pd.DataFrame:
    """Extra-trees feature scores (rows: parameters, columns: outputs)."""
    _, fs = _quiet_ema()
    cols = {}
    for out in y.columns:
        v = y[out].to_numpy(dtype=float)
        if np.all(np.isfinite(v)) and np.ptp(v) > 0:
            scores = fs.get_ex_feature_scores(x, v, mode=fs.RuleInductionType.REGRESSION, random_state=1)[0]
            cols[out] = scores.iloc[:, 0]
    return pd.DataFrame(cols)


def plain(b: dict, params: dict, question: str, t: float) -> str:
    """A PRIM box in plain words."""
    if b is None:
        return f"- **{question.format(t=t)}**: no box (the answer is the same in every sample)."
    parts = []
    for key, r in b["limits"].iterrows():
        lo, hi = params[key]["low"], params[key]["high"]
        bits = []
        if r["min"] > lo + 1e-9:
            bits.append(f"≥ {r['min']:.3g}")
        if r["max"] < hi - 1e-9:
            bits.append(f"≤ {r['max']:.3g}")
        parts.append(f"`{key}` {' and '.join(bits)} (range {lo:g}–{hi:g})")
    return (f"- **{question.format(t=t)}** ({b['yes']} of {b['n']} samples): when "
            + "; ".join(parts) + f". The box holds {b['coverage']:.0%} of those samples (coverage); "
            f"{b['density']:.0%} of the samples in it answer yes (density; {b['yes'] / b['n']:.0%} in the whole "
            "design); "
            f"it is {b['mass']:.0%} of the design (mass).")


def discover(exp_dir: str | Path, thresholds: dict[str, float] | None = None) -> Path:
    """PRIM boxes for :data:`QUESTIONS` and feature scores -> ``exp_dir/discovery/``."""
    exp_dir = Path(exp_dir)
    design = read_design(design_path(exp_dir))
    x = samples_frame(design)
    y, _ = mean_over_replicates(collect(exp_dir), len(x))
    params = {p.key: {"low": p.low, "high": p.high} for p in design["params"]}
    scores = feature_scores(x, y)
    lines = [f"# Scenario discovery: {design['method']}, {design['settings'].get('region')}", "",
             f"{len(x)} samples of {x.shape[1]} parameters (`{exp_dir}`). PRIM peels the "
             f"{PRIM_FEATURES} parameters with the highest feature scores for the question's output; "
             f"the box shown has the highest coverage at density ≥ {MIN_DENSITY:.0%}, and keeps only "
             f"restrictions with a quasi-p-value ≤ {MAX_QP}.", ""]
    boxes = []
    for q in QUESTIONS:
        if q.output not in y:
            continue
        yes, t = q.answer(y[q.output], (thresholds or {}).get(q.name))
        features = scores[q.output].nlargest(PRIM_FEATURES).index if q.output in scores else x.columns
        b = box(x[list(features)], yes)
        lines.append(plain(b, params, q.text, t))
        if b is not None:
            boxes.append(b["limits"].assign(question=q.name, threshold=t, coverage=b["coverage"],
                                            density=b["density"], mass=b["mass"]).reset_index(names="parameter"))
    top = scores.rank(ascending=False).mean(axis=1).sort_values().index[:10]
    lines += ["", "## Feature scores (extra trees; share of each output's explained variation)", "",
              markdown_table(scores.loc[top].round(3).reset_index(names="parameter")), ""]

    def fill(tmp: Path) -> None:
        scores.to_csv(tmp / "feature_scores.csv", index_label="parameter")
        if boxes:
            pd.concat(boxes, ignore_index=True).to_csv(tmp / "prim_boxes.csv", index=False)
        (tmp / "discovery.md").write_text("\n".join(lines) + "\n")

    atomic_folder(exp_dir / "discovery", fill)
    return exp_dir / "discovery"


__all__ = ["OUTPUTS", "QUESTIONS", "discover"]
