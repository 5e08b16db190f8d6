"""Unit tests of the building blocks: random subsets (sim.sampling), named random streams
(sim.streams), the column store of persons (sim.agents.population) and the gravity placement of
the base-year students.

Statistical checks use a fixed seed (so they are deterministic) and bounds that a correct
implementation passes with probability > 1 - 1e-6 for any seed: a wrong one (a biased draw, a
fixed subset size, an off-by-one) fails them by many standard deviations.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.agents.population import FIELDS, Population
from sim.codes import NO_SECTOR
from sim.policies import POLICIES
from sim.processes.education.placement import gravity as _gravity  # the one line to change when it moves
from sim.sampling import (
    bernoulli_subset,
    count_at_most,
    first_within_capacity,
    systematic_round,
    thinned_subset,
    uniform_subset_where,
)
from sim.streams import Streams

SIM_DIR = Path(__file__).resolve().parents[1] / "sim"
ALPHA = 1e-7  # two-sided tail probability of each statistical bound


def binomial_bounds(trials: int, p: float) -> tuple[int, int]:
    """Counts outside [lo, hi] have probability < ALPHA under Binomial(trials, p)."""
    lo, hi = stats.binom.interval(1 - ALPHA, trials, p)
    return int(lo), int(hi)


def assert_binomial(counts: np.ndarray, trials: int, p: np.ndarray | float, what: str) -> None:
    """Each count is a plausible Binomial(trials, p_i) draw, and together they pass a chi-square
    test (which catches a small bias shared by many indices)."""
    counts = np.asarray(counts)
    p = np.broadcast_to(np.asarray(p, dtype=float), counts.shape)
    for i, (c, pi) in enumerate(zip(counts, p, strict=True)):
        lo, hi = binomial_bounds(trials, pi)
        assert lo <= c <= hi, f"{what}: index {i} included {c} times in {trials}, expected {trials * pi:.1f}"
    var = trials * p * (1 - p)
    ok = var > 0
    chi2 = float((((counts - trials * p) ** 2)[ok] / var[ok]).sum())
    assert chi2 < stats.chi2.ppf(1 - ALPHA, ok.sum()), f"{what}: chi-square {chi2:.1f} over {ok.sum()} indices"


# --- bernoulli_subset -------------------------------------------------------------------------------
def test_bernoulli_subset_sorted_distinct_in_range():
    rng = np.random.default_rng(1)
    sizes = set()
    for n, p in [(1, 0.5), (7, 0.5), (50, 0.9), (1000, 0.01), (1000, 0.3)]:
        for _ in range(50):
            s = bernoulli_subset(rng, n, p)
            assert s.ndim == 1 and np.issubdtype(s.dtype, np.integer)
            assert np.all(np.diff(s) > 0), "not sorted or not distinct"
            if s.size:
                assert 0 <= s[0] and s[-1] < n
            sizes.add(s.size)
    assert len(sizes) > 10  # the subsets are random, not fixed


def test_bernoulli_subset_inclusion_frequency_is_p():
    rng = np.random.default_rng(2)
    n, p, draws = 40, 0.3, 4000
    counts = np.zeros(n, dtype=np.int64)
    sizes = np.empty(draws)
    for r in range(draws):
        s = bernoulli_subset(rng, n, p)
        counts[s] += 1
        sizes[r] = s.size
    assert_binomial(counts, draws, p, "bernoulli_subset")
    # the subset size is Binomial(n, p): its variance too, not only its mean (a subset of fixed
    # size round(n·p) has the right marginal frequencies but no variance)
    var = n * p * (1 - p)
    assert sizes.mean() == pytest.approx(n * p, abs=5 * np.sqrt(var / draws))
    chi2_lo, chi2_hi = stats.chi2.interval(1 - ALPHA, draws - 1)
    assert chi2_lo < sizes.var(ddof=1) * (draws - 1) / var < chi2_hi, sizes.var()
    # pairs: independent inclusion, P(i and j) = p² (the first two indices, the last two)
    both = np.zeros(2, dtype=np.int64)
    for _ in range(draws):
        s = set(bernoulli_subset(rng, n, p).tolist())
        both += [{0, 1} <= s, {n - 2, n - 1} <= s]
    assert_binomial(both, draws, p * p, "bernoulli_subset pairs")


# --- uniform_subset_where ----------------------------------------------------------------------------
@pytest.mark.parametrize("share", [0.3, 0.01, 1.0])  # a right, a far too low and a far too high guess
def test_uniform_subset_where_is_uniform_among_the_passing_indices(share):
    rng = np.random.default_rng(5)
    n, k, draws = 60, 4, 6000
    passing = np.zeros(n, dtype=bool)
    passing[::3] = True  # 20 of 60
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(draws):
        s = uniform_subset_where(rng, n, k, lambda i: passing[i], share)
        assert s.size == k and np.unique(s).size == k, s
        counts[s] += 1
    assert counts[~passing].sum() == 0, "an index that does not pass was drawn"
    assert_binomial(counts[passing], draws, k / passing.sum(), "uniform_subset_where")


def test_uniform_subset_where_returns_what_there_is():
    rng = np.random.default_rng(6)
    passing = np.zeros(1000, dtype=bool)
    passing[[3, 500]] = True
    got = uniform_subset_where(rng, 1000, 5, lambda i: passing[i], 0.5, max_rounds=200)
    assert sorted(got.tolist()) == [3, 500]  # only two pass: both, no repeats, then it stops
    assert uniform_subset_where(rng, 1000, 0, lambda i: passing[i], 0.5).size == 0


@pytest.mark.parametrize("p", [0.0, -0.5])
def test_bernoulli_subset_p_zero_or_below_is_empty(p):
    rng = np.random.default_rng(3)
    for n in (0, 1, 100):
        assert bernoulli_subset(rng, n, p).size == 0


@pytest.mark.parametrize("p", [1.0, 1.5])
def test_bernoulli_subset_p_one_or_above_is_everyone(p):
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(bernoulli_subset(rng, 25, p), np.arange(25))


def test_bernoulli_subset_n_zero_is_empty():
    rng = np.random.default_rng(5)
    for p in (0.0, 0.5, 1.0):
        s = bernoulli_subset(rng, 0, p)
        assert s.size == 0 and np.issubdtype(s.dtype, np.integer)


def test_bernoulli_subset_rounds_join_where_the_first_ends():
    """Gaps drawn in several rounds (a first round that does not reach n) give the same subset as
    one round: each round goes on from the last index drawn, not from 0 or from n."""
    for n, p in [(10, 0.5), (1000, 0.005), (1000, 0.02), (100_000, 0.19), (100_000, 0.6), (50, 0.97)]:
        one = bernoulli_subset(np.random.default_rng(11), n, p)
        for chunk in (1, 2, 7):
            np.testing.assert_array_equal(bernoulli_subset(np.random.default_rng(11), n, p, chunk=chunk), one)
        assert one.dtype == np.int64


@pytest.mark.parametrize("chunk", [1, 3])
def test_bernoulli_subset_in_small_rounds_has_frequency_p(chunk):
    rng = np.random.default_rng(12)
    n, p, draws = 30, 0.2, 3000
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(draws):
        counts[bernoulli_subset(rng, n, p, chunk=chunk)] += 1
    assert_binomial(counts, draws, p, f"bernoulli_subset chunk={chunk}")


# --- thinned_subset ---------------------------------------------------------------------------------
def test_thinned_subset_each_index_with_its_own_probability():
    rng = np.random.default_rng(6)
    n, draws = 90, 3000
    p = np.array([0.0, 0.1, 0.3])[np.arange(n) % 3]  # index groups with p_i 0, 0.1, 0.3
    asked: list[np.ndarray] = []

    def p_of(c: np.ndarray) -> np.ndarray:
        asked.append(c)
        return p[c]

    counts = np.zeros(n, dtype=np.int64)
    for _ in range(draws):
        s = thinned_subset(rng, n, 0.3, p_of)
        assert np.all(np.diff(s) > 0) and (s.size == 0 or (s[0] >= 0 and s[-1] < n))
        counts[s] += 1
    assert counts[p == 0].sum() == 0, "an index with probability 0 was drawn"
    assert_binomial(counts, draws, p, "thinned_subset")
    # per group, pooled: a bias of a fraction of a per cent would show
    for pi in (0.1, 0.3):
        lo, hi = binomial_bounds(draws * int((p == pi).sum()), pi)
        assert lo <= counts[p == pi].sum() <= hi, pi
    # p_of is asked only about candidates, never about the whole population
    assert max(c.size for c in asked) < n


def test_thinned_subset_p_max_above_every_p():
    """A p_max above every p_i (a loose bound) still gives each index its own p_i."""
    rng = np.random.default_rng(7)
    n, draws = 30, 4000
    p = np.linspace(0.0, 0.2, n)
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(draws):
        counts[thinned_subset(rng, n, 0.5, lambda c: p[c])] += 1
    assert_binomial(counts, draws, p, "thinned_subset, loose p_max")


def test_thinned_subset_empty():
    rng = np.random.default_rng(8)

    def never(c):
        raise AssertionError("p_of called without candidates")

    assert thinned_subset(rng, 0, 0.5, never).size == 0
    assert thinned_subset(rng, 100, 0.0, never).size == 0


# --- first_within_capacity --------------------------------------------------------------------------
def test_first_within_capacity_admits_min_of_count_and_capacity():
    rng = np.random.default_rng(9)
    n_groups = 12
    capacity = np.array([0, 1, 2, 5, 100, 3, 0, 7, 1, 4, 2, 50])
    for _ in range(200):
        group = rng.integers(0, n_groups, size=int(rng.integers(0, 80)))
        admit = first_within_capacity(rng, group, capacity)
        assert admit.dtype == bool and admit.shape == group.shape
        got = np.bincount(group[admit], minlength=n_groups)
        count = np.bincount(group, minlength=n_groups)
        np.testing.assert_array_equal(got, np.minimum(count, capacity))
        assert not admit[capacity[group] == 0].any(), "a group with capacity 0 admitted someone"


def test_first_within_capacity_empty():
    rng = np.random.default_rng(10)
    admit = first_within_capacity(rng, np.empty(0, dtype=np.int64), np.array([3, 1]))
    assert admit.shape == (0,) and admit.dtype == bool


def test_first_within_capacity_uniform_within_group():
    """Members of a group are admitted uniformly at random, whatever their position: each of
    the count members with frequency capacity / count."""
    rng = np.random.default_rng(11)
    # two interleaved groups of 10 and 6 candidates, capacities 3 and 5
    group = np.array([0, 1] * 6 + [0] * 4)
    capacity = np.array([3, 5])
    draws = 3000
    counts = np.zeros(group.size, dtype=np.int64)
    for _ in range(draws):
        counts += first_within_capacity(rng, group, capacity)
    share = capacity[group] / np.bincount(group)[group]
    assert_binomial(counts, draws, share, "first_within_capacity")


# --- Streams ----------------------------------------------------------------------------------------
def model_stream_names() -> list[str]:
    """The stream names the model uses: every literal ``streams["…"]`` under sim/, and
    ``policy.<lever>`` for every lever (sim.policies.base attaches one stream per lever)."""
    literal = re.compile(r"""streams\[\s*["']([^"'{}]+)["']\s*\]""")
    names = {m for path in SIM_DIR.rglob("*.py") for m in literal.findall(path.read_text())}
    return sorted(names | {f"policy.{lever}" for lever in POLICIES})


def draws(gen: np.random.Generator, k: int = 8) -> list[int]:
    return gen.integers(0, 2**63, size=k).tolist()


def test_streams_same_name_same_generator():
    s = Streams(42)
    g = s["labour.matching"]
    assert s["labour.matching"] is g
    assert s["llo"] is not g


def test_streams_reproducible_across_instances():
    a, b = Streams(42), Streams(42)
    assert draws(a["demography"]) == draws(b["demography"])
    assert draws(Streams(43)["demography"]) != draws(Streams(42)["demography"])


def test_streams_different_names_different_draws():
    s = Streams(42)
    assert draws(s["a"]) != draws(s["b"])


def test_model_stream_names_have_distinct_seeds():
    names = model_stream_names()
    # the search found the model's streams (a regex that finds nothing would pass vacuously)
    assert {"demography", "education.choice", "labour.matching", "llo", "municipalities"} <= set(names)
    assert len(names) >= 12 + len(POLICIES), names
    for seed in (0, 1, 20250101):
        s = Streams(seed)
        first = {n: tuple(draws(s[n], 4)) for n in names}
        states = {n: s[n].bit_generator.state["state"]["state"] for n in names}
        assert len(set(first.values())) == len(names), f"seed {seed}: two streams draw the same numbers"
        assert len(set(states.values())) == len(names), f"seed {seed}: two streams share a state"


def test_streams_new_name_does_not_shift_others():
    plain = Streams(7)
    expected = draws(plain["education.choice"], 20)
    crowded = Streams(7)
    for name in ("policy.new_lever", "zzz", "education.choice2"):
        draws(crowded[name], 100)  # created and used before the stream of interest
    assert draws(crowded["education.choice"], 20) == expected
    # and interleaved use of another stream leaves the sequence unchanged
    mixed = Streams(7)
    got = []
    for _ in range(20):
        got += draws(mixed["education.choice"], 1)
        draws(mixed["llo"], 3)
    assert got == expected


# --- Population ---------------------------------------------------------------------------------------
def test_population_append_defaults_values_and_indices():
    pop = Population(3)
    assert pop.n == len(pop) == 3
    for name, (dtype, default) in FIELDS.items():
        arr = getattr(pop, name)
        assert arr.dtype == dtype and arr.shape == (3,) and (arr == default).all(), name
    idx = pop.append(4, age=np.array([20, 21, 22, 23]), municipality=2, status=4)
    np.testing.assert_array_equal(idx, [3, 4, 5, 6])
    assert pop.n == 7
    np.testing.assert_array_equal(pop.age, [15, 15, 15, 20, 21, 22, 23])
    np.testing.assert_array_equal(pop.municipality, [0, 0, 0, 2, 2, 2, 2])
    np.testing.assert_array_equal(pop.status, [0, 0, 0, 4, 4, 4, 4])
    assert (pop.sector == NO_SECTOR).all() and (pop.programme == -1).all()
    for name, (dtype, _) in FIELDS.items():
        assert getattr(pop, name).dtype == dtype and len(getattr(pop, name)) == 7, name
    idx = pop.append(0)
    assert idx.size == 0 and pop.n == 7
    np.testing.assert_array_equal(pop.append(1, sector=5), [7])
    assert pop.sector[7] == 5 and pop.age[7] == 15


def test_population_append_unknown_field_raises_and_changes_nothing():
    pop = Population(2)
    with pytest.raises(KeyError, match="wage"):
        pop.append(3, age=30, wage=1000)
    assert pop.n == 2
    assert all(len(getattr(pop, name)) == 2 for name in FIELDS)


def test_population_keep_removes_rows_in_order_in_every_field():
    pop = Population(0)
    n = 10
    values = {name: (np.arange(n) % 100 + 1).astype(dtype) for name, (dtype, _) in FIELDS.items()}
    pop.append(n, **values)
    mask = np.array([True, False, True, True, False, False, True, False, False, True])
    pop.keep(mask)
    assert pop.n == mask.sum()
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(pop, name), values[name][mask], err_msg=name)
    pop.keep(np.zeros(pop.n, dtype=bool))
    assert pop.n == 0 and all(len(getattr(pop, name)) == 0 for name in FIELDS)


def test_population_count_ignores_minus_one_and_respects_where():
    pop = Population(0)
    pop.append(7, programme=np.array([-1, 0, 2, 2, -1, 4, 2]), status=np.array([1, 1, 1, 5, 1, 1, 1]))
    np.testing.assert_array_equal(pop.count("programme", 5), [1, 0, 3, 0, 1])
    np.testing.assert_array_equal(pop.count("programme", 5, where=pop.status == 1), [1, 0, 2, 0, 1])
    np.testing.assert_array_equal(pop.count("programme", 5, where=np.zeros(7, dtype=bool)), [0] * 5)
    np.testing.assert_array_equal(pop.count("status", 7), [0, 6, 0, 0, 0, 1, 0])


def test_systematic_round_keeps_the_total_and_rounds_each_cell_to_a_neighbour():
    rng = np.random.default_rng(3)
    x = rng.gamma(0.3, 1.0, size=(7, 11))  # many cells below one half
    for _ in range(50):
        r = systematic_round(rng, x)
        assert r.shape == x.shape and r.dtype == np.int64
        assert np.all((r == np.floor(x)) | (r == np.ceil(x)))
        assert r.sum() in (np.floor(x.sum()), np.ceil(x.sum()))


def test_systematic_round_is_unbiased_in_every_cell():
    """Each cell's mean over many draws is its real count (nearest-whole rounding would give 0 to
    every cell below one half: the mean of those cells here is about 0.15)."""
    rng = np.random.default_rng(4)
    x = np.array([[0.1, 0.45, 0.05], [1.3, 0.2, 2.75]])
    draws = 20_000
    mean = sum(systematic_round(rng, x) for _ in range(draws)) / draws
    frac = x - np.floor(x)
    se = np.sqrt(frac * (1 - frac) / draws)
    assert np.all(np.abs(mean - x) <= 6 * se + 1e-12), mean


# --- gravity placement ----------------------------------------------------------------------------------
def test_gravity_two_by_two_by_hand():
    """No cap binds: each destination's demand is split in proportion to origin size × weight."""
    origin = np.array([10.0, 30.0])
    weight = np.array([[1.0, 2.0], [3.0, 1.0]])
    demand = np.array([8.0, 12.0])
    # attraction [[10, 20], [90, 30]]: column shares 0.1/0.9 and 0.4/0.6
    x = _gravity(origin, weight, demand, cap=np.array([100.0, 100.0]))
    np.testing.assert_allclose(x, [[0.8, 4.8], [7.2, 7.2]], rtol=1e-12)


def random_case(seed: int, load: float):
    """13 origins × 40 destinations; total demand ``load`` × the caps of the origins that can send."""
    rng = np.random.default_rng(seed)
    origin = rng.integers(0, 300, 13).astype(float)
    origin[3] = 0.0
    weight = np.exp(-3 * rng.random((13, 40)))
    weight[5] = 0.0  # an origin nothing is drawn from
    cap = rng.uniform(0.05, 1.0, 13) * origin
    demand = rng.random(40)
    demand *= load * np.delete(cap, 5).sum() / demand.sum()
    return origin, weight, demand, cap


@pytest.mark.parametrize("seed", range(5))
def test_gravity_column_sums_and_caps(seed):
    origin, weight, demand, cap = random_case(seed, load=0.5)
    free = _gravity(origin, weight, demand, np.full(13, np.inf))
    x = _gravity(origin, weight, demand, cap)
    assert (free.sum(1) > cap + 1e-6).any(), "the caps should bind in this case"
    assert (x >= 0).all()
    np.testing.assert_allclose(x.sum(0), demand, rtol=1e-9)
    over = x.sum(1) - cap
    assert over.max() <= 1e-6, f"origin {over.argmax()} sends {over.max():.3g} more than its cap"
    # origins of size 0 or with zero weight everywhere send nobody
    assert (x[3] == 0).all() and (x[5] == 0).all()
    # uncapped origins keep the proportions origin × weight within each destination
    uncapped = x.sum(1) < cap - 1e-6
    assert uncapped.sum() >= 2
    a = origin[uncapped, None] * weight[uncapped]
    ratio = x[uncapped] / np.where(a > 0, a, np.nan)
    np.testing.assert_allclose(ratio / np.nanmax(ratio, axis=0), np.where(a > 0, 1.0, np.nan), rtol=1e-9)


def test_gravity_no_cap_binds_is_proportional():
    origin, weight, demand, cap = random_case(7, load=0.01)
    x = _gravity(origin, weight, demand, cap)
    a = origin[:, None] * weight
    np.testing.assert_allclose(x, a / a.sum(0) * demand, rtol=1e-12)


@pytest.mark.xfail(strict=True, reason=(
    "_gravity stops after 30 proportional-fitting iterations without checking convergence; when "
    "a capped origin takes most of a destination's demand the fit converges slowly (error x "
    "cap/demand per iteration) and the origin is left sending more than its cap (here 1.024 for "
    "a cap of 1, although the caps hold twice the demand)"))
def test_gravity_cap_holds_when_capped_origin_dominates():
    x = _gravity(np.array([100.0, 1.0]), np.ones((2, 1)), np.array([1.05]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.sum(0), [1.05])
    assert x.sum(1)[0] <= 1.0 + 1e-6, x.ravel()


def test_first_within_capacity_same_order_for_small_and_large_group_codes():
    """Group codes below 2**15 are sorted as int16 (a radix sort): the same admissions as with
    the codes shifted beyond that range (sorted as int64)."""
    for seed in range(20):
        rng = np.random.default_rng(seed)
        group = rng.integers(0, 300, size=int(rng.integers(0, 3000)))
        capacity = rng.integers(0, 8, size=300)
        wide = np.concatenate([np.zeros(2**16, dtype=np.int64), capacity])
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        np.testing.assert_array_equal(first_within_capacity(a, group, capacity),
                                      first_within_capacity(b, group + 2**16, wide))


# --- count_at_most ----------------------------------------------------------------------------------
def test_count_at_most_same_as_comparing_whole_rows():
    rng = np.random.default_rng(12)
    for _ in range(50):
        n_rows, n_cols, n = int(rng.integers(1, 30)), int(rng.integers(1, 20)), int(rng.integers(0, 3000))
        w = rng.random((n_rows, n_cols)) * (rng.random((n_rows, n_cols)) > 0.3)  # zero weights: ties
        cum = np.cumsum(w + 1e-9, axis=1)
        cum /= cum[:, -1:]
        row = rng.integers(0, n_rows, size=n).astype(np.int16)
        u = rng.random(n)
        exact = min(n, 40)  # draws exactly on a boundary
        u[:exact] = cum[row[:exact], rng.integers(0, n_cols, size=exact)]
        np.testing.assert_array_equal(count_at_most(cum, row, u), (u[:, None] >= cum[row]).sum(1))


# --- sorted_union ---------------------------------------------------------------------------------
def test_sorted_union_is_np_unique_of_the_parts():
    """The positions of several (sorted or not) parts, each once and in order, as np.unique gives
    them; empty parts and overlaps included."""
    from sim.agents.population import sorted_union

    rng = np.random.default_rng(12)
    for sizes in [(0, 0), (5, 0), (0, 7), (300, 40), (1000, 1000, 3)]:
        parts = [np.sort(rng.integers(0, 500, size=k)) for k in sizes]
        parts[-1] = rng.permutation(parts[-1])  # one part unsorted
        got = sorted_union(*parts)
        np.testing.assert_array_equal(got, np.unique(np.concatenate(parts)))
        assert got.dtype == np.concatenate(parts).dtype
