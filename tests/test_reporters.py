"""The monthly metrics agree with each other and with the model's state (docs/ODD.md §10.1)."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from conftest import SMALL, simulate

from commonsabm import CommonsModel
from commonsabm.sim.reporters import REPORTERS
from commonsabm.sim.terms import CAUSES, KINDS, STATUSES, UNEMPLOYED

RUNS = [{}, {"procurement": "reformed", "behaviour_founding_rate": 0.005},
        # 10,000 residents: in a smaller deprived place under deep cuts no organisation may be
        # founded or close by 2016, and the check would be vacuous
        {"austerity": "deep", "place": "deprived_northern", "end": "2016-12", "population": 10_000}]


@pytest.fixture(params=RUNS, ids=["default", "reformed_founding", "deep_north"])
def run(request):
    return simulate(rng=2, **request.param)


@pytest.fixture(params=RUNS, ids=["default", "reformed_founding", "deep_north"])
def run_and_start(request):
    """A finished run, and the same model freshly built (the organisations it started with)."""
    model, frame = simulate(rng=2, **request.param)
    fresh = CommonsModel(rng=2, **{**SMALL, **request.param})
    return model, frame, fresh


def test_one_row_per_month_with_every_reporter(run):
    model, frame = run
    assert len(frame) == model.end_month - model.start_month + 1
    assert list(frame.columns) == list(REPORTERS)
    assert frame["date"].is_unique and frame["date"].iloc[0] == model.run_config.start
    assert frame["date"].iloc[-1] == model.run_config.end


def test_organisation_counts_are_stock_and_flow_consistent(run):
    _, frame = run
    kinds = frame[[f"orgs_{k}" for k in KINDS]].sum(axis=1)
    np.testing.assert_allclose(frame["orgs_total"], kinds)
    births = frame[[f"births_{k}" for k in KINDS]].sum(axis=1)
    deaths = frame[[f"deaths_{k}" for k in KINDS]].sum(axis=1)
    np.testing.assert_allclose(deaths, frame[[f"deaths_{c}" for c in CAUSES]].sum(axis=1))
    # each month's count is last month's plus births minus deaths, type by type
    for kind in KINDS:
        change = frame[f"orgs_{kind}"].diff().iloc[1:]
        flows = (frame[f"births_{kind}"] - frame[f"deaths_{kind}"]).iloc[1:]
        np.testing.assert_allclose(change, flows, atol=1e-9, err_msg=kind)
    assert births.sum() + deaths.sum() > 0  # the check was not vacuous


def test_counts_match_the_register_at_the_end(run_and_start):
    model, frame, fresh = run_and_start
    per_100k = 100_000 / model.citizens.n
    last = frame.iloc[-1]
    for kind in KINDS:
        alive = sum(1 for o in model.organisations if o.kind == kind and o.alive)
        assert last[f"orgs_{kind}"] == pytest.approx(alive * per_100k)
        ever = sum(1 for o in model.organisations if o.kind == kind)
        initial = sum(1 for o in fresh.organisations if o.kind == kind)
        assert frame[f"births_{kind}"].sum() == pytest.approx((ever - initial) * per_100k)


def test_organisations_of_2010_were_founded_before_the_run():
    for seed in (1, 2, 3):
        model = CommonsModel(population=20000, rng=seed, place_vcs_per_100k=5000)
        assert len(model.organisations) > 900
        assert all(o.born < model.start_month for o in model.organisations)


def test_commons_share_is_the_sum_of_its_parts(run):
    _, frame = run
    parts = frame[["commons_share_contracts", "commons_share_subcontracts", "commons_share_grants",
                   "commons_share_trading"]].sum(axis=1)
    np.testing.assert_allclose(frame["commons_share_total"], parts, rtol=1e-9, atol=1e-12)


def test_volunteers_are_members(run):
    _, frame = run
    assert (frame["volunteering_rate"] * 100_000 <= frame["members"] + 1e-6).all()
    assert ((frame["volunteer_hours"] > 0) == (frame["volunteering_rate"] > 0)).all()


def test_sanctions_count_and_rate_agree():
    # no UBI: every claimant is conditional; and none sanctioned in work, so every sanction is a jobseeker's
    model, frame = simulate(rng=2, sanctions_monthly_rate=0.05, sanctions_in_work_rate=0.0)
    sanctions = frame["sanctions"] * model.citizens.n / 100_000
    claimants = frame["claimant_rate"] * model.citizens.n
    np.testing.assert_allclose(sanctions, frame["sanction_rate"] * claimants, atol=1e-6)


@pytest.mark.parametrize("population", [3000, 20000])
def test_counts_are_per_100k_residents(population):
    """Runs of different sizes compare: the commons are built at the place's densities per 100,000
    (as built, before any spin-up moves them)."""
    model = CommonsModel(population=population, end="2010-12", rng=1, run_spin_up=0)
    place = model.config.place
    density = {"coop": place.coops_per_100k, "community_business": place.community_businesses_per_100k,
               "vcs": place.vcs_per_100k}
    one = 100_000 / population  # one organisation, per 100,000
    for kind in KINDS:
        assert abs(getattr(model, f"orgs_{kind}") - density[kind]) <= one, kind


def test_unmet_need_rises_with_deeper_cuts():
    kw = {"population": 3000, "end": "2016-12", "austerity_years": [2010, 2014]}
    full = np.mean([simulate(rng=s, austerity_grant_index=[1.0, 1.0], **kw)[1]["unmet_need"].iloc[-12:].mean()
                    for s in (1, 2)])
    cut = np.mean([simulate(rng=s, austerity_grant_index=[1.0, 0.3], **kw)[1]["unmet_need"].iloc[-12:].mean()
                   for s in (1, 2)])
    assert cut > full


def test_volunteering_by_employment_status_adds_up_to_the_whole():
    model = CommonsModel(population=3000, end="2011-06", rng=4)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    statuses = ("full_time", "part_time", "unemployed", "inactive", "retired")
    shares = np.bincount(model.citizens.status, minlength=5) / model.citizens.n
    last = frame.iloc[-1]
    weighted = sum(shares[i] * last[f"volunteering_rate_{s}"] for i, s in enumerate(statuses))
    assert weighted == pytest.approx(last["volunteering_rate"], rel=1e-9)
    assert 0 < last["volunteering_rate_retired"] < 1


# ---------------------------------------------------------------- reporting only what is asked
ASKED = ["date", "employment_rate", "claimant_rate", "volunteering_rate", "volunteering_rate_retired",
         "free_hours_unemployed", "members", "orgs_total", "commons_share_total", "poverty_rate"]


def counted_gini(monkeypatch) -> list[int]:
    """Count the calls of the Gini computation the income_gini reporter makes."""
    from commonsabm.sim import reporters

    calls, real = [], reporters.gini
    monkeypatch.setattr(reporters, "gini", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def run_collecting(columns: list[str] | None) -> dict[str, list]:
    model = CommonsModel(population=2000, end="2010-12", rng=5)
    if columns is not None:  # a user or an explorer asking for fewer columns
        model.datacollector = mesa.DataCollector(model_reporters={name: name for name in columns})
    model.run()
    return model.datacollector.model_vars


def test_a_column_not_asked_for_is_not_computed_and_the_rest_are_as_in_a_full_run(monkeypatch):
    calls = counted_gini(monkeypatch)
    subset = run_collecting(ASKED)
    assert not calls, "the Gini was computed though no reporter asked for income_gini"
    assert list(subset) == ASKED
    full = run_collecting(None)
    assert len(calls) == len(full["income_gini"]) == 12  # collecting every column does compute it
    for name in ASKED:  # the same numbers, to the last bit, however few columns are collected
        np.testing.assert_array_equal(subset[name], full[name], err_msg=name)


def test_status_and_volunteering_rates_are_each_ones_own_mean():
    """The rates read one integer count by status and activity; each is its own formula's mean."""
    model = CommonsModel(population=3000, end="2011-06", rng=3)
    for _ in range(4):
        model.step()
    citizens = model.citizens
    assert model.employment_rate == float(citizens.employed.mean())
    assert model.claimant_rate == float((citizens.status == UNEMPLOYED).mean())
    assert model.volunteering_rate == float(citizens.active.mean())
    for code, status in enumerate(STATUSES):
        who = citizens.status == code
        assert getattr(model, f"volunteering_rate_{status}") == float(citizens.active[who].mean())
        totals = np.bincount(citizens.status, weights=citizens.free_hours, minlength=len(STATUSES))
        assert getattr(model, f"free_hours_{status}") == totals[code] / who.sum()
