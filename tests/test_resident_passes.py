"""The residents' monthly steps, rewritten to make fewer passes over the arrays (in place, by
status lookup, over the residents concerned only), compute exactly what the formulas as
written compute: each is checked here, bit for bit, against the formula evaluated over
every resident, on the state of a running model."""

from __future__ import annotations

import numpy as np
import pytest

from commonsabm import CommonsModel
from commonsabm.sim.citizens import only
from commonsabm.sim.terms import INACTIVE, PART_TIME, RETIRED, UNEMPLOYED, WEEKS_PER_MONTH
from commonsabm.sim.volunteering import absorb, match


@pytest.fixture()
def model() -> CommonsModel:
    model = CommonsModel(population=3000, end="2012-12", rng=11)
    for _ in range(3):
        model.step()
    return model


def same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_chance_by_index_draws_what_chance_by_mask_draws(model):
    citizens, rng = model.citizens, model.rng
    who = citizens.status == UNEMPLOYED
    p = np.linspace(0.0, 1.0, citizens.n)
    state = rng.bit_generator.state
    by_mask = citizens.chance(who, p)
    for probability in (p, p[who]):  # full length, or one per resident asked
        rng.bit_generator.state = state
        assert same(citizens.happen(np.flatnonzero(who), probability), np.flatnonzero(by_mask))


def test_stress_time_spending_and_council_tax_follow_their_formulas(model):
    citizens, cfg = model.citizens, model.config
    line, beh = cfg.welfare.poverty_line, cfg.behaviour
    citizens.income[::7] = line  # at the line exactly, the edge of the shortfall
    income, cash, stress = citizens.income.copy(), citizens.cash.copy(), citizens.stress.copy()

    citizens.feel_stress()
    target = (1.0 - np.clip(income, 0.0, line) / line) * (1.0 - 0.5 * (np.clip(cash, 0.0, 3 * line) / (3 * line)))
    assert same(citizens.stress, stress + beh.stress_adjustment * (target - stress))

    paid = citizens.hours_worked(0.0)
    citizens.budget_time(paid)
    conditionality = np.maximum(cfg.conditionality.commitment_hours * WEEKS_PER_MONTH - paid, 0.0) * citizens.conditional_share
    care = np.where(citizens.status == INACTIVE, cfg.time.carer_hours, cfg.time.care_hours)
    free = (cfg.time.discretionary_hours - paid - conditionality
            - cfg.sanctions.process_hours * citizens.sanctioned - care)
    assert same(citizens.free_hours, np.maximum(free, 0))

    spent = citizens.spend()
    saving = cfg.welfare.saving_rate * np.maximum(income - line, 0.0)
    drawdown = np.where(income < line, np.minimum(line - income, 0.1 * cash), 0.0)
    expected = np.clip(income - saving + drawdown, 0.0, cash)
    assert same(spent, expected) and same(citizens.cash, cash - expected)

    cash = citizens.cash.copy()
    due = citizens.pay_council_tax(1e5)
    liable = (citizens.status != UNEMPLOYED) & (citizens.status != INACTIVE)
    assert same(due, np.where(liable, np.minimum(1e5 / liable.sum(), cash), 0.0))


def test_volunteering_decides_as_the_formula_over_everyone(model):
    """The decision asks who stays of the volunteers only and computes hours for them only;
    the same draws give the same volunteers, memberships and hours as over everyone."""
    citizens, beh, rng = model.citizens, model.config.behaviour, model.rng
    arrays, wear = model.organisation_arrays(), model.wear()
    active, org, state = citizens.active.copy(), citizens.org.copy(), rng.bit_generator.state

    citizens.volunteer(*arrays, wear=wear)
    new = (citizens.active.copy(), citizens.org.copy(), citizens.hours.copy())
    citizens.active, citizens.org[:] = active.copy(), org  # wear by organisation: the same decision
    rng.bit_generator.state = state
    assert wear[active].any()  # some volunteers are worn: the lookup matters
    citizens.volunteer(*arrays, wear_by_slot=model.wear_by_slot())
    assert all(same(a, b) for a, b in zip(new, (citizens.active, citizens.org, citizens.hours)))

    citizens.active, citizens.org[:] = active, org
    rng.bit_generator.state = state
    bandwidth = citizens.bandwidth
    assert citizens.sanctioned.any() and same(bandwidth, np.clip(
        1.0 - beh.stress_bandwidth * citizens.stress - beh.sanction_bandwidth * citizens.sanctioned, 0.0, 1.0))
    free_share = citizens.free_hours / model.config.time.discretionary_hours
    peers = (citizens.ties @ active.astype(np.float32)) * citizens.inverse_degree
    propensity = np.clip(citizens.motivation * free_share * bandwidth * (1 + beh.peer_effect * peers), 0.0, 1.0)
    draw = rng.random(citizens.n)
    has_time = citizens.free_hours > 0
    stay = active & has_time & (draw < (1 - beh.quit_rate * (1 - propensity)) * (1 - wear))
    start = ~active & has_time & (draw < beh.join_rate * propensity)
    citizens.org[citizens.chance(~active & (citizens.org >= 0), beh.membership_lapse)] = -1
    seekers = np.flatnonzero(start & (citizens.org < 0))
    citizens.org[seekers] = citizens.join(seekers, *arrays)
    now = (stay | start) & (citizens.org >= 0)
    hours = np.where(now, np.minimum(citizens.free_hours * beh.hours_share * (0.5 + citizens.motivation) * bandwidth,
                                     citizens.free_hours), 0.0)
    assert now.any() and same(new[0], now) and same(new[1], citizens.org) and same(new[2], hours)


def test_hours_are_absorbed_and_counted_over_the_volunteers_alone_as_over_everyone(model):
    """Absorption and the organisations' counts, done over the volunteers ``Citizens.volunteer``
    returns (the only residents with hours), give what they give over everyone, to the bit,
    with some organisations offered more than they can use; wear is the burnout by slot."""
    citizens, orgs, live = model.citizens, model.orgs, model.orgs.live
    burnout = np.zeros(len(model.organisations) + 1)
    burnout[live + 1] = orgs.burnout[live]
    assert same(model.wear(), model.config.behaviour.burnout_quit * burnout[citizens.org + 1])
    givers = citizens.volunteer(*model.organisation_arrays(), wear=model.wear())
    assert len(givers) and same(givers, np.flatnonzero(citizens.active))
    assert not citizens.hours[~citizens.active].any()
    usable = model.usable_by_slot()
    usable[1::2] *= 0.3  # a cut that binds for some organisations
    everyone, alone = absorb(citizens.org, citizens.hours, usable), absorb(citizens.org, citizens.hours, usable, givers)
    assert same(everyone[0], alone[0]) and same(everyone[1], alone[1])
    assert (everyone[0] < citizens.hours).any()
    citizens.hours = everyone[0]
    columns = ("members", "volunteers", "volunteer_hours", "hours_offered")
    model.count_members(everyone[1])
    counted = [getattr(orgs, c)[live].copy() for c in columns]
    model.count_members(everyone[1], givers)
    assert all(same(a, getattr(orgs, c)[live]) for a, c in zip(counted, columns))
    assert counted[1].sum() == len(givers) - np.count_nonzero(citizens.org[givers] < 0)


def test_seekers_join_first_come_first_served_up_to_each_room():
    """``match`` ranks seekers by organisation with a radix sort and counts: the result is the
    one-by-one rule, each seeker in index order taking a place at the organisation drawn while
    it has room, from the same draws."""
    rng = np.random.default_rng(4)
    nbhd, n_nbhd, reach = np.repeat(np.arange(12), 50).astype(np.int32), 12, 1
    for trial in range(30):
        n_orgs = int(rng.integers(1, 40))
        org_nbhd, room = rng.integers(0, n_nbhd, n_orgs).astype(np.int32), rng.integers(0, 4, n_orgs)
        seekers = np.sort(rng.choice(len(nbhd), size=int(rng.integers(1, 400)), replace=False))
        org_index = rng.permutation(1000)[:n_orgs].astype(np.int32)
        state = rng.bit_generator.state
        chosen = match(rng, nbhd, n_nbhd, reach, seekers, org_index, org_nbhd, room)
        rng.bit_generator.state = state  # the draws again, and the rule one seeker at a time
        target = (nbhd[seekers] + rng.integers(-reach, reach + 1, len(seekers))) % n_nbhd
        order = np.argsort(org_nbhd, kind="stable")
        cum = np.cumsum(room[order].astype(float))
        room_in = np.bincount(org_nbhd, weights=room, minlength=n_nbhd)
        ok = room_in[target] > 0
        draws = iter(rng.random(int(ok.sum())))
        left, expected = room.copy(), np.full(len(seekers), -1)
        for k in np.flatnonzero(ok):
            below = cum[org_nbhd[order] < target[k]]
            lo = below[-1] if len(below) else 0.0
            c = order[min(np.searchsorted(cum, lo + next(draws) * room_in[target[k]], side="right"), len(cum) - 1)]
            if left[c] > 0:
                left[c] -= 1
                expected[k] = org_index[c]
        assert same(chosen, expected), trial


def test_organisations_pay_out_to_their_members_as_by_a_count_over_everyone(model):
    """``receive_from_organisations`` counts and pays only the payers' members: the shares are
    those of a count over everyone, and an organisation with no members pays everyone."""
    citizens = model.citizens
    with_members = [o for o in model.live_organisations if o.members > 0][:3]
    empty = model.register("vcs", 0)
    amounts = [100.0 * (k + 1) for k in range(len(with_members))] + [50.0]
    slot = citizens.org + 1
    members = np.bincount(slot, minlength=len(model.organisations) + 1)
    per_member = np.zeros(len(model.organisations) + 1)
    for org, amount in zip(with_members, amounts):
        per_member[org.index + 1] = amount / members[org.index + 1]
    expected = per_member[slot] + 50.0 / citizens.n
    cash, income = citizens.cash.copy(), citizens.income.copy()
    booked = citizens.income_by_source.get("dividends", 0.0)
    for org in with_members + [empty]:
        org.cash += 1000.0
    citizens.receive_from_organisations(with_members + [empty], amounts, "dividends")
    assert same(citizens.cash, cash + expected) and same(citizens.income, income + expected)
    assert citizens.income_by_source["dividends"] == booked + float(expected.sum())


def test_payments_apart_credit_as_one_by_one_and_balance(model):
    citizens, economy = model.citizens, model.economy
    cash, income = citizens.cash.copy(), citizens.income.copy()
    first = np.where(citizens.status == RETIRED, 0.1, 0.0)
    second = np.where(citizens.status == PART_TIME, 0.3, 0.0)
    outside, local = economy.outside.cash, economy.local_private.cash
    totals = citizens.credit_apart([(first, economy.outside, "pensions"), (second, economy.local_private, "wages")])
    assert totals == [float(first.sum()), float(second.sum())] and totals[1] > 0
    assert same(citizens.cash, cash + first + second) and same(citizens.income, income + first + second)
    assert economy.outside.cash == outside - totals[0] and economy.local_private.cash == local - totals[1]
    model.ledger.check()  # every pound booked


@pytest.mark.parametrize("funding", ["outside", "local_tax"])
def test_wages_are_kept_where_a_tax_on_earnings_can_be_levied(funding):
    model = CommonsModel(population=2000, start="2012-01", end="2012-06", rng=3, ubi="modest",
                         ubi_start="2012-01", ubi_funding=funding)
    model.step()
    citizens = model.citizens
    assert citizens.tracks_wages == (funding != "outside")
    if citizens.tracks_wages:
        assert citizens.wages.sum() == pytest.approx(citizens.income_by_source["wages"], rel=1e-12)
        assert citizens.wages.sum() > 0
    else:
        assert not citizens.wages.any()


def test_only_is_np_where_for_amounts_paid():
    rng = np.random.default_rng(5)
    mask = rng.random(1000) < 0.4
    for values in (rng.lognormal(size=1000), 0.0, 650.0, np.zeros(1000)):
        chosen = only(mask, values)
        expected = np.where(mask, values, 0.0)
        assert same(chosen, expected) and not np.signbit(chosen).any()
        assert chosen.sum() == expected.sum()  # the same numbers in the same places: the same total


def test_members_volunteers_and_ability_to_give_count_as_bincounts_over_everyone(model):
    """Members and volunteers come from one integer count by (slot, active), and neighbourhoods
    are cast and counted once for the run: the same numbers as a bincount of each, this month."""
    citizens, orgs, live = model.citizens, model.orgs, model.orgs.live
    citizens.active[::5] = citizens.org[::5] >= 0  # a mix of active and idle members
    model.count_members()
    slot = citizens.org + 1
    assert same(orgs.members[live], np.bincount(slot, minlength=len(model.organisations) + 1)[live + 1])
    assert same(orgs.volunteers[live], np.bincount(slot, weights=citizens.active,
                                                   minlength=len(model.organisations) + 1)[live + 1])
    assert orgs.volunteers[live].sum() > 0
    for _ in range(2):  # the counts kept for the run serve every month's incomes
        citizens.income[::3] *= 1.5
        above = np.maximum(citizens.income - model.config.welfare.poverty_line, 0.0)
        mean = (np.bincount(citizens.nbhd, weights=above, minlength=citizens.n_nbhd)
                / np.maximum(np.bincount(citizens.nbhd, minlength=citizens.n_nbhd), 1))
        reference = model.config.behaviour.giving_reference_income
        assert same(model.market.ability_to_give(), np.minimum(mean / reference, 1.0))


@pytest.mark.parametrize("population", [3000, 2999])  # neighbourhoods of one size, and not
def test_neighbourhood_totals_are_bincounts_to_the_bit(population):
    model = CommonsModel(population=population, end="2012-12", rng=5)
    market, citizens, rng = model.market, model.citizens, np.random.default_rng(population)
    market.neighbourhoods()
    assert (market._block is None) == (population % citizens.n_nbhd != 0)
    for values in (citizens.income, rng.lognormal(0, 3, population) * 10.0 ** rng.integers(-8, 8, population),
                   np.where(rng.random(population) < 0.5, 0.0, rng.standard_normal(population))):
        assert same(market.total(values), np.bincount(citizens.nbhd, weights=values, minlength=citizens.n_nbhd))


class NoMatrixProduct(np.ndarray):
    """The reach matrix that fails any matrix product with it: a float one goes to BLAS."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        assert ufunc is not np.matmul, "a matrix product over the boolean reach matrix"
        return getattr(ufunc, method)(*(np.asarray(x) if isinstance(x, NoMatrixProduct) else x for x in inputs),
                                      **kwargs)


@pytest.mark.parametrize("reach", [0, 1, 3])
def test_counts_within_reach_are_the_float_product_without_one(reach):
    """Organisations within reach are counted through an integer sparse copy of the reach matrix:
    the numbers the float product over the boolean matrix gives, bit for bit, without that product,
    which OpenBLAS spreads over its threads (that then spin, burning CPU) at 100+ neighbourhoods."""
    model = CommonsModel(population=5000, end="2011-06", rng=reach, network_neighbourhood_size=50,
                         network_reach=reach)
    citizens = model.citizens
    assert citizens.n_nbhd == 100 and same(citizens.reach_counts.toarray(), citizens.reach)
    counts = model.rng.integers(0, 1000, citizens.n_nbhd)
    assert same((citizens.reach_counts @ counts).astype(float), citizens.reach @ counts.astype(float))
    citizens.reach = citizens.reach.view(NoMatrixProduct)
    while model.running:  # founding and the market, every month, multiply nothing by it
        model.step()
    assert model.steps == 18


def test_absorb_with_no_volunteers_gives_no_hours_and_float_sums():
    """A month in which nobody volunteers (a place with no room, a join rate of 0): numpy's
    bincount of nothing counts in integers, which the scaling must not inherit."""
    from commonsabm.sim.volunteering import absorb

    org = np.array([0, -1, 1, 0])
    given, offered_by = absorb(org, np.zeros(4), np.array([np.inf, 5.0, 5.0]), np.array([], dtype=np.intp))
    assert given.dtype == offered_by.dtype == np.float64
    assert not given.any() and not offered_by.any()
