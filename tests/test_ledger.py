"""Money is conserved: every pound moves through one ledger, and stocks match flows (docs/ODD.md §7.17)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from conftest import step_through

from commonsabm import CommonsModel
from commonsabm.sim.ledger import INDEX, Ledger, LedgerError
from commonsabm.sim.terms import LOCAL, SECTORS

TOLERANCE = 1e-9

# Configurations that route money through every channel the model has.
CONFIGS = {
    "default": {},
    "ubi_local_tax": {"ubi": "full", "ubi_start": "2010-01", "ubi_funding": "local_tax"},
    "ubi_national_tax": {"ubi": "full", "ubi_start": "2010-06", "ubi_funding": "national_tax",
                         "place": "deprived_northern"},
    "ubi_outside": {"ubi": "full", "ubi_start": "2011-01"},
    "investment_fund": {"investment_fund": "present", "investment_fund_start": "2010-06"},
    "procurement_reformed": {"procurement": "reformed"},
    "local_treasury": {"devolution": "local_treasury"},
    "deep_cuts_deprived_north": {"austerity": "deep", "place": "deprived_northern"},
    "everything_on": {"ubi": "modest", "ubi_start": "2011-01", "ubi_funding": "local_tax",
                      "investment_fund": "present", "investment_fund_start": "2011-01",
                      "procurement": "reformed", "commissioning": "scale_what_works",
                      "devolution": "local_treasury", "sanctions": "ended", "automation": "rapid",
                      "automation_start": "2010-01", "procurement_consortia_allowed": True},
}


def holdings(model: CommonsModel) -> np.ndarray:
    """What each sector actually holds, summed from the actors themselves, in SECTORS order."""
    actual = {
        "citizens": float(model.citizens.cash.sum()),
        "commons": sum(o.cash for o in model.organisations if o.alive),
        "council": model.council.cash,
        "primes": sum(p.cash for p in model.primes),
        "fund": model.fund.cash,
        "local_private": model.economy.local_private.cash,
        "outside": model.economy.outside.cash,
    }
    assert set(actual) == set(SECTORS)
    return np.array([actual[s] for s in SECTORS])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_ledger_balances_after_every_step(name):
    model = CommonsModel(population=3000, start="2010-01", end="2014-12", rng=7, **CONFIGS[name])
    total0 = holdings(model).sum()
    errors = []

    def check(m: CommonsModel) -> None:
        errors.append(m.ledger.last_error)
        assert m.ledger.last_error <= TOLERANCE, f"{m.date}: ledger error {m.ledger.last_error}"
        actual = holdings(m)
        scale = max(np.abs(m.ledger.opening).sum(), m.ledger.flows.sum(), 1.0)
        # the ledger's view of each stock is what the actors really hold ...
        np.testing.assert_allclose(m.ledger.stocks(), actual, rtol=0, atol=TOLERANCE * scale)
        # ... and equals the opening stock plus this month's booked inflows minus outflows
        np.testing.assert_allclose(m.ledger.expected(), actual, rtol=0, atol=TOLERANCE * scale)
        # nothing created or lost: all money, outside included, is what it was at the start
        assert abs(actual.sum() - total0) <= TOLERANCE * max(abs(total0), scale)
        # only "outside" (the rest of the world) may run a negative balance
        local = actual[[INDEX[s] for s in LOCAL]]
        assert (local >= -1e-6).all(), dict(zip(LOCAL, local))
        # a closed organisation keeps no money (it would silently leave the ledger's view)
        assert all(o.cash == 0 for o in m.organisations if not o.alive)

    steps = step_through(model, check)
    assert steps == 60
    # the recorded maximum covers every checked month, the unreported spin-up's included
    assert max(errors) <= model.ledger.max_relative_error <= TOLERANCE
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["ledger_error"].max() <= TOLERANCE
    # the configuration really moved money through the channel it is meant to exercise
    ledger = model.ledger
    expected_channel = {"ubi_local_tax": "ubi_tax", "ubi_national_tax": "ubi_tax", "ubi_outside": "ubi", "investment_fund": "loans",
                        "procurement_reformed": "contracts", "default": "wages"}.get(name)
    if expected_channel:
        moved = ledger.cumulative_channels.get(expected_channel, 0.0) + ledger.channels.get(expected_channel, 0.0)
        assert moved > 0, f"no money moved through {expected_channel}"


@pytest.mark.slow
def test_full_default_run_balances_at_every_step():
    """Acceptance: the ledger balances at every step of a full default run (100,000 citizens,
    2010-01..2030-12), to a relative error of 1e-9."""
    model = CommonsModel(rng=42)
    assert model.citizens.n == 100_000
    worst = []
    steps = step_through(model, lambda m: worst.append(m.ledger.last_error))
    assert steps == (2030 - 2010 + 1) * 12
    assert max(worst) <= TOLERANCE
    assert model.ledger.max_relative_error == max(worst)
    assert model.ledger.max_relative_error <= TOLERANCE


def test_an_unbooked_payment_in_a_model_is_caught():
    model = CommonsModel(population=2000, end="2010-06", rng=3)
    model.step()
    model.ledger.begin_month()
    model.council.cash -= 1000.0  # money leaves the council without a booked flow
    model.economy.local_private.cash += 1000.0
    with pytest.raises(LedgerError, match="council|local_private"):
        model.ledger.check()


# ---------------------------------------------------------------- unit tests on a hand-built ledger
@dataclass
class Acct:
    sector: str
    cash: float = 0.0


def make_ledger(**cash: float) -> tuple[Ledger, dict[str, Acct]]:
    accounts = {s: Acct(s, cash.get(s, 0.0)) for s in SECTORS}
    ledger = Ledger({s: (lambda a=accounts[s]: a.cash) for s in SECTORS})
    return ledger, accounts


def test_booked_payments_balance_and_unbooked_ones_raise():
    ledger, acct = make_ledger(citizens=500.0, council=1000.0)
    ledger.pay(acct["council"], acct["citizens"], 300.0, "wages")
    ledger.pay(acct["citizens"], acct["local_private"], 200.0, "shopping")
    assert ledger.check() == 0.0
    assert ledger.flows[INDEX["council"], INDEX["citizens"]] == 300.0
    assert ledger.channels["wages"] == 300.0 and ledger.channels["shopping"] == 200.0

    acct["commons"].cash += 50.0  # appears from nowhere
    with pytest.raises(LedgerError, match="commons"):
        ledger.check()
    assert ledger.last_error > TOLERANCE
    assert ledger.max_relative_error == ledger.last_error


def test_payers_cannot_overdraw_except_outside():
    ledger, acct = make_ledger(commons=100.0)
    assert ledger.pay(acct["commons"], acct["citizens"], 250.0, "wages") == 100.0
    assert acct["commons"].cash == 0.0
    assert ledger.pay(acct["outside"], acct["council"], 1e6, "central_grant") == 1e6
    assert acct["outside"].cash == -1e6
    ledger.check()


def test_negative_record_is_booked_in_reverse():
    ledger, acct = make_ledger(citizens=100.0)
    acct["citizens"].cash -= 40.0
    acct["outside"].cash += 40.0
    ledger.record("outside", "citizens", -40.0, "tax")  # a negative flow from outside = a payment to it
    assert ledger.flows[INDEX["citizens"], INDEX["outside"]] == 40.0
    ledger.check()


def hand_built_flows() -> tuple[Ledger, dict[str, dict[str, float]]]:
    flows = {
        "council": {"citizens": 40.0, "local_private": 30.0, "primes": 10.0, "outside": 20.0},
        "primes": {"citizens": 4.0, "outside": 6.0},
        "citizens": {"local_private": 100.0, "commons": 50.0, "outside": 50.0},
        "local_private": {"citizens": 30.0, "outside": 70.0},
        "commons": {"citizens": 25.0, "outside": 25.0},
    }
    ledger, _ = make_ledger()
    for source, targets in flows.items():
        for target, amount in targets.items():
            ledger.record(source, target, amount, "test")
    return ledger, flows


def test_primes_are_not_local():
    """Primes operate in the place but are firms from outside it (docs/ODD.md §2): non-local suppliers."""
    assert "primes" not in LOCAL and "outside" not in LOCAL
    assert {"citizens", "commons", "council", "local_private"} <= set(LOCAL)


def test_local_multiplier_matches_hand_computed_lm3():
    """NEF's LM3 = (round 1 + round 2 + round 3) / round 1 for the council's spending:
    round 1 all it pays out, round 2 the part paid to local recipients, round 3 what every
    supplier paid in round 1 re-spends locally (at its observed shares of spending),
    non-local suppliers (primes) included, as NEF counted them in Northumberland."""
    ledger, flows = hand_built_flows()
    out = {s: sum(t.values()) for s, t in flows.items()}
    local_share = {s: sum(v for t, v in flows[s].items() if t in LOCAL) / out[s] for s in flows}
    round1 = out["council"]  # 100
    to_local = {t: v for t, v in flows["council"].items() if t in LOCAL}  # citizens 40, local firms 30
    round2 = sum(to_local.values())
    respent = {t: v for t, v in flows["council"].items() if t != "outside"}  # and primes 10
    round3 = sum(v * local_share[t] for t, v in respent.items())
    # the same numbers written out: round 2 = 40 + 30; round 3 = 40 * 150/200 + 30 * 30/100 + 10 * 4/10
    assert round2 == 70.0 and round3 == pytest.approx(43.0)
    expected = (round1 + round2 + round3) / round1
    assert ledger.local_multiplier("council") == pytest.approx(expected, rel=1e-12)
    assert ledger.local_multiplier("council") == pytest.approx(2.13)


def test_local_multiplier_is_one_when_everything_leaks_and_without_spending():
    ledger, _ = make_ledger()
    ledger.record("council", "outside", 60.0, "test")
    ledger.record("council", "primes", 40.0, "test")  # a non-local supplier that spends nothing here
    ledger.record("primes", "outside", 40.0, "test")
    assert ledger.local_multiplier("council") == 1.0
    assert ledger.local_multiplier("commons") == 1.0  # spent nothing this month


@pytest.mark.parametrize("local, respent, prime_share, prime_respent", [
    (1.0, 1.0, 0.0, 0.0),  # everything local: LM3 = 3
    (0.0, 0.0, 0.0, 0.0),  # nothing local, no primes: LM3 = 1
    (0.0, 0.0, 1.0, 0.0),  # all to primes that spend nothing here: 1
    (0.0, 0.0, 1.0, 0.36),  # all to primes at NEF's non-local re-spend: 1.36
    (0.6, 0.76, 0.3, 0.36),  # a mix: 1 + 0.6 + 0.6 * 0.76 + 0.3 * 0.36
])
def test_local_multiplier_matches_its_closed_form(local, respent, prime_share, prime_respent):
    """A spender that pays a share ``local`` to local firms, which re-spend ``respent`` locally, and
    ``prime_share`` to primes, which re-spend ``prime_respent`` locally: LM3 = 1 + local +
    local * respent + prime_share * prime_respent."""
    ledger, _ = make_ledger()
    ledger.record("council", "local_private", 100 * local, "t")
    ledger.record("council", "primes", 100 * prime_share, "t")
    ledger.record("council", "outside", 100 * (1 - local - prime_share), "t")
    ledger.record("local_private", "citizens", 50 * respent, "t")
    ledger.record("local_private", "outside", 50 * (1 - respent), "t")
    ledger.record("primes", "citizens", 20 * prime_respent, "t")
    ledger.record("primes", "outside", 20 * (1 - prime_respent), "t")
    closed = 1 + local + local * respent + prime_share * prime_respent
    assert ledger.local_multiplier("council") == pytest.approx(closed, rel=1e-12)


def test_local_multiplier_rises_with_local_spending():
    def lm3(local_share: float) -> float:
        ledger, _ = make_ledger()
        ledger.record("council", "local_private", 100 * local_share, "t")
        ledger.record("council", "outside", 100 * (1 - local_share), "t")
        ledger.record("local_private", "citizens", 60.0, "t")
        ledger.record("local_private", "outside", 40.0, "t")
        ledger.record("citizens", "local_private", 50.0, "t")
        ledger.record("citizens", "outside", 50.0, "t")
        return ledger.local_multiplier("council")

    values = [lm3(s) for s in (0.0, 0.36, 0.76, 1.0)]
    assert values == sorted(values) and values[0] == 1.0 and values[-1] > values[0]
    assert values[-1] == pytest.approx(1 + 1 + 0.6)  # all local; local firms re-spend 60% locally


def test_lm3_of_local_and_non_local_suppliers_follows_their_respending():
    """The Northumberland contrast (data/uk_figures.csv): a supplier re-spending 76% locally gives
    LM3 = 1.76 + ..., one re-spending 36% gives less."""
    def lm3(respend: float) -> float:
        ledger, _ = make_ledger()
        ledger.record("council", "commons", 100.0, "t")
        ledger.record("commons", "local_private", 100 * respend, "t")
        ledger.record("commons", "outside", 100 * (1 - respend), "t")
        return ledger.local_multiplier("council")

    assert lm3(0.76) == pytest.approx(1 + 1 + 0.76)
    assert lm3(0.36) == pytest.approx(1 + 1 + 0.36)


def test_leakage_matches_hand_computed_share():
    ledger, flows = make_ledger()[0], {
        "council": {"citizens": 40.0, "local_private": 30.0, "outside": 30.0},
        "citizens": {"local_private": 100.0, "commons": 50.0, "outside": 50.0},
        "local_private": {"citizens": 30.0, "outside": 70.0},
        "commons": {"citizens": 25.0, "outside": 25.0},
    }
    for source, targets in flows.items():
        for target, amount in targets.items():
            ledger.record(source, target, amount, "test")
    total = sum(sum(t.values()) for t in flows.values())  # 450
    to_outside = sum(t.get("outside", 0.0) for t in flows.values())  # 175
    assert ledger.leakage() == pytest.approx(to_outside / total)


def test_money_leaving_through_primes_is_leakage():
    def leakage(via_primes: bool) -> float:
        ledger, _ = make_ledger()
        if via_primes:
            ledger.record("council", "primes", 100.0, "contracts")
            ledger.record("primes", "outside", 100.0, "prime_profit")
        else:
            ledger.record("council", "local_private", 100.0, "contracts")
            ledger.record("local_private", "citizens", 100.0, "wages")
        return ledger.leakage()

    assert leakage(via_primes=False) == 0.0
    assert leakage(via_primes=True) > leakage(via_primes=False)


def test_begin_month_rolls_stocks_and_channels():
    ledger, acct = make_ledger(council=100.0)
    ledger.pay(acct["council"], acct["citizens"], 60.0, "wages")
    ledger.check()
    ledger.begin_month()
    assert ledger.flows.sum() == 0.0 and not ledger.channels
    assert ledger.cumulative_channels["wages"] == 60.0
    assert ledger.opening[INDEX["citizens"]] == 60.0 and ledger.opening[INDEX["council"]] == 40.0
    ledger.check()
