"""The warm start (issue 15, point 7; docs/ODD.md §5): ``run.spin_up`` months are simulated
before ``run.start`` and not reported, so that the first reported month opens in the
model's own steady state rather than in the cold start the place is built in."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from scipy import stats

from commonsabm import CommonsModel
from commonsabm.params.months import month_index
from commonsabm.runs.outputs import organisations
from conftest import commonsabm

SEEDS = range(1, 11)
# 2009 policy held through 2010: no cut to the central grant, and automation (dated from
# 2010-01 in the baseline) moved past the months compared; every other dated lever is
# already at its 2010 setting in the baseline
HELD = {"population": 10_000, "end": "2010-06", "austerity": "none", "automation_start": "2011-01"}
MEASURES = ("volunteering_rate", "orgs_total", "claimant_rate")


def six_month_changes(spin_up: int) -> dict[str, np.ndarray]:
    """Each seed's change from the first to the sixth reported month, per measure."""
    changes = {m: [] for m in MEASURES}
    for seed in SEEDS:
        model = CommonsModel(rng=seed, run_spin_up=spin_up, **HELD)
        model.run()
        frame = model.datacollector.get_model_vars_dataframe()
        assert list(frame["date"][[0, 5]]) == ["2010-01", "2010-06"]
        for m in MEASURES:
            changes[m].append(frame[m].iloc[5] - frame[m].iloc[0])
    return {m: np.array(v) for m, v in changes.items()}


def within_seed_noise(change: np.ndarray) -> bool:
    """Whether the mean change's 95% interval over the seeds (t, 9 degrees of freedom) holds 0."""
    half = stats.t.ppf(0.975, len(change) - 1) * change.std(ddof=1) / np.sqrt(len(change))
    return abs(change.mean()) <= half


@pytest.fixture(scope="module")
def warm() -> dict[str, np.ndarray]:
    return six_month_changes(CommonsModel(population=2000, end="2010-01").run_config.spin_up)


@pytest.mark.parametrize("measure", MEASURES)
def test_the_default_warm_start_opens_in_steady_state(warm, measure):
    """Acceptance: over 10 seeds, with 2009 policy held through 2010, monthly volunteering,
    organisation counts and the claimant rate change by no more than seed noise over the
    first six reported months."""
    assert within_seed_noise(warm[measure]), (measure, warm[measure].mean(), warm[measure].std(ddof=1))


def test_two_years_of_spin_up_leave_organisation_counts_rising():
    """Why the default is 36 months (docs/ODD.md §5): after 24, voluntary groups founded in
    the cold start's first months are still filling the place, and organisation counts rise
    over the first six reported months by more than seed noise."""
    shorter = six_month_changes(24)["orgs_total"]
    assert not within_seed_noise(shorter) and shorter.mean() > 0, (shorter.mean(), shorter.std(ddof=1))


def test_a_cold_start_drifts_where_the_warm_one_does_not(warm):
    """The same test fails without a spin-up: the cold start sheds volunteers and claimants
    in its first months whatever the policy."""
    cold = six_month_changes(0)
    assert not within_seed_noise(cold["volunteering_rate"]) and cold["volunteering_rate"].mean() < 0
    assert not within_seed_noise(cold["claimant_rate"]) and cold["claimant_rate"].mean() < 0
    assert abs(cold["volunteering_rate"].mean()) > 3 * abs(warm["volunteering_rate"].mean())


def test_spin_up_months_are_simulated_but_not_reported():
    model = CommonsModel(population=20_000, end="2010-03", run_spin_up=24, rng=3)
    start = month_index("2010-01")
    assert (model.first_month, model.month, model.start_month, model.steps) == (start - 24, start, start, 0)
    spun = [o for o in model.organisations if model.first_month <= o.born < start]
    assert spun, "no organisation was founded in the 24 months simulated"
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame["date"]) == ["2010-01", "2010-02", "2010-03"]
    table = organisations(model)
    assert not table["founded_in_run"][table["id"].isin([o.unique_id for o in spun])].any()
    died_before = [o.unique_id for o in model.organisations if o.died is not None and o.died < start]
    assert died_before, "no organisation closed in the 24 months simulated"
    assert not table["id"].isin(died_before).any()
    assert model.ledger.max_relative_error < 1e-9


def test_the_spin_up_runs_under_2010s_settings():
    """Care need starts growing at run.start, not at the spin-up's start; the year's start-up
    pot is opened in the first simulated month; automation, dated 2010-01, is off before it."""
    model = CommonsModel(population=2000, end="2010-01", run_spin_up=5, rng=1)
    assert model.council.care_need == pytest.approx(model.council.care0)
    assert model.national.automation_hazard(model.first_month) == 0.0
    assert model.council.volunteer_value0 is None  # 2010's need is measured in 2010


@pytest.mark.parametrize("lever", [{"sanctions": "ended"}, {"sanctions": "punitive", "sanctions_monthly_rate": 0.2},
                                   {"conditionality": "supportive"}])
def test_levers_without_a_date_take_effect_when_the_reported_run_starts(lever):
    """The spin-up runs under 2010's sanctions and conditionality whatever the experiment, so
    every cell of an experiment opens in the same state for a seed (common random numbers);
    from the first reported month the lever is in force and moves what it moves."""
    runs = {}
    for name, keywords in (("default", {}), ("lever", lever)):
        model = CommonsModel(population=3000, end="2011-12", run_spin_up=12, rng=4, **keywords)
        opened = (model.citizens.cash.copy(), model.citizens.org.copy(), len(model.organisations))
        model.run()
        runs[name] = opened, model.citizens.free_hours.copy()
    (cash0, org0, n0), free0 = runs["default"]
    (cash1, org1, n1), free1 = runs["lever"]
    np.testing.assert_array_equal(cash0, cash1)
    np.testing.assert_array_equal(org0, org1)
    assert n0 == n1
    assert not np.array_equal(free0, free1)


def test_no_spin_up_is_the_cold_start():
    cold = CommonsModel(population=2000, end="2010-02", run_spin_up=0, rng=2)
    assert cold.month == cold.first_month == cold.start_month
    assert all(o.born < cold.start_month for o in cold.organisations)
    cold.run()
    warm = CommonsModel(population=2000, end="2010-02", run_spin_up=6, rng=2)
    warm.run()
    first = [m.datacollector.get_model_vars_dataframe().iloc[0] for m in (cold, warm)]
    assert first[0]["date"] == first[1]["date"] == "2010-01"
    assert first[0]["members"] != first[1]["members"]


def test_batch_run_reads_the_reported_months():
    results = mesa.batch_run(CommonsModel, {"population": 2000, "end": "2010-03", "run_spin_up": 4},
                             rng=[1], max_steps=100, data_collection_period=1, number_processes=1,
                             display_progress=False)
    assert [r["date"] for r in results] == ["2010-01", "2010-02", "2010-03"]


@pytest.mark.parametrize("value", ["-1", "241", "1.5"])
def test_a_bad_spin_up_is_rejected_with_one_line(value, tmp_path):
    out = tmp_path / "out"
    result = commonsabm([f"run.spin_up={value}", "run.population=500", "run.end=2010-02",
                         f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "run.spin_up" in lines[0] and "allowed" in lines[0], result.stderr
    assert not out.exists()
