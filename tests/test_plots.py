"""The shortages figure (issue 16): readable integer-year ticks, yearly lines over a monthly band, and an
unmet-demand panel only when the labour frame records it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sim.plots import plot_run, shortages_figure  # noqa: E402

START = 2025
SECTORS = ["care", "technical", "retail"]


def labour_frame(years: int, unmet: bool = True, seed: int = 1) -> pd.DataFrame:
    """Monthly rows per sector with a July spike (graduates) on top of a trend; retail has no job
    seekers and no vacancies in its first year (tightness NaN, then 0 where seekers return)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(f"{START}-01-01", periods=12 * years, freq="MS")
    rows = []
    for k, s in enumerate(SECTORS):
        for i, d in enumerate(dates):
            july = 40.0 if d.month == 7 else 0.0
            vac = 100.0 + 10 * k + 2 * i + july + rng.integers(0, 5)
            seekers = 50.0 + 5 * k + rng.integers(0, 10) - (july / 2)
            if s == "retail" and d.year == START:
                vac, seekers = 0.0, 0.0
            elif s == "retail" and d.month == 3:
                vac = 0.0  # a zero-tightness month on the log panel
            row = {"date": d, "sector": s, "vacancies": vac, "job_seekers": seekers,
                   "hard_to_fill": 0.3 * vac + july, "tightness": vac / seekers if seekers > 0 else np.nan}
            if unmet:
                row["unmet_demand"] = 0.1 * vac + (k + 1)
            rows.append(row)
    return pd.DataFrame(rows)


def frames(lab: pd.DataFrame) -> dict[str, pd.DataFrame]:
    years = sorted(pd.to_datetime(lab["date"]).dt.year.unique())
    edu = pd.DataFrame([{"school_year": y, "sector": s, "open": 3, "intake": 20.0} for y in years for s in SECTORS])
    pop = pd.DataFrame([{"year": y, "status": st, "persons": 1000.0} for y in years
                        for st in ("student", "employed", "unemployed")])
    return {"labour": lab, "education": edu, "population": pop}


def expected(lab: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Yearly figures per sector, computed here without the plotting code."""
    out: dict[str, dict] = {"hard_to_fill": {}, "tightness": {}, "unmet_demand": {}}
    for (y, s), g in lab.groupby([lab["date"].dt.year, "sector"]):
        out["hard_to_fill"][(y, s)] = g["hard_to_fill"].sum() / len(g)
        seekers = g["job_seekers"].sum()
        out["tightness"][(y, s)] = g["vacancies"].sum() / seekers if seekers > 0 else np.nan
        if "unmet_demand" in g:
            out["unmet_demand"][(y, s)] = g["unmet_demand"].sum() / 12
    return {k: pd.Series(v, dtype=float).unstack() for k, v in out.items() if v}


def line_of(ax: plt.Axes, sector: str):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == sector]
    return line


@pytest.mark.parametrize("years", [6, 30])
@pytest.mark.parametrize("unmet", [True, False])
def test_year_ticks_readable(years, unmet):
    fig = shortages_figure(labour_frame(years, unmet), "test")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = fig.axes
    assert len(axes) == (3 if unmet else 2)
    for ax in axes:
        labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        texts = [t.get_text() for t in labels]
        assert len(texts) >= 3, texts
        assert all(t.isdigit() for t in texts), texts  # integer years, no dates or decimals
        ticks = [int(t) for t in texts]
        assert len(set(ticks)) == len(ticks) and ticks == sorted(ticks), ticks
        assert START <= ticks[0] and ticks[-1] <= START + years - 1, ticks
        assert len(ticks) <= 10, ticks
        boxes = sorted((b.x0, b.x1) for b in (t.get_window_extent(renderer) for t in labels))
        assert all(a1 < b0 for (_, a1), (b0, _) in zip(boxes, boxes[1:], strict=False)), "overlapping labels"
        assert ax.get_xlabel() == "year"
        assert "(" in ax.get_ylabel() and ")" in ax.get_ylabel(), ax.get_ylabel()  # units
    plt.close(fig)


def test_lines_are_yearly_figures_over_monthly_band():
    lab = labour_frame(6)
    want = expected(lab)
    fig = shortages_figure(lab, "test")
    a_htf, a_tight, a_unmet = fig.axes
    assert "Unmet demand" in a_unmet.get_title()
    assert a_tight.get_yscale() == "log"
    years = np.arange(START, START + 6)
    for ax, key in ((a_htf, "hard_to_fill"), (a_tight, "tightness"), (a_unmet, "unmet_demand")):
        for s in SECTORS:
            line = line_of(ax, s)
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            np.testing.assert_array_equal(x, years)  # one point per year
            np.testing.assert_allclose(y, want[key][s].to_numpy(), rtol=1e-12, equal_nan=True, err_msg=f"{key} {s}")
    # retail: no job seekers in the first year -> no tightness point there, but later years are drawn
    y = np.asarray(line_of(a_tight, "retail").get_ydata(), float)
    assert np.isnan(y[0]) and np.isfinite(y[1:]).all()
    # the July spike is averaged out: the yearly hard-to-fill line rises smoothly year on year
    assert (np.diff(line_of(a_htf, "care").get_ydata()) > 0).all()

    # the band behind care's hard-to-fill line spans the monthly min to max, in care's colour
    care = lab[lab["sector"] == "care"]
    band = a_htf.collections[0]
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert ys.min() == pytest.approx(care["hard_to_fill"].min())
    assert ys.max() == pytest.approx(care["hard_to_fill"].max())
    assert np.allclose(band.get_facecolor()[0][:3], matplotlib.colors.to_rgb(line_of(a_htf, "care").get_color()))
    # the legend (outside, on the last panel) names every sector
    legend = a_unmet.get_legend()
    assert legend is not None and {t.get_text() for t in legend.get_texts()} >= set(SECTORS)
    plt.close(fig)


@pytest.mark.parametrize("unmet", [True, False])
def test_plot_run_writes_all_figures(tmp_path, unmet):
    paths = plot_run(frames(labour_frame(4, unmet)), tmp_path, title="test")
    assert [p.name for p in paths] == ["shortages_by_sector.png", "open_programmes.png", "intake_by_sector.png",
                                       "population_by_status.png"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert plt.get_fignums() == []  # every figure closed
