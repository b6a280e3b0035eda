"""The ensemble's EMA adapter and history matching (issue 17).

The adapter is driven through EMA Workbench's own entry points (``perform_experiments`` with
its sequential and multiprocessing evaluators), not through mocks; every run is tiny
(2,000 residents, one replicate), to 2012-12 where the calibration years are not needed.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from ema_workbench import MultiprocessingEvaluator, Sample, Samplers, SequentialEvaluator, perform_experiments

from commonsabm.analysis.calibration import TARGETS
from commonsabm.analysis.claims import CLAIMS
from commonsabm.analysis.ensemble import adapter, problem, worlds
from commonsabm.analysis.sensitivity import UNCERTAIN

SMALL = {"population": 2000, "end": "2012-12", "seed": 3, "seeds": 1}
# the debate's levers start in 2020; a run to 2012 sees them only if they start early
EARLY = {"ubi.start": "2011-01", "procurement.start": "2011-01", "investment_fund.start": "2011-01"}


def _experiments(ema, evaluator=None, scenarios=2, policies=0, rng=5):
    return perform_experiments(ema, scenarios=scenarios, policies=policies, evaluator=evaluator,
                               uncertainty_sampling=Samplers.LHS, uncertainty_sampling_kwargs={"rng": rng})


# ---------------------------------------------------------------- the contract
def test_problem_reuses_the_sensitivity_list_and_the_debate_sweep():
    world = [u for u in UNCERTAIN if u.key not in problem.lever_keys()]
    params = problem.uncertainties()
    assert [problem.KEYS[p.name] for p in params] == [u.key for u in world]
    assert [(p.lower_bound, p.upper_bound) for p in params] == [(u.lo, u.hi) for u in world]
    assert problem.PROBLEM["names"] == [u.key for u in world]


def test_what_a_debate_lever_sets_is_not_an_unknown_of_the_world():
    """The reformed preset sets the social-value weight and primes' payment days: a world that
    drew them would override the lever argued over, so they are levers, not unknowns; the
    market's own parameters (a panel's error) stay unknowns."""
    keys = {u.key for u in problem.WORLD}
    assert {"procurement.weight_social_value", "procurement.subcontract_payment_days"} <= problem.lever_keys()
    assert not keys & problem.lever_keys()
    assert "procurement.panel_noise" in keys and "ubi.funding" in problem.lever_keys()
    levels = problem.debate_levels()
    assert levels["ubi"] == ("none", "modest", "full") and levels["place"] == ("deprived_northern", "affluent_southern")
    assert [lever.name for lever in problem.levers()] == list(levels)
    assert [c.value for c in problem.levers()[0].categories] == list(levels["ubi"])
    assert problem.debate_settings()["ubi.funding"] == "outside"


def test_settings_set_values_levers_and_the_debate_settings():
    base = adapter.settings({}, {}, 2000, "2012-12")
    arm = adapter.settings({"behaviour.motivation_alpha": 3.5, "procurement.weight_social_value": 0.4},
                           {"ubi": "full"}, 2000, "2012-12", EARLY)
    assert arm.model.behaviour.motivation_alpha == 3.5
    rules = arm.model.procurement  # the other weights share what social value leaves
    assert math.isclose(rules.weight_price + rules.weight_quality + rules.weight_social_value, 1.0)
    assert arm.model.ubi.level > base.model.ubi.level and arm.model.ubi.start == "2011-01"
    assert arm.model.ubi.funding == problem.debate_settings()["ubi.funding"]


def test_every_claim_metric_is_an_outcome():
    metrics = {part.metric for claim in CLAIMS for part in claim.parts}
    assert metrics <= set(adapter.METRICS)
    assert set(adapter.OUTCOMES) == {t.name for t in TARGETS} | set(adapter.METRICS)


# ---------------------------------------------------------------- the adapter through EMA
def test_perform_experiments_runs_the_model_and_is_reproducible():
    ema = adapter.model(**SMALL)
    experiments, outcomes = _experiments(ema, SequentialEvaluator(ema))
    assert len(experiments) == 2 and set(outcomes) == set(adapter.OUTCOMES + adapter.SPREADS)
    for name in adapter.METRICS + ("care_share_2010",):  # the targets a run to 2012 can measure
        assert np.isfinite(outcomes[name]).all(), name
    assert np.isnan(outcomes["care_share_2016"]).all()  # beyond the horizon: not a made-up number
    # the two worlds differ in their parameters, so in what they grow
    assert outcomes["volunteering_rate_final"][0] != outcomes["volunteering_rate_final"][1]
    again_experiments, again = _experiments(ema)
    pd.testing.assert_frame_equal(experiments.drop(columns=["scenario", "policy"]),
                                  again_experiments.drop(columns=["scenario", "policy"]))
    for name in adapter.OUTCOMES:
        np.testing.assert_array_equal(outcomes[name], again[name])


def test_a_lever_level_reaches_the_run():
    ema = adapter.model(**SMALL, overrides=EARLY)
    experiments, outcomes = _experiments(ema, scenarios=1, policies=[Sample("none", ubi="none"),
                                                                      Sample("full", ubi="full")])
    assert list(experiments["ubi"]) == ["none", "full"]
    # an unconditional UBI ends sanctions, so claimants keep the hours sanctions took
    none, full = outcomes["claimant_commoning_hours_final"]
    assert full > none


def test_multiprocessing_evaluator_gives_the_sequential_results():
    ema = adapter.model(**SMALL)
    _, sequential = _experiments(ema)
    with MultiprocessingEvaluator(ema, n_processes=2) as evaluator:
        _, parallel = _experiments(ema, evaluator)
    for name in adapter.OUTCOMES:
        np.testing.assert_array_equal(sequential[name], parallel[name])


# ---------------------------------------------------------------- history matching
def test_a_world_is_kept_iff_every_target_is_inside():
    table = pd.DataFrame({"a": [0.5, 0.5, 1.0, np.nan], "b": [2.0, 3.5, 2.0, 2.0]})
    kept = worlds.judge(table, {"a": (0.0, 0.5), "b": (2.0, 3.0)})
    assert list(kept) == [True, False, False, False]  # edges inside; one miss, or a NaN, rejects


@pytest.fixture(scope="module")
def drawn():
    return worlds.draw(worlds=3, seeds=1, population=2000, end=worlds.TARGETS_END)


def test_draw_keeps_the_worlds_the_bands_allow(drawn):
    assert list(drawn["world"]) == [0, 1, 2]
    assert list(drawn["kept"]) == list(worlds.judge(drawn))  # judged against the calibration bands
    measured = [t.name for t in TARGETS if drawn[t.name].notna().all()]
    assert len(measured) >= 5
    wide = {name: (-np.inf, np.inf) for name in measured}
    assert worlds.judge(drawn, wide).all()
    # narrow one band to just below the largest value: that world, and only it, leaves
    varied = next(name for name in measured if drawn[name].nunique() == 3)
    top = drawn[varied].idxmax()
    narrow = {**wide, varied: (-np.inf, float(drawn[varied].nlargest(2).iloc[-1]))}
    assert list(worlds.judge(drawn, narrow)) == [i != top for i in drawn.index]
    again = worlds.draw(worlds=3, seeds=1, population=2000, end=worlds.TARGETS_END, within=narrow)
    assert list(again["kept"]) == [i != top for i in drawn.index]


def test_kept_ranges_and_acceptance_agree_with_the_table(drawn):
    table = drawn.assign(kept=[True, False, True])
    assert worlds.tally(table) == (2, 3)
    ranges = worlds.kept_ranges(table).set_index("parameter")
    rates = worlds.acceptance(table)
    for u in problem.WORLD:
        assert u.lo <= drawn[u.key].min() and drawn[u.key].max() <= u.hi
        assert ranges.loc[u.key, "kept_lo"] == min(table.loc[[0, 2], u.key])
        mine = rates[rates["parameter"] == u.key]
        assert mine["tried"].sum() == 3 and mine["kept"].sum() == 2
    text = worlds.markdown(table)
    assert text.startswith("2 of 3 worlds kept") and all(f"| {u.key} |" in text for u in problem.WORLD)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "commonsabm.analysis.ensemble.worlds", *args],
                          capture_output=True, text=True, timeout=600)


def test_cli_writes_the_table_and_the_same_arguments_give_the_same_bytes(tmp_path):
    args = ["--worlds", "2", "--seeds", "1", "--population", "2000"]
    first, second = tmp_path / "a", tmp_path / "b"
    result = _cli(*args, "--out", str(first))  # the command itself, in its own process
    assert result.returncode == 0, result.stderr
    assert worlds.main([*args, "--out", str(second)]) == 0
    table = pd.read_parquet(first / worlds.TABLE)
    assert len(table) == 2 and {"kept", *(u.key for u in problem.WORLD), *(t.name for t in TARGETS)} <= set(table.columns)
    for name in (worlds.TABLE, worlds.REPORT):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("bad, option", [
    (["--worlds", "0"], "--worlds"), (["--seeds", "0"], "--seeds"), (["--jobs", "0"], "--jobs"),
    (["--end", "2016-12"], "--end"), (["--end", "June"], "--end"), (["--lhs-seed", "-1"], "--lhs-seed"),
    (["--population", "0"], "population"),
])
def test_cli_rejects_bad_input_with_one_line_and_no_output(tmp_path, capsys, bad, option):
    args = {"--worlds": "1", "--seeds": "1", "--population": "2000"}
    for key, value in zip(bad[::2], bad[1::2]):
        args[key] = value
    out = tmp_path / "out"
    assert worlds.main([*(x for pair in args.items() for x in pair), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and option in lines[0] and "allowed" in lines[0], captured.err
    assert captured.out == ""
    assert not out.exists()
