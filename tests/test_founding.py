"""Founding finance (docs/ODD.md §7.7, §7.12, §7.15): the council's start-up pot is a share
of each year's grant budget, the fund screens founders on a viability assessment whose pass
rate is a parameter, and a founder asks the council before the fund.

Contrasts change ONE lever on the same seeds (common random numbers).
"""

from __future__ import annotations

import numpy as np
from conftest import SEEDS, per_seed, step_through

from commonsabm import CommonsModel
from commonsabm.sim.terms import APRIL, KINDS

SMALL = {"population": 5000, "end": "2014-12"}
# a fund open from the start, so that founders meet it in a short run
FUND = {"investment_fund": "present", "investment_fund_start": "2010-01"}


def founded_with(how: str, kind: str | None = None):
    def count(model, frame) -> float:
        return sum(1 for o in model.organisations
                   if o.founded_with == how and (kind is None or o.kind == kind))
    return count


# ---------------------------------------------------------------- the start-up pot
def test_start_up_pot_is_a_share_of_each_years_grant_budget_never_a_stock():
    """Each April the pot is set afresh to twelve months' share of the grant channel (the
    first month: the months left to April), whatever the last year left; between settings
    it only falls. The old pot only accumulated."""
    # a cold start, so that the first month the check sees is the first the model simulates
    model = CommonsModel(rng=3, population=2000, start="2010-01", end="2014-12", run_spin_up=0)
    council = model.council
    keep = model.config.council.startup_pot_share
    channels, settings = [], []
    award = council.award_grants
    council.award_grants = lambda pot: (channels.append(pot), award(pot))[1]

    def check(m):
        month = m.month - 1  # the month just simulated
        granted = sum(o.kind_config.startup_capital for o in m.organisations
                      if o.born == month and o.founded_with == "council start-up grant")
        if month == m.start_month or month % 12 == APRIL:
            settings.append(keep * channels[-1] * (12 if month % 12 == APRIL else 3))
            np.testing.assert_allclose(council.startup_pot + granted, settings[-1], rtol=1e-9)
        assert council.startup_pot <= settings[-1] + 1e-9

    step_through(model, check)
    assert len(settings) == 6 and all(s > 0 for s in settings)


def test_the_start_up_pot_funds_voluntary_groups():
    """One lever: with no pot, no group is founded on a council start-up grant and fewer vcs are founded."""
    with_pot = per_seed(founded_with("council start-up grant"), **SMALL)
    without = per_seed(founded_with("council start-up grant"), council_startup_pot_share=0.0, **SMALL)
    assert (without == 0).all() and with_pot.sum() > 0
    births_with = per_seed(lambda m, f: f["births_vcs"].sum(), **SMALL)
    births_without = per_seed(lambda m, f: f["births_vcs"].sum(), council_startup_pot_share=0.0, **SMALL)
    assert births_with.mean() > births_without.mean()


# ---------------------------------------------------------------- the fund's screening
def opened_fund(**keywords) -> CommonsModel:
    model = CommonsModel(rng=1, population=1000, start="2010-01", end="2010-12",
                         investment_fund="present", investment_fund_start="2010-01",
                         investment_fund_capital=10_000.0, **keywords)
    model.fund.open()
    return model


def pass_shares(model: CommonsModel, draws: int = 4000) -> dict[str, float]:
    return {kind: float(np.mean([model.fund.finances_founding(kind) for _ in range(draws)])) for kind in KINDS}


def test_the_fund_passes_founders_at_its_pass_rate_when_viability_alone_counts():
    """With the whole say on the private side, each kind passes at the configured rate
    (binomial tolerance: 4000 draws, five standard errors)."""
    for rate in (0.1, 0.3, 0.8):
        shares = pass_shares(opened_fund(investment_fund_pass_rate=rate, investment_fund_public_weight=0.0,
                                         investment_fund_private_weight=1.0, investment_fund_commons_weight=0.0))
        for kind, share in shares.items():
            assert abs(share - rate) < 5 * np.sqrt(rate * (1 - rate) / 4000), (rate, kind, share)


def test_the_fund_screens_founders_and_the_public_side_favours_social_value():
    """Not every founder passes; with the default governance, kinds of higher social value
    pass more often, and a board with more public say passes more voluntary groups."""
    default = pass_shares(opened_fund())
    assert 0 < default["coop"] < default["community_business"] < default["vcs"] < 1
    public = pass_shares(opened_fund(investment_fund_public_weight=0.6, investment_fund_private_weight=0.2,
                                     investment_fund_commons_weight=0.2))
    assert public["vcs"] > default["vcs"] and public["coop"] < default["coop"]


def test_a_higher_pass_rate_means_more_founders_financed_by_the_fund():
    # founders who cannot raise a co-op's capital locally, enough of them, and a fund not yet lent
    # out to running organisations (at 20 GBP a resident it is, within a few years), so that
    # founders reach its assessment
    needy = {"commons_coop_startup_capital": 30_000.0, "behaviour_founding_rate": 0.003,
             "investment_fund_capital": 200.0}
    low = per_seed(founded_with("social investment fund"), investment_fund_pass_rate=0.1, **needy, **FUND, **SMALL)
    high = per_seed(founded_with("social investment fund"), investment_fund_pass_rate=0.9, **needy, **FUND, **SMALL)
    assert high.mean() > low.mean()
    assert (high >= low).sum() > len(SEEDS) / 2


# ---------------------------------------------------------------- the order of founding finance
def test_founders_ask_the_council_before_the_fund_and_keep_their_kind():
    """A founder of a kind the council grants to borrows from the fund only when this year's
    start-up pot (or the council's cash) cannot pay; fund-founded groups keep their kind."""
    # a fund rich enough that the organisations already running do not take all its cash first
    model = CommonsModel(rng=1, population=5000, start="2010-01", end="2016-12",
                         investment_fund_pass_rate=1.0, investment_fund_capital=1000.0,
                         # a voluntary group's own start-up capital (GBP 1,000) is so small that
                         # this year's pot nearly always pays it; at GBP 5,000, with founders
                         # keener, the pot runs dry within the year and voluntary founders meet
                         # the fund too
                         commons_vcs_startup_capital=5000.0, behaviour_founding_rate=0.005, **FUND)

    def check(m):
        new = [o for o in m.organisations if o.born == m.month - 1 and o.founded_with == "social investment fund"]
        for org in new:
            if m.council.grants_to(org.kind):
                startup = org.kind_config.startup_capital
                assert m.council.startup_pot < startup or m.council.cash < startup

    step_through(model, check)
    kinds = {o.kind for o in model.organisations if o.founded_with == "social investment fund"}
    assert "vcs" in kinds  # the fund no longer turns every founder into a trader
    granted = {o.kind for o in model.organisations if o.founded_with == "council start-up grant"}
    assert granted and "coop" not in granted
