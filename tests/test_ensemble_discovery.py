"""The ensemble verdict's analysis on tables with a known answer (issue 17): the share of worlds in
which a claim holds, PRIM recovering a planted box, the replicate check, and effects by year."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from commonsabm.analysis.ensemble import discovery, over_time, shares, stability

PNG = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ shares

def _table(claim: str, statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"world": range(len(statuses)), "claim": claim, "status": statuses})


def _one(statuses: list[str]) -> pd.Series:
    return shares.shares(_table("X", statuses)).iloc[0]


def test_nine_of_ten_worlds_is_robust_and_one_of_ten_rejected_with_clopper_pearson_intervals():
    table = pd.concat([_table("R", ["supported"] * 9 + ["not supported"]),
                       _table("J", ["supported"] + ["not supported"] * 9),
                       _table("C", ["supported"] * 5 + ["not supported"] * 5)])
    got = shares.shares(table).set_index("claim")
    assert list(got.index) == ["R", "J", "C"]
    assert list(got["verdict"]) == ["robust", "rejected", "contested"]
    assert list(got["holds"]) == [9, 1, 5] and list(got["worlds"]) == [10, 10, 10]
    assert got.loc["R", "share"] == pytest.approx(0.9)
    # Clopper–Pearson from its beta-quantile definition, independently of binomtest
    for claim, k in [("R", 9), ("J", 1), ("C", 5)]:
        assert got.loc[claim, "low"] == pytest.approx(beta.ppf(0.025, k, 10 - k + 1), rel=1e-6)
        assert got.loc[claim, "high"] == pytest.approx(beta.ppf(0.975, k + 1, 10 - k), rel=1e-6)
        assert got.loc[claim, "low"] < got.loc[claim, "share"] < got.loc[claim, "high"]


@pytest.mark.parametrize("holds, worlds, expected", [
    (27, 30, "robust"),  # exactly 0.9, though 0.9 * 30 is 27.000000000000004 in floating point
    (26, 30, "contested"),
    (3, 30, "rejected"),  # exactly 0.1
    (4, 30, "contested"),
    (30, 30, "robust"),
    (0, 30, "rejected"),
    (0, 0, "cannot answer"),
])
def test_the_thresholds_are_inclusive_and_exact(holds, worlds, expected):
    assert shares.verdict(holds, worlds) == expected


def test_depends_does_not_hold_and_unanswered_worlds_are_left_out_and_counted():
    row = _one(["supported"] * 8 + ["depends"] * 2 + ["cannot answer", "not estimable"])
    assert (row["worlds"], row["holds"], row["unanswered"]) == (10, 8, 2)
    assert row["share"] == pytest.approx(0.8) and row["verdict"] == "contested"
    assert _one(["cannot answer"] * 3)["verdict"] == "cannot answer"


def test_a_boolean_holds_column_gives_the_same_shares_as_statuses():
    statuses = ["supported", "not supported", "supported", "depends"]
    by_status = shares.shares(_table("X", statuses))
    by_bool = shares.shares(pd.DataFrame({"world": range(4), "claim": "X",
                                          "holds": [s == "supported" for s in statuses]}))
    pd.testing.assert_frame_equal(by_status, by_bool)


@pytest.mark.parametrize("table, words", [
    (pd.DataFrame({"world": [0], "claim": ["X"], "status": ["maybe"]}), "'maybe' is not one of"),
    (pd.DataFrame({"world": [0], "claim": ["X"]}), "needs a 'holds' (bool) or a 'status' column"),
    (pd.DataFrame({"world": [0, 0], "claim": ["X", "X"], "holds": [True, False]}), "more than once"),
])
def test_bad_tables_are_refused_with_one_line(table, words):
    with pytest.raises(ValueError, match=None) as err:
        shares.shares(table)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_markdown_table_shows_the_seed_verdict_beside_the_ensembles():
    text = shares.markdown(shares.shares(_table("P1", ["supported"] * 9 + ["not supported"])), {"P1": "supported"})
    assert "| P1 | supported | 10 | 9 | 0.90 [0.55, 1.00] | robust |" in text


# ------------------------------------------------------------------ scenario discovery

def _planted(seed: int, n: int = 400, noise: float = 0.05) -> tuple[pd.DataFrame, np.ndarray]:
    """Worlds on five uniform parameters; the claim holds iff 0.2 <= a <= 0.6 and b > 0.5, 5% of labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(0, 1, (n, 5)), columns=["a", "b", "c", "d", "e"])
    y = ((x["a"] >= 0.2) & (x["a"] <= 0.6) & (x["b"] > 0.5)).to_numpy()
    return x, np.where(rng.uniform(size=n) < noise, ~y, y)


@pytest.fixture(scope="module", params=[1, 3, 12])  # 3 and 12 need a noise restriction dropped
def planted(request):
    x, y = _planted(request.param)
    return discovery.discover(x, y)


def test_prim_recovers_the_planted_box_and_leaves_the_other_parameters_free(planted):
    assert planted.status == "box"
    assert set(planted.limits.index) == {"a", "b"}
    a, b = planted.limits.loc["a"], planted.limits.loc["b"]
    assert abs(a["low"] - 0.2) < 0.1 and abs(a["high"] - 0.6) < 0.1
    assert abs(b["low"] - 0.5) < 0.1
    assert math.isnan(b["qp_high"])  # b's upper side is the edge of the range: not a restriction
    assert planted.coverage >= 0.75 and planted.density >= discovery.DENSITY_MIN
    assert 0.12 < planted.mass < 0.3  # the planted box is 0.4 x 0.5 = 0.2 of the space
    assert "<= a <=" in discovery.describe(planted) and "b >= " in discovery.describe(planted)


def test_the_box_is_drawn_to_the_path_given(planted, tmp_path):
    path = discovery.draw(planted, tmp_path / "box.png", "X: where it holds")
    assert path.read_bytes()[:8] == PNG


@pytest.mark.parametrize("n, y, status", [
    (400, "all", "all hold"),
    (400, "none", "none hold"),
    (discovery.MIN_WORLDS - 1, "planted", "too few worlds"),
])
def test_degenerate_cases_give_a_result_not_an_exception_and_no_figure(n, y, status, tmp_path):
    x, planted_y = _planted(3, n)
    labels = {"all": np.ones(n, bool), "none": np.zeros(n, bool), "planted": planted_y}[y]
    found = discovery.discover(x, labels)
    assert found.status == status and found.limits.empty and found.index is None
    assert discovery.draw(found, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
    assert found.message in discovery.markdown({"X": found})


def test_no_relation_to_the_parameters_finds_no_dense_box():
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.uniform(0, 1, (300, 4)), columns=list("abcd"))
    found = discovery.discover(x, rng.uniform(size=300) < 0.4)
    assert found.status in {"no box", "weak box"}
    assert found.status == "no box" or found.density < discovery.DENSITY_MIN


def test_the_chosen_box_is_the_densest_enough_box_of_highest_coverage():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.95, 0.9, 0.9, 0.6],
                               "density": [0.3, 0.7, 0.82, 0.85, 0.95],
                               "res_dim": [0, 1, 2, 2, 3]})
    assert discovery.choose(trajectory) == 3  # 2 and 3 tie on coverage: the denser
    assert discovery.choose(trajectory, density_min=0.9) == 4
    assert discovery.choose(trajectory, density_min=0.99) == 4  # none dense enough: the densest (reported weak)
    assert discovery.choose(trajectory.iloc[:1]) is None  # box 0 restricts nothing


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # EMA 3.0 on pandas 3, not ours
def test_a_restriction_that_is_noise_is_dropped_from_the_box():
    # seed 3: PRIM's first peels take a slice off c that stays in every dense box, with quasi-p ~0.5
    x, y = _planted(3)
    prim = discovery._prim()
    box = prim.Prim(x, y.astype(int)).find_box()
    i = discovery.choose(box.peeling_trajectory)
    assert "c" in discovery.limits(box, i).index
    assert set(discovery.limits(box, discovery.prune(box, i)).index) == {"a", "b"}


@pytest.mark.parametrize("x, y, words", [
    (pd.DataFrame({"a": ["p", "q"] * 30}), np.ones(60, bool), "must be numeric"),
    (pd.DataFrame({"a": np.arange(60.0)}), np.full(60, 2), "booleans"),
    (pd.DataFrame({"a": np.arange(60.0)}), np.ones(59, bool), "one value per world"),
])
def test_bad_discovery_input_is_refused(x, y, words):
    with pytest.raises(ValueError, match=words):
        discovery.discover(x, y)


# ------------------------------------------------------------------ replicates: variance stability

def _replicates(cells: int = 3, n: int = 200, mean: float = 10.0, sd: float = 2.0, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"job": f"cell{c}", "replicate": r,
                          "level": rng.normal(mean, sd), "noisy": rng.normal(mean, 4 * sd)}
                         for c in range(cells) for r in range(n)])


def test_the_cv_settles_on_the_metrics_own_and_the_cv_of_the_mean_falls_like_one_over_root_n():
    curve = stability.cv_curve(_replicates(cells=1, n=400)["level"])
    assert curve["n"].tolist() == list(range(2, 401))
    assert curve["cv"].iloc[-1] == pytest.approx(0.2, abs=0.02)  # sd/mean = 2/10
    at = curve.set_index("n")["cv_of_mean"]
    assert at[400] == pytest.approx(0.2 / math.sqrt(400), rel=0.1)
    assert at[400] / at[100] == pytest.approx(0.5, rel=0.15)  # four times the runs, half the relative error


def test_the_replicates_needed_grow_as_the_tolerance_shrinks():
    table = _replicates()
    needed = [stability.check(table, ["level"], tolerance=t)["replicates_needed"].iloc[0] for t in (0.05, 0.01, 0.003)]
    assert not any(pd.isna(n) for n in needed)
    assert needed[0] <= needed[1] <= needed[2] and needed[0] < needed[2]
    assert pd.isna(stability.check(table, ["level"], tolerance=1e-9)["replicates_needed"].iloc[0])


def test_a_metric_not_levelled_off_is_said_so_and_the_others_keep_their_counts():
    result = stability.check(_replicates(), ["level", "noisy"], tolerance=0.003).set_index("metric")
    assert pd.isna(result.loc["noisy", "replicates_needed"]) and result.loc["noisy", "unstable_cells"] >= 1
    assert isinstance(result.loc["level", "replicates_needed"], (int, np.integer))
    assert "| noisy | more than run | 200 |" in stability.markdown(result.reset_index(), 0.003)


def test_the_noisier_metric_needs_more_replicates_and_the_worst_cell_decides(tmp_path):
    table = _replicates()
    result = stability.check(table, ["level", "noisy"], tolerance=0.01).set_index("metric")
    assert result.loc["noisy", "replicates_needed"] > result.loc["level", "replicates_needed"]
    per_cell = [stability.stable_n(stability.cv_curve(rows["level"]), 0.01) for _, rows in table.groupby("job")]
    assert result.loc["level", "replicates_needed"] == max(per_cell)
    assert "| level |" in stability.markdown(result.reset_index())
    path = stability.draw(stability.curves(table, ["level", "noisy"]), tmp_path / "cv.png", result=result.reset_index())
    assert path.read_bytes()[:8] == PNG


def test_stable_n_reads_the_last_large_step():
    curve = pd.DataFrame({"n": [2, 3, 4, 5, 6], "cv": [0.5, 0.3, 0.305, 0.302, 0.303]})
    assert stability.stable_n(curve, 0.01) == 3  # the steps after n=3 are all under 0.01
    assert stability.stable_n(curve, 0.001) is None  # the last step (0.001) is not under 0.001


# ------------------------------------------------------------------ effects over time

def test_median_and_band_by_year_on_a_tiny_table(tmp_path):
    table = pd.DataFrame({"world": [0, 1, 2, 3, 4] * 2 + [0, 1], "claim": ["P1"] * 10 + ["D1"] * 2,
                          "year": [0] * 5 + [1] * 5 + [0, 0],
                          "effect": [1, 2, 3, 4, 5, 10, 20, 30, 40, np.nan, -1, -3]})
    banded = over_time.bands(table)
    assert list(zip(banded["claim"], banded["year"])) == [("P1", 0), ("P1", 1), ("D1", 0)]  # the table's order
    got = banded.set_index(["claim", "year"])
    assert got.loc[("P1", 0), "median"] == 3 and got.loc[("P1", 0), "worlds"] == 5
    assert got.loc[("P1", 0), "low"] == pytest.approx(1.2) and got.loc[("P1", 0), "high"] == pytest.approx(4.8)
    assert got.loc[("P1", 1), "worlds"] == 4 and got.loc[("P1", 1), "median"] == 25  # the missing world is left out
    assert got.loc[("D1", 0), "median"] == -2
    assert over_time.draw(over_time.bands(table), tmp_path / "t.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="lacks effect"):
        over_time.bands(table.drop(columns="effect"))
