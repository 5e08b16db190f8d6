"""One results registry: every measure declared up front by the process that writes it, exported
as tidy tables in one loop, and one run summary.

A process declares each measure with :meth:`Results.declare` (name, dimensions, unit) and gets
back a zero array that it alone fills in place. Row tables (events, policy rows) are declared
with :meth:`Results.declare_records`. :meth:`Results.frames` turns the measures into the tables
of ``TABLES``: row labels come from the dimensions (a dimension may carry several label columns,
e.g. a programme's institution, sector, level, route and site), counts kept at model scale are
divided by ``scale`` (real persons), and a few columns are derived from others. :func:`summary`
gives the headline figures of a run from those tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# UWV spanningsindicator classes: vacancies per WW benefit shorter than 6 months (SOURCES.md)
UWV_CLASSES = ((0.25, "very slack"), (0.67, "slack"), (1.5, "average"), (4.0, "tight"), (np.inf, "very tight"))


def uwv_class(indicator: float) -> str:
    for bound, name in UWV_CLASSES:
        if indicator < bound:
            return name
    return UWV_CLASSES[-1][1]


def target_classes(target: str) -> set[str]:
    """The UWV classes a target of ``data/uwv_tightness_targets.csv`` allows: it may name
    alternatives ("tight or very tight") where the source supports no single class."""
    return {t.strip() for t in target.split(" or ")}


def class_matches(model_class: str, target: str) -> bool:
    """Whether a UWV class meets a target class (see :func:`target_classes`)."""
    return model_class in target_classes(target)


@dataclass
class Dim:
    """A dimension of measures: its length in storage, its length in the exported tables (a
    school year's arrays hold one year more than is reported), and its label columns."""

    name: str
    size: int
    labels: dict[str, Any]  # column name -> array of n_export labels
    n_export: int = -1

    def __post_init__(self) -> None:
        if self.n_export < 0:
            self.n_export = self.size


@dataclass(frozen=True)
class Measure:
    name: str
    owner: str  # the process (or lever) that writes it
    dims: tuple[str, ...]
    unit: str  # persons, eur, minutes, share, count, bool, ratio
    scaled: bool  # kept at model scale: divided by scale on export
    doc: str = ""
    inf_as_nan: bool = False  # export infinities (nothing there) as NaN


@dataclass(frozen=True)
class Table:
    rows: tuple[str, ...]  # dimensions, outermost first
    columns: tuple[str, ...]  # output columns: dimension labels, measures or derived columns, in order
    derive: Callable[[pd.DataFrame, Results], None] | None = None


@dataclass
class Records:
    owner: str
    columns: tuple[str, ...]
    rows: list[dict] = field(default_factory=list)


class Results:
    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.dims: dict[str, Dim] = {}
        self.measures: dict[str, Measure] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self.records: dict[str, Records] = {}

    # --- declaring ----------------------------------------------------------------------------
    def add_dim(self, name: str, size: int, labels: dict[str, Any], n_export: int = -1) -> None:
        self.dims[name] = Dim(name, size, labels, n_export)

    def declare(self, owner: str, name: str, dims: tuple[str, ...], unit: str, dtype: Any = np.int64,
                scaled: bool | None = None, doc: str = "", inf_as_nan: bool = False) -> np.ndarray:
        """Declare a measure and return its array (zeros), which ``owner`` fills in place.
        Integer measures count persons at model scale unless ``scaled=False``."""
        if name in self.measures:
            raise ValueError(f"measure {name!r} declared twice ({self.measures[name].owner}, {owner})")
        unknown = [d for d in dims if d not in self.dims]
        if unknown:
            raise ValueError(f"measure {name!r}: unknown dimension(s) {unknown}")
        if scaled is None:
            scaled = unit == "persons"
        self.measures[name] = Measure(name, owner, dims, unit, scaled, doc, inf_as_nan)
        arr = np.zeros(tuple(self.dims[d].size for d in dims), dtype=dtype)
        self.arrays[name] = arr
        return arr

    def declare_records(self, owner: str, name: str, columns: tuple[str, ...]) -> list[dict]:
        """Declare a table of rows (dicts with ``columns``) that ``owner`` appends to."""
        self.records[name] = Records(owner, columns)
        return self.records[name].rows

    # --- export -------------------------------------------------------------------------------
    def column(self, name: str, rows: tuple[str, ...]) -> np.ndarray:
        """A measure flattened over ``rows`` (its own dimensions, in that order), in real units."""
        m = self.measures[name]
        arr = self.arrays[name]
        order = [m.dims.index(d) for d in rows]
        arr = np.transpose(arr, order)[tuple(slice(0, self.dims[d].n_export) for d in rows)].reshape(-1)
        if m.inf_as_nan:
            arr = np.where(np.isfinite(arr), arr, np.nan)
        return arr * (1.0 / self.scale) if m.scaled else arr

    def label_columns(self, rows: tuple[str, ...]) -> dict[str, np.ndarray]:
        sizes = [self.dims[d].n_export for d in rows]
        out: dict[str, np.ndarray] = {}
        for i, d in enumerate(rows):
            inner = int(np.prod(sizes[i + 1 :], dtype=np.int64))
            outer = int(np.prod(sizes[:i], dtype=np.int64))
            for col, labels in self.dims[d].labels.items():
                out[col] = np.tile(np.repeat(np.asarray(labels), inner), outer)
        return out

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every results table (``TABLES`` and the record tables), in real persons."""
        out: dict[str, pd.DataFrame] = {}
        for name, table in TABLES.items():
            if table.rows:
                cols: dict[str, Any] = self.label_columns(table.rows)
                for c in table.columns:  # measures over exactly these dimensions; the rest are derived
                    if c in self.measures and sorted(self.measures[c].dims) == sorted(table.rows):
                        cols[c] = self.column(c, table.rows)
                df = pd.DataFrame(cols)
            else:
                df = pd.DataFrame(self.records[name].rows, columns=list(self.records[name].columns))
            if table.derive is not None:
                table.derive(df, self)
            out[name] = df[list(table.columns)]
        return out


# --- the tables ---------------------------------------------------------------------------------
LABOUR_MEASURES = (
    "employed", "vacancies", "hard_to_fill", "unmet_demand", "job_seekers", "ww_short", "hires", "posted",
    "separations", "exits", "adapted", "retrained_into", "commuters_in", "commuters_out", "migrant_arrivals",
    "migrant_departures",
)
PROGRAMME_LABELS = ("institution", "programme_id", "sector", "level", "route", "location")


def _labour(df: pd.DataFrame, results: Results) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        df["tightness"] = np.where(df["job_seekers"] > 0, df["vacancies"] / df["job_seekers"], np.nan)
        df["uwv_tightness"] = np.where(df["ww_short"] > 0, df["vacancies"] / df["ww_short"], np.nan)


def _institutions(df: pd.DataFrame, results: Results) -> None:
    """Programme measures summed per institution; the result is funding + revenue − cost."""
    inst = results.dims["programme"].labels["institution_index"]
    n_inst = results.dims["institution"].n_export
    n_y = results.dims["school_year"].n_export
    k = 1.0 / results.scale

    def per_institution(measure: str, scale: float = 1.0) -> np.ndarray:
        arr = results.arrays[measure]
        return np.stack([np.bincount(inst, weights=arr[y], minlength=n_inst) for y in range(n_y)]).reshape(-1) * scale

    df["programmes_open"] = per_institution("open")
    df["intake"] = per_institution("intake", k)
    df["enrolled"] = per_institution("enrolled", k)
    df["result_eur"] = df["funding_eur"] + df["municipal_revenue_eur"] - df["cost_eur"]


def _events(df: pd.DataFrame, results: Results) -> None:
    """Events are recorded as (month, programme, event, reason): add the date and the programme."""
    months = df["month"].to_numpy(dtype=np.int64)
    prog = df["programme"].to_numpy(dtype=np.int64)
    dates = results.dims["month"].labels["date"]
    df.insert(0, "date", dates[months] if len(df) else pd.DatetimeIndex([]))
    for col in ("programme_id", "institution", "sector", "level", "location", "in_region", "crebo", "qualification"):
        df[col] = results.dims["programme"].labels[col][prog]


def _flows(df: pd.DataFrame, results: Results) -> None:
    persons = results.column("persons_month_end", ("month_end",))
    df["persons_start"] = persons[:-1]
    df["persons_end"] = persons[1:]


TABLES: dict[str, Table] = {
    "labour": Table(("month", "sector"), ("date", "sector", *LABOUR_MEASURES, "tightness", "uwv_tightness"),
                    _labour),
    "education": Table(("school_year", "programme"),
                       ("school_year", "institution", "programme_id", "sector", "level", "route", "location",
                        "in_region", "open", "intake", "doorstroom", "expected_intake", "enrolled", "graduates",
                        "dropouts", "llo_starts", "crebo", "qualification")),
    "events": Table((), ("date", "programme_id", "institution", "sector", "level", "location", "in_region", "event",
                         "reason", "crebo", "qualification"), _events),
    "population": Table(("year", "municipality", "age_band", "status"),
                        ("year", "municipality", "age_band", "status", "persons")),
    "llo": Table(("llo_source", "month", "sector"), ("date", "sector", "source", "starts", "starts_at_mbo")),
    "flows": Table(("month",), ("date", "persons_start", "persons_end", "entries_cohort", "entries_in_migration",
                                "exits_death", "exits_out_migration", "exits_retirement"), _flows),
    "municipalities": Table(("year", "municipality"), ("year", "municipality", "centre", "clients", "budget_eur",
                                                       "trajectories", "mbo_revenue_eur")),
    "institutions": Table(("school_year", "institution"),
                          ("school_year", "institution", "in_region", "programmes_open", "intake", "enrolled",
                           "funding_eur", "municipal_revenue_eur", "cost_eur", "unshed_cost_eur", "result_eur",
                           "reserve_eur"),
                          _institutions),
    "teachers": Table(("school_year", "sector"), ("school_year", "sector", "teacher_ratio")),
    "coverage": Table(("school_year", "sector", "level"), ("school_year", "sector", "level", "share_within_reach")),
    "access": Table(("school_year", "municipality", "sector", "level"),
                    ("school_year", "municipality", "sector", "level", "minutes_to_nearest")),
    "reach": Table(("school_year", "reach_minutes", "sector", "level"),
                   ("school_year", "minutes", "sector", "level", "share_within")),
    "policy": Table((), ("year", "lever", "quantity", "value")),
    "travel": Table(("school_year",), ("school_year", "intake_travel_minutes")),
    "choice_outcomes": Table(("school_year", "municipality", "sector"),
                             ("school_year", "municipality", "sector", "enrolled_in_region", "enrolled_out_of_region",
                              "not_enrolled")),
    "participation": Table(("school_year",), ("school_year", "school_leavers", "mbo_entrants", "participation")),
    "inflow": Table(("school_year", "ring_municipality"),
                    ("school_year", "ring_municipality", "ring_school_leavers", "ring_entrants")),
}


# --- the summary ----------------------------------------------------------------------------------
def summary(frames: dict[str, pd.DataFrame], persons_start: float, persons_end: float) -> dict[str, Any]:
    """Headline figures of a run (real persons), from its tables."""
    lab, edu, ev = frames["labour"], frames["education"], frames["events"]
    first, last = lab["date"].min(), lab["date"].max()
    lab0, lab1 = lab[lab["date"] == first], lab[lab["date"] == last]
    years = sorted(edu["school_year"].unique())
    open_by_year = edu.groupby("school_year")["open"].sum()
    intake_by_year = edu.groupby("school_year")["intake"].sum()
    llo, pol, cov = frames["llo"], frames["policy"], frames["coverage"]
    cov_end = cov[(cov["school_year"] == cov["school_year"].max()) & (cov["level"] == 0)]
    return {
        "persons_start": float(persons_start),
        "persons_end": float(persons_end),
        "programmes_open_start": int(open_by_year.iloc[0]),
        "programmes_open_end": int(open_by_year.iloc[-1]),
        "closures": int((ev["event"] == "closed").sum()),
        "intake_first_year": float(intake_by_year.loc[years[0]]),
        "intake_last_year": float(intake_by_year.loc[years[-1]]),
        "hard_to_fill_start": float(lab0["hard_to_fill"].sum()),
        "hard_to_fill_end": float(lab1["hard_to_fill"].sum()),
        "hard_to_fill_end_by_sector": {s: float(v) for s, v in zip(lab1["sector"], lab1["hard_to_fill"], strict=True)},
        "tightness_end_by_sector": {
            s: (None if pd.isna(v) else float(v)) for s, v in zip(lab1["sector"], lab1["tightness"], strict=True)
        },
        "llo_trajectories": float(llo["starts"].sum()),
        "vetoed_closures": int((ev["event"] == "vetoed").sum()),
        "bundled_programmes": int((ev["event"] == "bundled").sum()),
        "policy_cost_eur": float(pol.loc[pol["quantity"] == "cost_eur", "value"].sum()),
        "coverage_min_end": float(cov_end["share_within_reach"].min()),
        "coverage_end_by_sector": {s: float(v) for s, v in zip(cov_end["sector"], cov_end["share_within_reach"],
                                                                strict=True)},
        "mean_intake_travel_minutes": float(frames["travel"]["intake_travel_minutes"].mean()),
        "participation_first_year": float(frames["participation"]["participation"].iloc[0]),
        "participation_last_year": float(frames["participation"]["participation"].iloc[-1]),
        "mbo_municipal_revenue_eur": float(frames["institutions"]["municipal_revenue_eur"].sum()),
        "unmet_demand_person_years_by_year": _yearly_by_sector(lab, "unmet_demand", 1 / 12),
        "hard_to_fill_mean_by_year": _yearly_by_sector(lab, "hard_to_fill", None),
    }


def _yearly_by_sector(lab: pd.DataFrame, column: str, per_month: float | None) -> dict[str, dict[str, float]]:
    """{year: {sector: value}} of a monthly labour column: the yearly sum × ``per_month`` (e.g.
    person-months to person-years), or the yearly mean when ``per_month`` is None."""
    g = lab.groupby([lab["date"].dt.year, "sector"], sort=False)[column]
    values = g.mean() if per_month is None else g.sum() * per_month
    out: dict[str, dict[str, float]] = {}
    for (year, sector), v in values.items():
        out.setdefault(str(year), {})[sector] = float(v)
    return out
