"""The dashboard page (Streamlit). Start it with ``mbo-sim-dashboard`` or ``make dashboard``.

Two tabs: *Run a scenario* (inputs, a background run with a progress bar, the comparison without
and with the levers and six views) and *Browse results* (any experiment folder under the results
folder, chosen from a list). Every input is bounded (``configs/dashboard.yaml``); the results folder
is the launcher's (``MBO_SIM_RESULTS``), never typed on the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from sim.analysis.load import load_runs
from sim.codes import SECTORS
from sim.config import ConfigError
from sim.dashboard import jobs, views
from sim.dashboard.scenario import Scenario, defaults, lever_defaults, limits
from sim.dashboard.text import LANGUAGES, Text

RESULTS = Path(os.environ.get("MBO_SIM_RESULTS", "results"))


# --- cached reading (keyed by the folder and its summary's time, so a rewritten folder is read anew) ---------
def _stamp(exp_dir: Path) -> float:
    s = exp_dir / "summary.parquet"
    return s.stat().st_mtime if s.exists() else exp_dir.stat().st_mtime


@st.cache_data(max_entries=8, show_spinner=False)
def outcomes(exp_dir: str, stamp: float) -> views.Outcomes:
    return views.load(exp_dir)


@st.cache_data(max_entries=96, show_spinner=False)
def figure(exp_dir: str, stamp: float, kind: str, lang: str, region: str, *extra: str) -> bytes:
    out, text = outcomes(exp_dir, stamp), Text(lang)
    draw = {"survival": views.survival_fig, "intake": views.intake_fig, "closures": views.closures_fig,
            "costs": views.costs_fig, "shortage": views.shortage_fig, "coverage": views.coverage_fig}[kind]
    return views.render(draw, out, region, *extra, text)


def download(df: pd.DataFrame, name: str, key: str, text: Text) -> None:
    st.download_button(text("download"), df.to_csv(index=False).encode(), file_name=f"{name}.csv", mime="text/csv",
                       key=f"dl-{key}-{name}", on_click="ignore")


# --- the inputs --------------------------------------------------------------------------------------------
def choose(widget, label: str, options: list, name: str, text: Text, default=None, **kwargs):
    """A selectbox (or multiselect) whose option labels follow the language. A keyed widget keeps the
    labels it was first drawn with, so each language has its own widget (key ``<name>@<lang>``) and
    the choice is carried over from one to the other (``keep:<name>``)."""
    keep = f"keep:{name}"
    chosen = st.session_state.get(keep, default)
    if widget is st.multiselect:
        value = widget(label, options, default=chosen or [], key=f"{name}@{text.lang}", **kwargs)
    else:
        index = options.index(chosen) if chosen in options else 0
        value = widget(label, options, index=index, key=f"{name}@{text.lang}", **kwargs)
    st.session_state[keep] = value
    return value


def _number(label: str, spec: dict, default, key: str, text: Text):
    whole = all(isinstance(v, int) for v in (spec["min"], spec["max"], spec.get("step", 1), default))
    cast = int if whole else float
    return st.number_input(f"{label} [{spec['min']}–{spec['max']}]", min_value=cast(spec["min"]),
                           max_value=cast(spec["max"]), value=cast(default), step=cast(spec.get("step", 1)), key=key,
                           help=text("range_default", lo=spec["min"], hi=spec["max"], default=default),
                           format=None if whole else "%g")


def inputs(text: Text, locked: bool) -> Scenario:
    lim, d = limits(), defaults()
    c1, c2, c3 = st.columns(3)
    with c1:
        region, demography, economy = (
            choose(st.selectbox, text(name), lim[key], name, text, d[name], format_func=text.choice, disabled=locked,
                   help=text("default_only", default=text.choice(d[name])))
            for name, key in (("region", "regions"), ("demography", "demography"), ("economy", "economy")))
    with c2:
        reps = _number(text("reps"), lim["reps"], d["reps"], "reps", text)
        scale = _number(text("scale"), lim["scale"], d["scale"], "scale", text)
        years = _number(text("years"), lim["years"], d["years"], "years", text)
        seed = _number(text("seed"), lim["seed"], d["seed"], "seed", text)
        havo_shift = _number(text("havo_shift"), lim["havo_shift"], d["havo_shift"], "havo_shift", text)
    with c3:
        chosen = choose(st.multiselect, text("levers"), list(lim["levers"]), "levers", text, format_func=text.lever,
                        disabled=locked)
    levers: dict[str, dict] = {}
    if chosen:
        cols = st.columns(min(len(chosen), 3))
        for i, lever in enumerate(chosen):
            with cols[i % len(cols)], st.container(border=True):
                st.markdown(f"**{text('lever_params', lever=text.lever(lever))}**")
                params = {}
                for key, spec in lim["levers"][lever].items():
                    default = lever_defaults(lever)[key]
                    wkey = f"p:{lever}:{key}"
                    if not spec:  # a switch
                        params[key] = st.checkbox(text.param(key), value=bool(default), key=wkey, disabled=locked,
                                                  help=text("default_only", default=default))
                    else:
                        params[key] = _number(text.param(key), spec, default, wkey, text)
                levers[lever] = params
    return Scenario(region=region, demography=demography, economy=economy, reps=int(reps), scale=float(scale),
                    years=int(years), seed=int(seed), levers=levers, havo_shift=float(havo_shift))


# --- the run tab ---------------------------------------------------------------------------------------------
def run_tab(text: Text) -> None:
    job: jobs.Job | None = st.session_state.get("job")
    running = job is not None and job.poll() == "running"
    scenario = inputs(text, running)
    st.caption(text("cost", cost=scenario.cost(), budget=limits()["budget"]))
    b1, b2 = st.columns([1, 5])
    if b1.button(text("run"), type="primary", key="run", disabled=running):
        try:
            st.session_state["job"] = jobs.start(scenario, RESULTS)
            st.session_state.pop("refused", None)
            st.rerun()
        except ConfigError as exc:
            st.session_state["refused"] = str(exc)
        except jobs.Busy as exc:
            st.session_state["refused"] = str(exc)
    if running and b2.button(text("cancel"), key="cancel"):
        job.cancel()
        st.rerun()
    if st.session_state.get("refused"):
        st.error(text("refused", message=st.session_state["refused"]))
    st.fragment(progress, run_every=0.5 if running else None)(text)  # refreshed only while a job runs


def progress(text: Text) -> None:
    """The job's progress bar, refreshed every half second; when it ends, the whole page is drawn anew."""
    job: jobs.Job | None = st.session_state.get("job")
    if job is None:
        st.info(text("no_run_yet"))
        return
    was = st.session_state.get("job_state_seen")
    state = job.poll()
    st.session_state["job_state_seen"] = (id(job), state)
    if state == "running":
        st.progress(job.fraction, text=text("progress", n=len(job.runs), pct=100 * job.fraction, seconds=job.seconds))
        return
    if was == (id(job), "running"):  # it ended since the last refresh: draw the results
        st.rerun(scope="app")
    if state == "done":
        st.success(text("finished", seconds=job.seconds, folder=job.exp_dir.name))
        with st.expander(text("commands")):
            st.code("\n".join(r.command() for r in job.runs), language="bash")
    elif state == "failed":
        st.error(text("failed", error=job.error))
    else:
        st.warning(text("cancelled"))


def show_outcomes(exp_dir: Path, text: Text, key: str) -> None:
    """The comparison and the six views of an experiment folder."""
    stamp = _stamp(exp_dir)
    out = outcomes(str(exp_dir), stamp)
    regions = list(dict.fromkeys(out.runs["region"]))
    region = regions[0] if len(regions) == 1 else choose(st.selectbox, text("region"), regions, f"{key}-region", text,
                                                         format_func=text.choice)
    st.subheader(text("comparison"))
    if len(out.arms) < 2:
        st.info(text("single_arm"))
    else:
        table = views.comparison(out, text)
        table = table[table[text("region")] == region]
        st.markdown("\n".join(f"- {w}" for w in table[text("in_words")]))
        st.table(table.drop(columns=[text("in_words"), text("region")]).set_index(text("metric")))
        download(views.comparison(out, Text("en")), "comparison", key, text)
    names = ("survival", "closures", "coverage", "shortage", "intake", "costs")
    tabs = dict(zip(names, st.tabs([text(f"view_{n}") for n in names]), strict=True))
    place = text.choice(region)

    def view(name: str, kind: str, caption: str, table: pd.DataFrame, *extra: str, listed: bool = False) -> None:
        """A view: what it answers, its figure, its table (listed on the page or only as CSV)."""
        st.caption(text(f"answers_{name}"))
        st.image(figure(str(exp_dir), stamp, kind, text.lang, region, *extra), caption=caption)
        if listed:
            st.dataframe(table, hide_index=True)
        download(table, f"{name}_{'_'.join(extra)}" if extra else name, key, text)

    mine = lambda df: df[df["region"] == region]  # noqa: E731
    with tabs["survival"]:
        view("survival", "survival", text("fig_survival", region=place), mine(out.survival))
    with tabs["closures"]:
        view("closures", "closures", text("fig_closures", region=place), mine(out.closures), listed=True)
    with tabs["coverage"]:
        sectors = text.sectors()
        c1, c2 = st.columns(2)
        with c1:
            sector = choose(st.selectbox, text("sector"), list(SECTORS), f"{key}-sector", text,
                            views.worst_sector(out, region), format_func=sectors.get)
        with c2:
            arm = choose(st.selectbox, text("coverage_arm"), out.arms, f"{key}-arm", text, format_func=text.arm)
        view("coverage", "coverage", text("fig_coverage", sector=sectors[sector], region=place, arm=text.arm(arm)),
             views.coverage_table(out, region, sector), arm, sector, listed=True)
    with tabs["shortage"]:
        measures = [m for m in ("hard_to_fill", "unmet_demand") if m in out.shortage]
        measure = choose(st.radio, text("measure"), measures, f"{key}-measure", text, format_func=text, horizontal=True)
        view("shortage", "shortage", text(f"fig_{measure}", region=place), mine(out.shortage), measure)
    with tabs["intake"]:
        view("intake", "intake", text("fig_intake", region=place), mine(out.intake))
    with tabs["costs"]:
        view("costs", "costs", text("fig_costs", region=place), mine(out.costs), listed=True)


# --- the browse tab ------------------------------------------------------------------------------------------
def browse_tab(text: Text) -> None:
    folders = jobs.experiment_folders(RESULTS)
    if not folders:
        st.info(text("browse_none", root=RESULTS))
        return
    name = st.selectbox(text("browse_pick"), [p.name for p in folders], key="browse")
    exp_dir = RESULTS / name
    report = exp_dir / "report"
    st.subheader(text("browse_report"))
    pngs = sorted(report.glob("*.png")) if report.is_dir() else []
    if pngs:
        for p in pngs:
            st.image(str(p), caption=p.stem)
    else:
        st.info(text("browse_no_report", folder=exp_dir))
    st.subheader(text("browse_summary"))
    if (exp_dir / "summary.parquet").is_file():
        summary = pd.read_parquet(exp_dir / "summary.parquet")
    else:
        st.caption(text("browse_no_summary"))
        summary = load_runs(exp_dir)
    for col in ("region", "arm", "policy", "demography", "economy"):
        values = sorted(summary[col].astype(str).unique()) if col in summary else []
        if len(values) > 1:
            keep = st.multiselect(text("browse_filter", column=col), values, default=values, key=f"browse-{col}")
            summary = summary[summary[col].astype(str).isin(keep)]
    st.dataframe(summary, hide_index=True)
    download(summary, f"{name}_summary", "browse", text)
    if st.toggle(text("browse_outcomes"), key="browse-outcomes"):
        show_outcomes(exp_dir, text, "browse")


# --- the page --------------------------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="mbo-sim", layout="wide")
    lang = st.sidebar.radio("Language / Taal", list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
    text = Text(lang)
    st.title(text("title"))
    st.caption(text("intro"))
    run, browse = st.tabs([text("tab_run"), text("tab_browse")])
    with run:
        run_tab(text)
        job: jobs.Job | None = st.session_state.get("job")
        if job is not None and job.state == "done":
            show_outcomes(job.exp_dir, text, "run")
    with browse:
        browse_tab(text)


main()
