"""Results declared up front, filled in place each month, exported once as tidy tables.

All counts are kept at model scale and reported in real persons (÷ scale) when exported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.codes import (
    ENTRY_REASONS,
    EXIT_REASONS,
    N_SECTORS,
    N_STATUS,
    SECTORS,
    STATUS_NAMES,
    Benefit,
    Status,
)

if TYPE_CHECKING:
    from sim.agents.organisations import Municipality
    from sim.model import RegionModel

LABOUR_MEASURES = (
    "employed", "vacancies", "hard_to_fill", "job_seekers", "ww_short", "hires", "separations", "abandoned",
    "retrained_into",
)
# UWV spanningsindicator classes: vacancies per WW benefit shorter than 6 months (SOURCES.md)
UWV_CLASSES = ((0.25, "very slack"), (0.67, "slack"), (1.5, "average"), (4.0, "tight"), (np.inf, "very tight"))


def uwv_class(indicator: float) -> str:
    for bound, name in UWV_CLASSES:
        if indicator < bound:
            return name
    return UWV_CLASSES[-1][1]


def age_bands(pension_age: int) -> tuple[np.ndarray, list[str]]:
    """Map each age (0..pension_age) to a 5-year band from 15; returns (band per age, labels)."""
    edges = list(range(15, pension_age, 5))
    labels = [f"{lo}-{min(lo + 4, pension_age - 1)}" for lo in edges]
    band = np.zeros(pension_age + 1, dtype=np.int64)
    for i, lo in enumerate(edges):
        band[lo : lo + 5] = i
    return band, labels


class Results:
    def __init__(self, model: RegionModel) -> None:
        self.model = model
        t, y = model.n_months, model.n_years
        self.labour = {m: np.zeros((t, N_SECTORS), dtype=np.int64) for m in LABOUR_MEASURES}
        self.persons = np.zeros(t + 1, dtype=np.int64)  # persons at the end of each month; [0] = start
        self.persons[0] = model.pop.n
        self.status = np.zeros((t, N_STATUS), dtype=np.int64)
        self.band_of_age, self.band_labels = age_bands(model.cfg.model.population.pension_age)
        n_m = model.n_municipalities
        self.population = np.zeros((y, n_m, len(self.band_labels), N_STATUS), dtype=np.int64)
        self.municipal_rows: list[dict] = []

    def record_month(self, month: int) -> None:
        model = self.model
        pop, lab = model.pop, model.labour
        self.labour["employed"][month] = lab.head.sum(1)
        self.labour["vacancies"][month] = lab.vacancies.sum(axis=(1, 2))
        self.labour["hard_to_fill"][month] = lab.hard_to_fill()
        unemp = pop.status == Status.UNEMPLOYED
        self.labour["job_seekers"][month] = pop.count("sector", N_SECTORS, where=unemp)
        short_ww = unemp & (pop.benefit == Benefit.UWV) & (pop.benefit_months < 6)
        self.labour["ww_short"][month] = pop.count("sector", N_SECTORS, where=short_ww)
        self.labour["hires"][month] = lab.hires
        self.labour["separations"][month] = lab.separations
        self.labour["abandoned"][month] = lab.abandoned
        self.labour["retrained_into"][month] = model.llo.completions[month]
        self.persons[month + 1] = pop.n
        self.status[month] = np.bincount(pop.status, minlength=N_STATUS)
        if month % 12 == 0:
            n_m, n_b = model.n_municipalities, len(self.band_labels)
            key = (pop.municipality.astype(np.int64) * n_b + self.band_of_age[pop.age]) * N_STATUS + pop.status
            self.population[month // 12] = np.bincount(key, minlength=n_m * n_b * N_STATUS).reshape(
                n_m, n_b, N_STATUS
            )

    def record_municipality(self, m: Municipality, clients: float, budget: float,
                            trajectories: float, mbo_revenue: float) -> None:
        self.municipal_rows.append(
            {"year": self.model.year, "municipality": m.name, "centre": m.is_centre,
             "clients": clients, "budget_eur": budget, "trajectories": trajectories,
             "mbo_revenue_eur": mbo_revenue}
        )

    # --- export -------------------------------------------------------------------------------
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(f"{self.model.cfg.start_year}-01-01", periods=self.model.n_months, freq="MS")

    def frames(self) -> dict[str, pd.DataFrame]:
        model = self.model
        k = 1.0 / model.cfg.scale
        dates = self.dates()
        n_t = len(dates)

        def tidy(arr: np.ndarray) -> np.ndarray:
            return arr.reshape(-1)

        lab = pd.DataFrame(
            {
                "date": np.repeat(dates, N_SECTORS),
                "sector": np.tile(np.asarray(SECTORS, dtype=object), n_t),
                **{m: tidy(self.labour[m]) * k for m in LABOUR_MEASURES},
            }
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            lab["tightness"] = np.where(lab["job_seekers"] > 0, lab["vacancies"] / lab["job_seekers"], np.nan)
            lab["uwv_tightness"] = np.where(lab["ww_short"] > 0, lab["vacancies"] / lab["ww_short"], np.nan)

        edu = model.education
        progs = edu.programmes.frame(edu.institution_names)
        n_y = model.n_years
        school_years = model.cfg.start_year + np.arange(n_y)
        education = pd.concat(
            [progs.assign(school_year=int(y)) for y in school_years], ignore_index=True
        )
        education["open"] = edu.open_at_intake[:n_y].reshape(-1)
        education["intake"] = edu.intake[:n_y].reshape(-1) * k
        education["enrolled"] = edu.enrolled[:n_y].reshape(-1) * k
        education["graduates"] = edu.graduates[:n_y].reshape(-1) * k
        education["dropouts"] = edu.dropouts[:n_y].reshape(-1) * k
        education["llo_starts"] = edu.llo_starts[:n_y].reshape(-1) * k
        education = education[["school_year", "institution", "programme_id", "sector", "level", "route",
                               "location", "open", "intake", "enrolled", "graduates", "dropouts",
                               "llo_starts"]]

        ev = pd.DataFrame(model.events, columns=["month", "programme", "event", "reason"])
        events = progs.iloc[ev["programme"].to_numpy()].reset_index(drop=True)
        events.insert(0, "date", dates[ev["month"].to_numpy()] if len(ev) else pd.DatetimeIndex([]))
        events["event"] = ev["event"].to_numpy()
        events["reason"] = ev["reason"].to_numpy()
        events = events[["date", "programme_id", "institution", "sector", "level", "location", "event", "reason"]]

        years = model.cfg.start_year + np.arange(n_y)
        idx = pd.MultiIndex.from_product(
            [years, model.data.municipality_names, self.band_labels, STATUS_NAMES],
            names=["year", "municipality", "age_band", "status"],
        )
        population = pd.DataFrame({"persons": self.population.reshape(-1) * k}, index=idx).reset_index()

        llo = model.llo
        from sim.processes.llo import SOURCES

        llo_rows = []
        for si, src in enumerate(SOURCES):
            llo_rows.append(pd.DataFrame({
                "date": np.repeat(dates, N_SECTORS), "sector": np.tile(np.asarray(SECTORS, dtype=object), n_t),
                "source": src, "starts": tidy(llo.starts[:, si]) * k,
                "starts_at_mbo": tidy(llo.starts_at_mbo[:, si]) * k,
            }))
        llo_df = pd.concat(llo_rows, ignore_index=True)

        flows = pd.DataFrame({"date": dates, "persons_start": self.persons[:-1], "persons_end": self.persons[1:]})
        for i, r in enumerate(ENTRY_REASONS):
            flows[f"entries_{r}"] = model.demography.entries[:, i]
        for i, r in enumerate(EXIT_REASONS):
            flows[f"exits_{r}"] = model.demography.exits[:, i]
        for c in flows.columns[1:]:
            flows[c] = flows[c] * k

        municipalities = pd.DataFrame(
            self.municipal_rows,
            columns=["year", "municipality", "centre", "clients", "budget_eur", "trajectories", "mbo_revenue_eur"],
        )
        institutions = pd.DataFrame({
            "school_year": np.repeat(school_years, len(edu.institution_names)),
            "institution": np.tile(np.asarray(edu.institution_names, dtype=object), n_y),
            "programmes_open": np.stack([np.bincount(edu.programmes.institution, weights=edu.open_at_intake[y],
                                                     minlength=len(edu.institution_names)) for y in range(n_y)]
                                        ).reshape(-1),
            "intake": np.stack([np.bincount(edu.programmes.institution, weights=edu.intake[y],
                                            minlength=len(edu.institution_names)) for y in range(n_y)]).reshape(-1) * k,
            "enrolled": np.stack([np.bincount(edu.programmes.institution, weights=edu.enrolled[y],
                                              minlength=len(edu.institution_names)) for y in range(n_y)]
                                 ).reshape(-1) * k,
            "funding_eur": edu.funding_eur[:n_y].reshape(-1),
            "municipal_revenue_eur": edu.municipal_revenue_eur[:n_y].reshape(-1),
            "cost_eur": edu.cost_eur[:n_y].reshape(-1),
        })
        institutions["result_eur"] = (institutions["funding_eur"] + institutions["municipal_revenue_eur"]
                                      - institutions["cost_eur"])
        levels = np.arange(5)
        coverage = pd.DataFrame({
            "school_year": np.repeat(school_years, N_SECTORS * 5),
            "sector": np.tile(np.repeat(np.asarray(SECTORS, dtype=object), 5), n_y),
            "level": np.tile(levels, n_y * N_SECTORS),
            "share_within_reach": edu.coverage[:n_y].reshape(-1),
        })
        n_m = model.n_municipalities
        access = pd.DataFrame({
            "school_year": np.repeat(school_years, n_m * N_SECTORS),
            "municipality": np.tile(np.repeat(np.asarray(model.data.municipality_names, dtype=object), N_SECTORS),
                                    n_y),
            "sector": np.tile(np.asarray(SECTORS, dtype=object), n_y * n_m),
            "minutes_to_nearest": np.where(np.isfinite(edu.nearest_minutes[:n_y]), edu.nearest_minutes[:n_y],
                                           np.nan).reshape(-1),
        })
        policy = pd.DataFrame(model.policy_rows, columns=["year", "lever", "quantity", "value"])
        return {
            "labour": lab,
            "education": education,
            "events": events,
            "population": population,
            "llo": llo_df,
            "flows": flows,
            "municipalities": municipalities,
            "institutions": institutions,
            "coverage": coverage,
            "access": access,
            "policy": policy,
            "travel": pd.DataFrame({"school_year": school_years,
                                    "intake_travel_minutes": edu.intake_travel_minutes[:n_y]}),
        }
