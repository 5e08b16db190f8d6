"""Property-based invariants (issue 10): any valid configuration, run month by month, keeps its
persons, counts, shares, tightness, closures and policy costs sane, and the same seed gives the
same results.

The strategy :func:`configs` draws Hydra overrides of a valid configuration: a region, a
demography and an economy option, any subset of the policy levers with parameters drawn from the
ranges their ``validate`` allows (sector maps over the 11 sectors), a small scale (0.01–0.04), a
short horizon (1–4 years), a start year in [2021, 2040], any seed and, to reach the closure
rules within a short horizon, the viability rule of the reviews. The number of examples comes from
the hypothesis profile (``tests/conftest.py``): ``default`` (CI, derandomised) or ``long``::

    python -m pytest tests/test_properties.py --hypothesis-profile=long

Every check counts for itself from the model's state (an identity number per person, the open
flags of the programmes before and after each month) and compares with the results tables.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.agents.population import FIELDS
from sim.codes import SECTORS, Status
from sim.config import Config
from sim.hydra_config import CONFIG_DIR, compose
from sim.io.loaders import load_region
from sim.model import RegionModel
from sim.policies import POLICIES
from sim.regions import REGIONS
from sim.runner import simulate, tables_and_summary

DEMOGRAPHIES = tuple(sorted(p.stem for p in (CONFIG_DIR / "demography").glob("*.yaml")))
ECONOMIES = tuple(sorted(p.stem for p in (CONFIG_DIR / "economy").glob("*.yaml")))
LEVERS = tuple(sorted(p.stem for p in (CONFIG_DIR / "policy").glob("*.yaml") if p.stem != "none"))
SEPTEMBER, APRIL = 8, 3  # month of the year, 0-based

# NaN is documented only here (README, results tables): no job seekers, no short WW, no open programme
NAN_ALLOWED = {("labour", "tightness"), ("labour", "uwv_tightness"), ("access", "minutes_to_nearest")}
# a balance, not a count: funding + revenue − cost
SIGNED = {("institutions", "result_eur"), ("institutions", "reserve_eur")}  # money: losses and debt
# policy quantities that are signed changes (utility units), not counts or euros
SIGNED_POLICY_QUANTITY = r"^(?:image|employership)_change_"
# (table, part, whole): a count that is part of another count in the same row
SUBCOUNTS = (("labour", "ww_short", "job_seekers"), ("labour", "hard_to_fill", "vacancies"),
             ("llo", "starts_at_mbo", "starts"))


# --- the strategy ----------------------------------------------------------------------------------
def fmt(v: object) -> str:
    """A value as Hydra override text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 4))
    if isinstance(v, list | tuple):
        return "[" + ",".join(fmt(x) for x in v) + "]"
    return str(v)


def grid(lo: float, hi: float, step: float) -> st.SearchStrategy[float]:
    """Floats lo, lo + step, …, hi (exactly representable in an override, both bounds reachable)."""
    n = round((hi - lo) / step)
    return st.integers(0, n).map(lambda i: round(min(lo + i * step, hi), 4))


SHARE = grid(0.0, 1.0, 0.0001)
UTILITY = grid(-5.0, 5.0, 0.01)


def factor(hi: float) -> st.SearchStrategy[float]:
    return grid(0.0, hi, 0.01)


def sector_map(values: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, float]]:
    return st.dictionaries(st.sampled_from(SECTORS), values, max_size=len(SECTORS))


def lever_defaults(lever: str) -> dict:
    return OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "policy" / f"{lever}.yaml"))


# each lever's parameters: key -> strategy, within what its ``validate`` allows; factors that only
# need to be >= 0 get a generous upper bound. Two keys set a pair of parameters together:
# ``ages`` (min_age <= max_age) and ``levels_sites`` (not both false).
PAIRS = {"ages": ("min_age", "max_age"), "levels_sites": ("across_levels", "across_sites")}
LEVER_PARAMS: dict[str, Callable[[int, int], dict[str, st.SearchStrategy]]] = {
    "minimal_coverage": lambda start, years: {
        "share": SHARE, "per_level": st.booleans(),
        "sectors": st.lists(st.sampled_from(SECTORS), unique=True, max_size=len(SECTORS))},
    "pps": lambda start, years: {
        "organised": sector_map(SHARE), "threshold_reduction": SHARE, "fixed_cost_reduction": SHARE,
        "student_cost_reduction": SHARE, "bbl_place_increase": factor(5), "capacity_increase": factor(5)},
    "integrated_governance": lambda start, years: {
        "llo_reach_factor": factor(10), "matching_factor": factor(10), "overhead_reduction": SHARE},
    "llo_vouchers": lambda start, years: {
        "annual_budget_eur": grid(0, 10_000_000, 1000), "voucher_eur": grid(0.01, 5000, 0.01), "uptake": SHARE,
        "mbo_share": SHARE, "max_qual_level": st.integers(0, 5),
        "ages": st.integers(15, 75).flatmap(lambda lo: st.tuples(st.just(lo), st.integers(lo, 75)))},
    "numerus_fixus": lambda start, years: {
        "poor_prospects_below": factor(10), "cap_share": SHARE, "lob_steering": st.booleans(),
        "prospects_weight": factor(10)},
    "image": lambda start, years: {  # a shock inside the horizon, or any calendar year
        "start_year": st.integers(start - 1, start + years) | st.integers(2000, 2100),
        "image_change": sector_map(UTILITY), "employership_change": sector_map(UTILITY),
        "retention_per_employership": factor(2)},
    "bundling": lambda start, years: {
        "max_extra_minutes": grid(0, 120, 0.5), "across_institutions": st.booleans(),
        "levels_sites": st.sampled_from([(True, True), (True, False), (False, True)])},
    "procurement": lambda start, years: {"mbo_share": SHARE},
}


@st.composite
def lever_params(draw, lever: str, start_year: int, years: int) -> dict:
    """Parameters of ``lever``: each drawn from its range, or (probability 1/2) left at its default."""
    params = {}
    for key, strategy in LEVER_PARAMS[lever](start_year, years).items():
        if draw(st.booleans()):
            value = draw(strategy)
            params.update(zip(PAIRS[key], value, strict=True) if key in PAIRS else [(key, value)])
    return params


def param_overrides(lever: str, params: dict) -> list[str]:
    """Overrides setting ``params`` of a selected lever. A sector map is set entry by entry (a
    dict override merges into the default map): ``~`` removes a default entry, ``+`` adds one."""
    defaults = lever_defaults(lever)
    out = []
    for key, value in params.items():
        base = f"policy.{lever}.{key}"
        if isinstance(value, dict):
            old = defaults.get(key) or {}
            out += [f"~{base}.{s}" for s in old if s not in value]
            out += [f"{'' if s in old else '+'}{base}.{s}={fmt(v)}" for s, v in value.items()]
        else:
            out.append(f"{base}={fmt(value)}")
    return out


@dataclass
class Drawn:
    overrides: list[str]
    levers: dict[str, dict] = field(default_factory=dict)  # lever -> the parameters set explicitly


@st.composite
def configs(draw) -> Drawn:
    """Hydra overrides of a valid, small configuration (see the module docstring)."""
    start_year = draw(st.integers(2021, 2040))
    years = draw(st.integers(1, 4))
    out = [
        f"region={draw(st.sampled_from(REGIONS))}",
        f"demography={draw(st.sampled_from(DEMOGRAPHIES))}",
        f"economy={draw(st.sampled_from(ECONOMIES))}",
        f"scale={fmt(draw(grid(0.01, 0.04, 0.0001)))}",
        f"years={years}",
        f"start_year={start_year}",
        f"seed={draw(st.integers(0, 2**32 - 1))}",
        "progress=false", "write_plots=false", f"data_dir={DATA_DIR}",
    ]
    if draw(st.booleans()):  # reviews that close programmes within a horizon of a few years
        out.append(f"model.education.viability_years={draw(st.integers(1, 3))}")
        out.append(f"model.education.viability_min_intake={draw(st.integers(0, 60))}")
    chosen = draw(st.lists(st.sampled_from(LEVERS), unique=True, max_size=len(LEVERS)))
    levers = {lever: draw(lever_params(lever, start_year, years)) for lever in chosen}
    out.append(f"policy=[{','.join(chosen)}]" if chosen else "policy=none")
    for lever, params in levers.items():
        out += param_overrides(lever, params)
    return Drawn(out, levers)


def composed(drawn: Drawn) -> Config:
    note(" ".join(drawn.overrides))
    cfg = compose(drawn.overrides)
    # the strategy does what it means: the levers and every parameter it set
    assert sorted(cfg.policy) == sorted(drawn.levers)
    for lever, params in drawn.levers.items():
        for key, value in params.items():
            got = cfg.policy[lever][key]
            assert (list(got) if isinstance(value, list) else got) == value, (lever, key)
    return cfg


def test_every_lever_has_a_strategy():
    """Every lever, demography and economy option is drawn; a lever's drawn keys are its parameters."""
    assert set(LEVERS) == set(POLICIES) == set(LEVER_PARAMS)
    assert len(DEMOGRAPHIES) == 5 and len(ECONOMIES) == len(REGIONS) == 3  # 3 scenarios + stationary, steady_state
    for lever in LEVERS:
        fields_ = {f.name for f in dataclasses.fields(POLICIES[lever].Params)}
        keys = set()
        for key in LEVER_PARAMS[lever](2025, 4):
            keys.update(PAIRS.get(key, (key,)))
        assert keys == fields_ == set(lever_defaults(lever)), lever


# --- one run, counted month by month ------------------------------------------------------------
@dataclass
class Tracked:
    model: RegionModel
    frames: dict[str, pd.DataFrame]
    summary: dict
    n: list[int]  # persons before month 0, after month 0, …
    entered: list[int]  # persons who appeared during month m
    left: list[int]  # persons who left during month m
    open_: list[np.ndarray]  # programmes open before month 0, after month 0, …
    january: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # month 12k -> municipality, age, status


def run_tracked(cfg: Config) -> Tracked:
    """Run ``cfg`` one month at a time; give every person an identity number (new persons the next
    numbers after each month), so that arrivals and departures are counted here, not by the model."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(FIELDS, "pid", (np.int64, -1))
        model = RegionModel(cfg, load_region(cfg.region.name, cfg.data_dir))
        pop = model.pop
        pop.pid[:] = np.arange(pop.n)
        next_id = pop.n
        t = Tracked(model, {}, {}, [pop.n], [], [], [model.education.programmes.open.copy()], {})
        for month in range(model.n_months):
            before = pop.pid.copy()
            model.run_for(1)
            pop = model.pop
            lengths = {name: len(getattr(pop, name)) for name in FIELDS}
            assert len(set(lengths.values())) == 1, f"month {month}: person columns of unequal length {lengths}"
            new = np.flatnonzero(pop.pid == -1)
            pop.pid[new] = np.arange(next_id, next_id + new.size)
            next_id += new.size
            if not (np.diff(pop.pid) > 0).all():  # persons keep their order: a sort only if not
                assert np.unique(pop.pid).size == pop.n, f"month {month}: a person is there twice"
            stayed = np.isin(before, pop.pid, assume_unique=True)
            t.n.append(pop.n)
            t.entered.append(new.size)
            t.left.append(int((~stayed).sum()))
            t.open_.append(model.education.programmes.open.copy())
            if month % 12 == 0:
                # the status the tables report: school leavers not looking yet are inactive
                status = pop.status.copy()
                status[(pop.status == Status.UNEMPLOYED) & (pop.months_in_state <= 0)] = Status.INACTIVE
                t.january[month] = (pop.municipality.copy(), pop.age.copy(), status)
        t.frames, t.summary = tables_and_summary(model)
    return t


# --- the invariants ----------------------------------------------------------------------------------
def check_persons(t: Tracked) -> None:
    """Persons conserved month by month: counted here (start + arrivals − departures, and the
    arrays' length) against the flows table, the population table each January and the summary."""
    model, flows, pop = t.model, t.frames["flows"], t.frames["population"]
    scale, months = model.cfg.scale, model.n_months
    n, entered, left = np.array(t.n), np.array(t.entered), np.array(t.left)
    assert len(flows) == months
    assert n[0] == model.persons_start > 0
    np.testing.assert_array_equal(n[1:], n[:-1] + entered - left)
    quiet = np.arange(months) % 12 != 0
    quiet[0] = True  # persons enter and leave only in January, from the second year
    assert not entered[quiet].any() and not left[quiet].any(), "persons came or went outside January"
    for what, expected in (("persons_start", n[:-1]), ("persons_end", n[1:]), ("entries_", entered),
                           ("exits_", left)):
        got = flows[what] if what.startswith("persons") else flows.filter(like=what).sum(axis=1)
        np.testing.assert_allclose(got.to_numpy(dtype=float) * scale, expected, rtol=0, atol=1e-6,
                                   err_msg=f"flows: {what} (month by month) against the persons counted")
    # over the run: the first month's start plus all entries minus all exits is the last month's end
    total = flows["persons_start"].iloc[0] + flows.filter(like="entries_").to_numpy().sum() \
        - flows.filter(like="exits_").to_numpy().sum()
    assert total * scale == pytest.approx(n[-1], abs=1e-6)
    assert t.summary["persons_start"] * scale == pytest.approx(n[0])
    assert t.summary["persons_end"] * scale == pytest.approx(n[-1])

    # the population table each January: the persons of that month by home, age band and status,
    # one row for every combination
    years = list(range(model.cfg.start_year, model.cfg.start_year + model.n_years))
    names = list(model.data.municipality_names)
    statuses = list(pop["status"].drop_duplicates())
    bands = list(pop["age_band"].drop_duplicates())
    lows = np.array([int(b.split("-")[0]) for b in bands])
    shape = (len(years), len(names), len(bands), len(statuses))
    codes = tuple(pd.Categorical(pop[col], categories=cats).codes.astype(np.int64)
                  for col, cats in (("year", years), ("municipality", names), ("age_band", bands),
                                    ("status", statuses)))
    assert len(pop) == np.prod(shape) and all((c >= 0).all() for c in codes)
    assert np.unique(np.ravel_multi_index(codes, shape)).size == len(pop), "population: a row twice"
    counts = np.zeros(shape, dtype=np.int64)
    for k in range(len(years)):
        muni, age, status = t.january[12 * k]
        assert muni.size == n[12 * k + 1]
        band = np.searchsorted(lows, age, side="right") - 1
        assert (band >= 0).all()
        np.add.at(counts[k], (muni, band, status), 1)
    np.testing.assert_allclose(pop["persons"].to_numpy(dtype=float) * scale, counts[codes], rtol=0, atol=1e-6,
                               err_msg="population table against the persons counted each January")


def check_counts(frames: dict[str, pd.DataFrame], summary: dict) -> None:
    """No negative count anywhere, no infinity, NaN only where documented."""
    for name, df in frames.items():
        for col in df.columns:
            if not (pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col])):
                continue
            v = df[col].to_numpy(dtype=float)
            nan = np.isnan(v)
            assert not np.isinf(v).any(), f"{name}.{col}: infinite"
            if (name, col) not in NAN_ALLOWED:
                assert not nan.any(), f"{name}.{col}: NaN in {int(nan.sum())} rows"
            if (name, col) in SIGNED:
                continue
            if name == "policy" and col == "value":
                signed = df["quantity"].str.contains(SIGNED_POLICY_QUANTITY).to_numpy()
                v, nan = v[~signed], nan[~signed]
                bad = df[~signed][v < 0]
            else:
                bad = df[v < 0]
            assert bad.empty, f"{name}.{col}: negative\n{bad.head()}"
    for table, part, whole in SUBCOUNTS:
        df = frames[table]
        bad = df[df[part] > df[whole] + 1e-9]
        assert bad.empty, f"{table}: {part} above {whole}\n{bad.head()}"

    def walk(key: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{key}.{k}", v)
        elif value is not None:
            assert math.isfinite(value) and value >= 0, f"summary {key} = {value}"

    walk("summary", summary)


def check_shares(model: RegionModel, frames: dict[str, pd.DataFrame], summary: dict) -> None:
    """Coverage and every share in [0, 1]; covering any level covers at least as many as one level."""
    for name, m in model.results.measures.items():
        if m.unit == "share":
            v = model.results.arrays[name]
            assert np.isfinite(v).all() and (v >= 0).all() and (v <= 1 + 1e-12).all(), name
    cov = frames["coverage"]
    s = cov["share_within_reach"]
    assert s.notna().all() and s.between(0, 1).all(), cov[~s.between(0, 1)]
    wide = cov.pivot_table(index=["school_year", "sector"], columns="level", values="share_within_reach")
    for level in range(1, 5):
        assert (wide[0] >= wide[level] - 1e-12).all(), f"coverage of level {level} above any level"
    assert 0 <= summary["coverage_min_end"] <= 1
    assert all(0 <= v <= 1 for v in summary["coverage_end_by_sector"].values())


def check_tightness(frames: dict[str, pd.DataFrame], summary: dict) -> None:
    """Tightness finite (vacancies ÷ job seekers) wherever there are job seekers, NaN elsewhere;
    the same for UWV's tightness and short WW benefits."""
    lab = frames["labour"]
    for ratio, denominator in (("tightness", "job_seekers"), ("uwv_tightness", "ww_short")):
        some = lab[denominator] > 0
        r = lab[ratio]
        assert np.isfinite(r[some]).all(), f"{ratio} not finite where {denominator} > 0:\n{lab[some & ~np.isfinite(r)]}"
        assert r[~some].isna().all(), f"{ratio} set where {denominator} == 0"
        np.testing.assert_allclose(r[some], lab.loc[some, "vacancies"] / lab.loc[some, denominator], rtol=1e-12)
    last = lab[lab["date"] == lab["date"].max()]
    for sector, seekers in zip(last["sector"], last["job_seekers"], strict=True):
        assert (summary["tightness_end_by_sector"][sector] is None) == (seekers == 0), sector


def check_closures(t: Tracked) -> None:
    """Closures ≤ open programmes: each review's closed (and bundled) programmes were open before
    it and are closed after it, nothing else closes, nothing reopens, no programme closes twice;
    the education table's open flags are the programmes open at each September."""
    model, frames, summary = t.model, t.frames, t.summary
    ev, edu = frames["events"], frames["education"]
    ids = np.asarray(model.results.dims["programme"].labels["programme_id"])
    index = pd.Series(np.arange(ids.size), index=ids)
    is_open = np.stack(t.open_)  # (months + 1, programmes): before month 0, after month 0, …
    month = ((ev["date"].dt.year - model.cfg.start_year) * 12 + ev["date"].dt.month - 1).to_numpy(dtype=np.int64)
    prog = index.reindex(ev["programme_id"]).to_numpy()
    assert not np.isnan(prog.astype(float)).any(), "an event of an unknown programme"
    prog = prog.astype(np.int64)
    assert (ev["date"].dt.month == APRIL + 1).all(), "an event outside the April review"
    assert set(ev["event"]) <= {"closed", "carried", "vetoed", "bundled"}
    levers = set(model.cfg.policy)
    assert "minimal_coverage" in levers or not (ev["event"] == "vetoed").any()
    assert "bundling" in levers or not (ev["event"] == "bundled").any()
    closing = ev["event"].isin(["closed", "bundled"]).to_numpy()
    assert np.unique(prog[closing]).size == closing.sum(), "a programme closed twice"

    assert not (is_open[1:] & ~is_open[:-1]).any(), "a closed programme reopened"
    gone = is_open[:-1] & ~is_open[1:]  # (month, programme): closed during that month
    closed = np.zeros_like(gone)
    closed[month[closing], prog[closing]] = True
    np.testing.assert_array_equal(closed, gone, err_msg="closure events against the programmes that closed")
    assert is_open[month[closing], prog[closing]].all(), "a closed programme was not open before"
    per_review = np.bincount(month[closing], minlength=model.n_months)
    assert (per_review <= is_open[:-1].sum(axis=1)).all(), "more closures than open programmes"
    kept = ~closing & ev["event"].isin(["vetoed", "carried"]).to_numpy()
    assert is_open[month[kept] + 1, prog[kept]].all(), "a vetoed or carried programme closed"

    for k, year in enumerate(sorted(edu["school_year"].unique())):
        got = edu.loc[edu["school_year"] == year, "open"].to_numpy()
        np.testing.assert_array_equal(got, is_open[12 * k + SEPTEMBER + 1], err_msg=f"open {year}")
    assert summary["closures"] <= summary["programmes_open_start"] <= ids.size
    assert summary["closures"] + summary["bundled_programmes"] <= summary["programmes_open_start"]
    last_september = 12 * (model.n_years - 1) + SEPTEMBER
    before_last = int((closing & (month < last_september)).sum())
    assert summary["programmes_open_end"] == summary["programmes_open_start"] - before_last


def check_policy_cost(cfg: Config, frames: dict[str, pd.DataFrame], summary: dict) -> None:
    """Policy cost ≥ 0 (each lever's rows and the summary); rows only of the selected levers."""
    pol = frames["policy"]
    assert set(pol["lever"]) <= set(cfg.policy), f"rows of levers not selected: {set(pol['lever']) - set(cfg.policy)}"
    cost = pol.loc[pol["quantity"] == "cost_eur", "value"].to_numpy(dtype=float)
    assert np.isfinite(cost).all() and (cost >= 0).all(), pol[pol["quantity"] == "cost_eur"]
    assert summary["policy_cost_eur"] >= 0
    assert summary["policy_cost_eur"] == pytest.approx(cost.sum())
    if not cfg.policy:
        assert pol.empty and summary["policy_cost_eur"] == 0


@given(drawn=configs())
def test_invariants_hold_for_any_valid_configuration(drawn):
    cfg = composed(drawn)
    t = run_tracked(cfg)
    check_persons(t)
    check_counts(t.frames, t.summary)
    check_shares(t.model, t.frames, t.summary)
    check_tightness(t.frames, t.summary)
    check_closures(t)
    check_policy_cost(cfg, t.frames, t.summary)
    # what the examples reached (pytest --hypothesis-show-statistics)
    ev = t.frames["events"]["event"]
    for kind in ("closed", "carried", "vetoed", "bundled"):
        event(f"{kind} programmes: {'some' if (ev == kind).any() else 'none'}")
    event(f"levers: {len(cfg.policy)}")
    no_seekers = t.frames["labour"]["tightness"].isna().any()
    event(f"months without job seekers in a sector: {'some' if no_seekers else 'none'}")


# --- determinism -------------------------------------------------------------------------------------
def month_by_month(cfg: Config) -> RegionModel:
    model = RegionModel(cfg, load_region(cfg.region.name, cfg.data_dir))
    for _ in range(model.n_months):
        model.run_for(1)
    return model


@settings(max_examples=max(10, settings.default.max_examples // 10))
@given(drawn=configs())
def test_same_seed_same_results(drawn):
    """The same configuration run twice, once in one go and once a month at a time: identical
    tables (exactly) and summary."""
    cfg = composed(drawn)
    first, s1 = tables_and_summary(simulate(cfg))
    again, s2 = tables_and_summary(month_by_month(cfg))
    assert list(again) == list(first)
    for name in first:
        pd.testing.assert_frame_equal(again[name], first[name], check_exact=True, obj=name)
    assert json.dumps(s2, sort_keys=True) == json.dumps(s1, sort_keys=True)


def test_no_separations_and_no_warning_where_a_lever_sets_the_separation_factor_to_zero(small_cfg):
    """Found by the property test: the image lever's employership change times its retention
    effect can reach 1, making a sector's separation factor 0; the separation draw divided by it
    and warned (divide by zero). Nobody in that sector is laid off or leaves for inactivity."""
    import warnings

    cfg = small_cfg("policy=[image]", "policy.image.start_year=2025", "~policy.image.image_change.care",
                    "+policy.image.employership_change.care=5", "policy.image.retention_per_employership=0.2",
                    region="zeeland", scale=0.02, years=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = simulate(cfg)
    assert model.hooks.labour.separation_factor[SECTORS.index("care")] == 0
