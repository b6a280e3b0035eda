"""The `sensitivity` mode: Morris screening then Sobol, end to end through the CLI, and its ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_clean_run, commonsabm

from commonsabm.analysis.sensitivity import (
    OUTPUTS,
    UNCERTAIN,
    check_bounds,
    rank_parameters,
    top_parameters,
    with_values,
)
from commonsabm.params.schema import ModelConfig

PARAMETERS = [u.key for u in UNCERTAIN]
FILES = ("sensitivity_morris.csv", "sensitivity_sobol.csv", "sensitivity.md", "sensitivity.png",
         "manifest.json", "config.yaml", "status.json")
TOP = 3


@pytest.fixture(scope="module")
def sensitivity_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("sensitivity")
    out = work / "out"
    # reformed procurement, so that in a place this small and a run this short the commons hold
    # some contracts and every output (their contract share included) varies across seeds
    args = ["+experiment=sensitivity", "procurement=reformed", "sensitivity.population=1500", "sensitivity.end=2011-12",
            "sensitivity.morris_trajectories=2", "sensitivity.sobol_samples=4", "sensitivity.n_jobs=1",
            f"sensitivity.sobol_top={TOP}", f"hydra.run.dir={out}"]
    return commonsabm(args, cwd=work), out, args


def test_writes_every_output(sensitivity_run):
    result, out, _ = sensitivity_run
    assert_clean_run(result, out, FILES)
    assert str(out.resolve()) in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "sensitivity" and manifest["population"] == 1500
    assert manifest["runs"]["morris"] == 2 * (len(PARAMETERS) + 1)  # trajectories x (parameters + 1)
    assert manifest["runs"]["sobol"] == 4 * (TOP + 2)  # N x (parameters + 2), no second order


def test_a_completed_analysis_is_recorded_and_not_redone(sensitivity_run):
    _, out, args = sensitivity_run
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "completed" and sorted(status["files"]) == sorted(set(FILES) - {"status.json"})
    written = {name: (out / name).stat().st_mtime_ns for name in status["files"]}
    again = commonsabm(args, cwd=out.parent)
    assert again.returncode == 0, again.stderr
    assert "already complete" in again.stderr
    assert {name: (out / name).stat().st_mtime_ns for name in status["files"]} == written


def test_morris_table_covers_every_parameter_and_output(sensitivity_run):
    _, out, _ = sensitivity_run
    morris = pd.read_csv(out / "sensitivity_morris.csv")
    assert {"output", "parameter", "mu_star", "mu_star_conf", "sigma"} <= set(morris.columns)
    assert len(morris) == len(OUTPUTS) * len(PARAMETERS)
    for output in OUTPUTS:
        assert sorted(morris.loc[morris["output"] == output, "parameter"]) == sorted(PARAMETERS)
    indices = morris[["mu_star", "mu_star_conf", "sigma"]].to_numpy()
    assert np.isfinite(indices).all() and (indices >= 0).all()
    assert (morris["seed_sd"] > 0).all()  # the yardstick: spread across seeds at the configured values


def test_sobol_takes_the_top_ranked_morris_parameters(sensitivity_run):
    _, out, _ = sensitivity_run
    morris = pd.read_csv(out / "sensitivity_morris.csv")
    sobol = pd.read_csv(out / "sensitivity_sobol.csv")
    assert {"output", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    top = top_parameters(morris, TOP)
    assert len(sobol) == len(OUTPUTS) * TOP
    for output in OUTPUTS:
        assert sorted(sobol.loc[sobol["output"] == output, "parameter"]) == sorted(top)
    assert np.isfinite(sobol[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    text = (out / "sensitivity.md").read_text()
    for name in PARAMETERS:
        assert f"`{name}`" in text


def test_ranking_normalises_within_each_output():
    # made-up Morris results: outputs on very different scales
    rows = [("orgs_total", "a", 50.0), ("orgs_total", "b", 10.0), ("orgs_total", "c", 1.0), ("orgs_total", "d", 0.0),
            ("volunteering_rate", "a", 0.001), ("volunteering_rate", "b", 0.002),
            ("volunteering_rate", "c", 0.020), ("volunteering_rate", "d", 0.0),
            ("local_multiplier", "a", 0.0), ("local_multiplier", "b", 0.0),
            ("local_multiplier", "c", 0.0), ("local_multiplier", "d", 0.0)]
    morris = pd.DataFrame(rows, columns=["output", "parameter", "mu_star"])
    # a leads orgs and c leads volunteering (both score 1); a's mean is higher, (1 + 0.05) / 3
    # against (0.02 + 1) / 3, so a first; b (0.2, 0.1) next; d has no effect anywhere; an output
    # that never moves (local_multiplier) neither divides by zero nor counts
    assert rank_parameters(morris) == ["a", "c", "b", "d"]
    assert top_parameters(morris, 2) == ["a", "c"]
    assert top_parameters(morris, 10) == ["a", "c", "b", "d"]


def test_ranking_ties_keep_the_table_order():
    morris = pd.DataFrame({"output": ["x"] * 3, "parameter": ["p", "q", "r"], "mu_star": [1.0, 2.0, 2.0]})
    assert top_parameters(morris, 1) == ["q"]
    assert rank_parameters(morris) == ["q", "r", "p"]


def test_ranges_lie_inside_the_allowed_ranges_and_can_be_set():
    assert len(UNCERTAIN) >= 8
    check_bounds()
    base = ModelConfig()
    for u in UNCERTAIN:
        assert u.reason
        for value in (u.lo, u.hi):
            changed = with_values(base, {u.key: value})
            section, _, name = u.key.partition(".")
            assert getattr(getattr(changed, section), name) == pytest.approx(value)
    assert base == ModelConfig()  # the configured values are never changed in place


def test_a_screened_scoring_weight_leaves_the_others_summing_to_one():
    """Morris moves the social-value weight alone; price and quality share the rest in their
    configured proportions, so every sampled configuration passes the checks."""
    from commonsabm.analysis.sensitivity import with_values
    from commonsabm.params.checks import check
    from commonsabm.params.schema import ModelConfig, RunConfig

    model = with_values(ModelConfig(), {"procurement.weight_social_value": 0.5})
    rules = model.procurement
    assert (rules.weight_price, rules.weight_quality, rules.weight_social_value) == pytest.approx((0.3, 0.2, 0.5))
    check(model, RunConfig())  # raises if the weights no longer sum to 1
