"""Organisations' numeric state lives in the register's arrays (sim/register.py); each agent is a
view over its row, and the month's books are kept over many rows at once (sim/bookkeeping.py)
with the ledger's batch payments. Batching must compute what one organisation, one payment,
at a time computes, to the last bit."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from commonsabm import CommonsModel
from commonsabm.sim import bookkeeping
from commonsabm.sim.ledger import Ledger
from commonsabm.sim.register import FLOATS, HISTORY_MONTHS, INTS, Register
from commonsabm.sim.terms import SECTORS

SMALL = {"population": 2000, "start": "2010-01", "end": "2011-06"}


class Holder:
    def __init__(self, sector: str, cash: float):
        self.sector, self.cash = sector, cash


def ledger_with(holders: dict[str, list[Holder]]) -> Ledger:
    return Ledger({s: (lambda hs=holders.get(s, []): sum(h.cash for h in hs)) for s in SECTORS})


def test_batch_payments_book_what_single_payments_book_bit_for_bit():
    """Many organisations paying local firms, outside suppliers, wages and loans in turn: the
    batch leaves every balance, flow, channel and wage pool as one payment at a time does,
    including payers who run out of cash part way through their bills."""
    rng = np.random.default_rng(3)
    cash = rng.uniform(-50, 3000, 40)
    bills = rng.uniform(0, 1500, (40, 4)) * (rng.random((40, 4)) < 0.8)
    results = []
    for batch in (True, False):
        firms, outside, fund = Holder("local_private", 10.0), Holder("outside", 0.0), Holder("fund", 5.0)
        payers = [Holder("commons", c) for c in cash]
        ledger = ledger_with({"local_private": [firms], "outside": [outside], "fund": [fund], "commons": payers})
        if batch:
            column = cash.copy()
            ledger.pay_rows(column, np.arange(40), "commons", bills, (firms, outside, None, fund),
                            ("supplies", "supplies", "wages", "loan_repayments"))
            left = column.tolist()
        else:
            for payer, row in zip(payers, bills.tolist()):
                ledger.pay(payer, firms, row[0], "supplies")
                ledger.pay(payer, outside, row[1], "supplies")
                ledger.pay_wages(payer, row[2])
                ledger.pay(payer, fund, row[3], "loan_repayments")
            left = [p.cash for p in payers]
        results.append((left, firms.cash, outside.cash, fund.cash, ledger.flows.tolist(),
                        dict(ledger.channels), ledger.take_wage_pools()))
    assert results[0] == results[1]
    assert min(results[0][0]) < 0 < max(results[0][0])  # some started in debt and paid nothing


@pytest.mark.parametrize("council_cash", [1e9, 2500.0])
def test_one_payer_to_many_books_what_single_payments_book(council_cash):
    """The council's grants to many groups: the same as paying each in turn, whether or not
    its cash runs out part way."""
    rng = np.random.default_rng(5)
    shares, start = rng.uniform(0, 400, 25), rng.uniform(0, 100, 25)
    results = []
    for batch in (True, False):
        council = Holder("council", council_cash)
        groups = [Holder("commons", c) for c in start.tolist()]
        ledger = ledger_with({"council": [council], "commons": groups})
        if batch:
            cash = start.copy()
            paid = ledger.pay_out(council, cash, np.arange(25), "commons", shares, "grants").tolist()
            after = cash.tolist()
        else:
            paid = [ledger.pay(council, g, s, "grants") for g, s in zip(groups, shares.tolist())]
            after = [g.cash for g in groups]
        results.append((paid, after, council.cash, ledger.flows.tolist(), dict(ledger.channels)))
    assert results[0][:5] == results[1][:5]
    if council_cash < shares.sum():
        assert results[0][0][-1] == 0.0  # the last groups got nothing


def test_an_organisation_is_a_view_over_its_row():
    model = CommonsModel(**SMALL)
    org = model.live_organisations[3]
    org.cash = 123.5
    org.months_unpaid = 2
    org.revenue["grants"] += 7.0
    assert model.orgs.cash[org.index] == 123.5 and model.orgs.months_unpaid[org.index] == 2
    assert model.orgs.revenue[org.index, 2] == org.revenue["grants"]
    assert isinstance(org.cash, float) and isinstance(org.months_unpaid, int)
    assert set(FLOATS + INTS) <= set(vars(Register()))
    # Mesa still sees agents: agent sets select them by their columns' values
    commons = model.agents.select(lambda a: getattr(a, "sector", None) == "commons" and a.alive)
    assert len(commons) == len(model.live_organisations)
    assert isinstance(commons, mesa.agent.AgentSet)


def test_the_accounts_keep_the_last_twelve_months_oldest_first():
    model = CommonsModel(**SMALL)
    org = next(o for o in model.live_organisations if o.born < model.start_month - 24)
    for _ in range(3):
        model.step()
    history = org.history
    assert len(history) == HISTORY_MONTHS  # the spin-up's 24 months filled the year
    # the newest month is last: it is this month's costs
    assert history[-1][1] >= org.costs - 1e-6


# dense enough in organisations that a closure handing contracts back falls mid-run
# (seed 3: at the 36-month warm start it is one where both arms below close an organisation
# holding a tendered contract, the fund lends, and burnout closes one)
CUT = {"population": 2000, "start": "2010-01", "end": "2011-12", "rng": 3, "procurement": "reformed",
       "behaviour_burnout_closure": 0.08, "place_vcs_per_100k": 2000, "place_coops_per_100k": 300,
       "place_community_businesses_per_100k": 300}


@pytest.mark.parametrize("config", [
    CUT,  # closures hand tendered contracts back, to be re-let at once
    {**CUT, "investment_fund": "present", "investment_fund_start": "2010-01"},  # and the fund lends
])
def test_books_kept_in_runs_are_the_books_kept_one_organisation_at_a_time(monkeypatch, config):
    """The batched month-end equals doing each organisation alone, in order, with the fund
    lending, contracts handed back at closures and re-let, and burnout draws taken between."""
    handed_back = []
    close = CommonsModel.close

    def closing(model, org, cause):
        handed_back.extend(c.route == "tender" for c in org.contracts)
        close(model, org, cause)

    monkeypatch.setattr(CommonsModel, "close", closing)
    batched = CommonsModel(**config)
    batched.run()
    assert any(handed_back), "no closure handed contracts back to be re-let"
    if "investment_fund" in config:
        assert batched.fund.loans_made > 0, "the fund lent nothing"
    assert any(o.cause == "burnout" for o in batched.organisations), "no burnout draw closed one"
    alone = bookkeeping.with_the_fund
    monkeypatch.setattr(bookkeeping, "with_the_fund",
                        lambda model, orgs, rows: np.ones(len(rows), dtype=bool) | alone(model, orgs, rows))
    single = CommonsModel(**config)
    single.run()
    assert batched.orgs.size == single.orgs.size
    for name in FLOATS + INTS + ("revenue_total", "history"):
        a, b = getattr(batched.orgs, name), getattr(single.orgs, name)
        assert np.array_equal(a[:batched.orgs.size], b[:single.orgs.size]), name
    assert batched.rng.random() == single.rng.random()
    frames = [m.datacollector.get_model_vars_dataframe() for m in (batched, single)]
    assert frames[0].equals(frames[1])
