"""The calibrated baseline reproduces the UK patterns of 2010-2020 (docs/validation.md §1).

Each target is a mean over ten seeds at the default population (the calibration's own size: at
50,000 the co-operative and community-business counts are a handful per place); the spread over
seeds is reported with every failure, and nothing here is hard-coded but the published
bands themselves (commonsabm.analysis.calibration.TARGETS).
"""

from importlib.resources import files

import pandas as pd
import pytest

from commonsabm.analysis.calibration import (TARGETS, CalibrationConfig, distance, fit_table, five_year_survival,
                                             measure, runs)
from commonsabm.params.checks import from_keywords


def uk_figure(series: str) -> float:
    table = pd.read_csv(files("commonsabm") / "data" / "uk_figures.csv")
    return float(table.loc[table["series"] == series, "value"].iloc[0])


SURVIVAL = {"founded": 0, "open_after_5y": 0}  # new co-ops over the same runs (checked, not fitted)


def count_survival(model) -> None:
    founded, survived = five_year_survival(model, "coop")
    SURVIVAL["founded"] += founded
    SURVIVAL["open_after_5y"] += survived


@pytest.fixture(scope="module")
def fit() -> pd.DataFrame:
    settings = CalibrationConfig(population=100_000, seeds=10, end="2020-12", first_seed=1)
    baseline, _ = from_keywords()  # the defaults as the command line composes them, calibration included
    return measure(runs(baseline, settings, each=count_survival))


# Known misses, not hidden: a target the calibrated baseline misses is listed here with why
# (docs/validation.md §1). Strict, so that the day a mechanism brings it inside its band
# the mark fails and must go. None today.
MISSED: dict[str, str] = {}


@pytest.mark.parametrize("target", [
    pytest.param(t.name, marks=pytest.mark.xfail(strict=True, reason=MISSED[t.name])) if t.name in MISSED
    else t.name for t in TARGETS])
@pytest.mark.slow
def test_calibrated_baseline_lands_inside_each_band(fit, target):
    row = fit.set_index("target").loc[target]
    assert row["low"] <= row["model"] <= row["high"], (
        f"{target}: model {row['model']:+.3f} (sd over seeds {row['seed_sd']:.3f}) outside "
        f"{row['low']:+.3f}..{row['high']:+.3f}\n{fit_table(fit)}")


# A known miss of a pattern checked, not fitted (docs/validation.md §3): at the calibrated
# co-op start-up capital, co-ops are founded about five times as often as published and
# most die in their first years; better-capitalised co-ops survive as published but then
# grow past both co-op bands. Strict, so that a fix that brings survival in must drop it.
@pytest.mark.xfail(strict=True, reason="new co-ops' five-year survival is about 10%, not 80% (docs/validation.md §3)")
@pytest.mark.slow
def test_new_coops_survive_five_years_about_as_often_as_published(fit):
    """A pattern checked, not fitted (docs/validation.md §3): of the co-ops founded in
    2010-2015, the share still open five years on is within 15 points of Co-operatives UK's
    80% (``coop_survival_5y``), and well above businesses overall (``business_survival_5y``,
    41%), since new traders build their custom over their first year (docs/ODD.md §7.8)."""
    founded, survived = SURVIVAL["founded"], SURVIVAL["open_after_5y"]
    assert founded >= 20, f"too few co-ops founded to judge survival ({founded})"
    share = survived / founded
    published = uk_figure("coop_survival_5y") / 100
    assert abs(share - published) <= 0.15, f"{survived} of {founded} new co-ops open after five years ({share:.0%})"
    assert share > uk_figure("business_survival_5y") / 100


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


def test_calibration_runs_the_configured_spin_up():
    """The warm start is part of the model the bands are fitted to: a calibration run honours
    ``run.spin_up`` (it once rebuilt the run's settings and silently used the default)."""
    from commonsabm import CommonsModel

    baseline, _ = from_keywords()
    tiny = CalibrationConfig(population=500, seeds=1, end="2010-03", first_seed=5)
    for spin_up in (0, 4):
        frame = runs(baseline, tiny, spin_up=spin_up)[0]
        direct = CommonsModel(population=500, end="2010-03", run_spin_up=spin_up, rng=5)
        direct.run()
        pd.testing.assert_frame_equal(frame, direct.datacollector.get_model_vars_dataframe())
    assert not runs(baseline, tiny, spin_up=0)[0].equals(runs(baseline, tiny, spin_up=4)[0])
