"""Each kind's founding economics and route to closure (docs/ODD.md §7.7, §7.9).

Contrasts change ONE lever on the same seeds (common random numbers). Founding is raised
(and half of founders choose a trading kind) so that a small, short run founds enough of
each kind to compare.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, per_seed

from commonsabm import CommonsModel
from commonsabm.sim.founding import OWN_MONEY
from commonsabm.sim.terms import CAUSES, KINDS, TRADING

# a cold start (no spin-up): the contrasts compare founding from the same 2010 place, not
# from two places that two years of unreported months have already set apart
RUN = {"population": 3000, "end": "2013-12", "behaviour_founding_rate": 0.01, "place_trading_founder_share": 0.5,
       "run_spin_up": 0}


def total(column: str):
    return lambda model, frame: float(frame[column].sum()) * model.citizens.n / 100_000


def test_raising_one_kinds_start_up_capital_cuts_that_kinds_births_only():
    """Co-ops need ten times the capital: fewer co-ops are founded, and voluntary groups'
    births stay within seed noise (a founder who cannot raise a co-op's capital founds nothing)."""
    dear = {"commons_coop_startup_capital": 60_000.0}
    coops, coops_dear = per_seed(total("births_coop"), **RUN), per_seed(total("births_coop"), **dear, **RUN)
    assert coops.sum() >= 10  # not vacuous
    assert coops_dear.sum() < 0.5 * coops.sum()
    vcs, vcs_dear = per_seed(total("births_vcs"), **RUN), per_seed(total("births_vcs"), **dear, **RUN)
    assert abs(vcs_dear.sum() - vcs.sum()) < 0.2 * vcs.sum()


def test_co_ops_and_community_businesses_are_founded_on_local_share_capital():
    """Founders of trading kinds pool backers' savings; voluntary groups' founders do not."""
    def how(model, frame):
        return {(o.kind, o.founded_with) for o in model.organisations}
    seen = set().union(*(how(*m) for m in (_simulated(seed) for seed in SEEDS[:3])))
    assert ("coop", OWN_MONEY[1]) in seen
    assert ("vcs", OWN_MONEY[1]) not in seen


def _simulated(seed: int):
    from conftest import simulate
    return simulate(rng=seed, **RUN)


def test_founders_own_money_is_each_kinds_start_up_capital_and_not_revenue():
    """Each month, the founders' capital booked (savings and backers' shares) is the sum of
    the start-up capital of the kinds founded on it, and none of it counts as revenue."""
    model = CommonsModel(rng=2, **RUN)
    founded = 0
    while model.running:
        count = len(model.organisations)
        model.step()
        new = [o for o in model.organisations[count:] if o.founded_with in OWN_MONEY]
        expected = sum(o.kind_config.startup_capital for o in new)
        assert model.ledger.channels.get("founding_capital", 0.0) == pytest.approx(expected)
        for org in new:
            assert org.received - sum(org.revenue.values()) == pytest.approx(org.kind_config.startup_capital)
        founded += len(new)
    assert founded > 0


def test_a_voluntary_group_that_loses_its_volunteers_closes_for_that_reason():
    """Volunteers drain away (nobody joins, many quit): voluntary groups fold for want of
    volunteers, which they never do in the baseline; trading kinds never close on that route."""
    drained = {"behaviour_join_rate": 0.0, "behaviour_quit_rate": 3.0}
    base = per_seed(total("deaths_vcs_volunteers"), **RUN)
    gone = per_seed(total("deaths_vcs_volunteers"), **drained, **RUN)
    assert (gone > base).all()
    for kind in TRADING:
        assert per_seed(total(f"deaths_{kind}_volunteers"), **drained, **RUN).sum() == 0


def test_trading_kinds_close_on_cash_after_their_own_bearable_run():
    """A co-op or community business past its kind's months unpaid closes on cash; a
    voluntary group as long unpaid does not yet (it bears longer)."""
    model = CommonsModel(rng=1, population=2000, end="2010-12")
    commons = model.config.commons
    for kind in KINDS:
        org = model.register(kind, 0)
        org.volunteers = 100
        org.months_unpaid = commons.community_business.cash_months_bearable + 1
        assert org.fails() == ("cash" if kind == "community_business" else None)
        org.months_unpaid = getattr(commons, kind).cash_months_bearable + 1
        assert org.fails() == "cash"


def test_a_longer_bearable_run_cuts_that_kinds_cash_closures():
    """One lever: co-ops bear two years unpaid instead of six months; co-op cash closures fall."""
    # with the spin-up: from a cold start few co-ops run out of cash by 2013
    warm = {**RUN, "run_spin_up": 24}
    default = per_seed(total("deaths_coop_cash"), **warm)
    patient = per_seed(total("deaths_coop_cash"), commons_coop_cash_months_bearable=24, **warm)
    assert default.sum() >= 4  # not vacuous
    assert patient.sum() < default.sum()


def test_founders_weigh_prospects_voluntary_groups_founded_less_as_grants_are_cut():
    """Under the baseline's grant cuts, voluntary groups' income per pound of their costs
    falls; founders who weigh it found fewer of them than founders who ignore prospects."""
    weighed = per_seed(total("births_vcs"), **RUN)
    ignored = per_seed(total("births_vcs"), behaviour_prospects_response=0.0, **RUN)
    assert ignored.sum() > weighed.sum()
    assert (ignored >= weighed).sum() > len(SEEDS) / 2


def test_closures_by_kind_and_cause_add_up():
    model, frame = _simulated(1)
    for kind in KINDS:
        parts = frame[[f"deaths_{kind}_{cause}" for cause in CAUSES]].sum(axis=1)
        np.testing.assert_allclose(parts, frame[f"deaths_{kind}"])
    for cause in CAUSES:
        parts = frame[[f"deaths_{kind}_{cause}" for kind in KINDS]].sum(axis=1)
        np.testing.assert_allclose(parts, frame[f"deaths_{cause}"])
    assert frame[[f"deaths_{k}" for k in KINDS]].to_numpy().sum() > 0
