"""The calibrated baseline reproduces the UK patterns of 2010-2020 (docs/validation.md §1).

Each target is a mean over ten seeds at the default population (the calibration's own size: at
50,000 the co-operative and community-business counts are a handful per place); the spread over
seeds is reported with every failure, and nothing here is hard-coded but the published
bands themselves (commonsabm.analysis.calibration.TARGETS).
"""

import pandas as pd
import pytest

from commonsabm.analysis.calibration import TARGETS, CalibrationConfig, distance, fit_table, measure, runs
from commonsabm.params.checks import from_keywords


@pytest.fixture(scope="module")
def fit() -> pd.DataFrame:
    settings = CalibrationConfig(population=100_000, seeds=10, end="2020-12", first_seed=1)
    baseline, _ = from_keywords()  # the defaults as the command line composes them, calibration included
    return measure(runs(baseline, settings))


# A known miss, not hidden: the calibrated baseline grows community businesses by about a
# third over 2014-18 against the published +55% (docs/validation.md §1). Strict, so that the
# day a mechanism brings it inside its band this mark fails and must go.
MISSED = {"community_businesses_change_2014_2018": "community businesses grow about +31% 2014-18, "
          "below the band's +40% floor (docs/validation.md §1)"}


@pytest.mark.parametrize("target", [
    pytest.param(t.name, marks=pytest.mark.xfail(strict=True, reason=MISSED[t.name])) if t.name in MISSED
    else t.name for t in TARGETS])
@pytest.mark.slow
def test_calibrated_baseline_lands_inside_each_band(fit, target):
    row = fit.set_index("target").loc[target]
    assert row["low"] <= row["model"] <= row["high"], (
        f"{target}: model {row['model']:+.3f} (sd over seeds {row['seed_sd']:.3f}) outside "
        f"{row['low']:+.3f}..{row['high']:+.3f}\n{fit_table(fit)}")


def test_distance_is_zero_only_inside_every_band():
    inside = pd.DataFrame({"low": [0.0, 1.0], "high": [1.0, 2.0], "model": [0.5, 1.5]})
    outside = inside.assign(model=[1.5, 1.5])
    assert distance(inside) == pytest.approx(0.0)
    # half a band width outside, squared, plus the small pull: one band width from the centre
    assert distance(outside) == pytest.approx(0.25 + 0.01 * 1.0)
    assert distance(inside.assign(model=[0.9, 1.5])) > distance(inside)  # the pull to the centre


def test_the_calibrate_experiment_runs_from_the_command_line(tmp_path):
    """+experiment=calibrate needs Hydra's Optuna sweeper, a declared dependency: two tiny trials
    run and each reports its distance from the bands."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "commonsabm", "+experiment=calibrate", "hydra.sweeper.n_trials=2",
         "calibration.population=1000", "calibration.seeds=1", "calibration.end=2013-12",
         f"hydra.sweep.dir={tmp_path}"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("distance ") == 2, done.stdout[-2000:]
