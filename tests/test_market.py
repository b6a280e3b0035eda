"""The local market (sim.market): custom follows price, reach and what is on offer; giving is bounded.

Model-level claims are one-lever contrasts over several seeds on common random numbers;
the arithmetic of the choice and of the fundraising response is checked on a built model.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, per_seed

from commonsabm import CommonsModel

FIRST_YEAR = {"population": 3000, "end": "2010-12", "run_spin_up": 0}
# enough traders in every seed, and local firms and chains strong enough that no trader sells
# out its capacity, so that what custom follows is the offer, not the capacity bound
# The contrasts read the first months of a cold start (no spin-up): what is measured is the
# market's response to the offer as built, before two years of founding and closure under
# each arm's prices change the offer itself.
UNBOUND = {"population": 4000, "end": "2010-06", "place_community_businesses_per_100k": 50.0,
           "commons_outside_offer": 20.0, "run_spin_up": 0}


def first_months(column):
    return lambda model, frame: frame[column].iloc[:3].mean()


def units_share(model, frame):
    """What residents bought from commons traders at the chains' prices, over all they spent."""
    return (frame["commons_spend_share"] / frame["commons_price"]).iloc[:3].mean()


def built(**keywords) -> CommonsModel:
    return CommonsModel(**{"population": 4000, "end": "2010-12", "rng": 1, "run_spin_up": 0, **keywords})


# ---------------------------------------------------------------- custom follows price and offer
def test_cheaper_commons_win_more_custom():
    """Traders pricing nearer their unit cost sell more, and (price elasticity above 1) take a
    larger share of residents' spending."""
    dear = {**UNBOUND, "commons_trading_markup": 0.3}
    cheap = {**UNBOUND, "commons_trading_markup": 0.0}
    assert (per_seed(units_share, **cheap) > per_seed(units_share, **dear)).all()
    spend = first_months("commons_spend_share")
    assert (per_seed(spend, **cheap) > per_seed(spend, **dear)).all()
    price = first_months("commons_price")
    assert (per_seed(price, **cheap) < per_seed(price, **dear)).all()


def test_more_commons_on_offer_win_more_custom():
    """More community businesses within reach draw more of residents' spending to the commons
    (no shared pool: each adds the custom it wins)."""
    spend = first_months("commons_spend_share")
    few = per_seed(spend, **{**UNBOUND, "place_community_businesses_per_100k": 10.0})
    many = per_seed(spend, **{**UNBOUND, "place_community_businesses_per_100k": 100.0})
    assert (many > few).all()
    assert many.mean() > 3 * few.mean()


def test_a_stronger_outside_option_takes_custom_from_the_commons():
    """Chains and local firms with more pull leave the commons less of residents' spending."""
    spend = first_months("commons_spend_share")
    weak = per_seed(spend, **UNBOUND)
    strong = per_seed(spend, **{**UNBOUND, "commons_outside_offer": 80.0})
    assert (strong < weak).all()


def test_the_choice_gives_nothing_to_a_seller_out_of_reach():
    """A neighbourhood's residents buy only from sellers within `network.reach` of them."""
    model = built(network_reach=1)
    market, n_nbhd = model.market, model.citizens.n_nbhd
    assert n_nbhd >= 4
    budget = np.full(n_nbhd, 1000.0)
    spent = market.choose(budget, np.array([0], dtype=np.int32), np.array([500.0]), np.full(n_nbhd, 2000.0))
    ring = np.minimum(np.arange(n_nbhd), n_nbhd - np.arange(n_nbhd))
    assert (spent[ring > 1, 0] == 0).all()
    np.testing.assert_allclose(spent[ring <= 1, 0], 1000.0 * 500 / 2500)


def test_the_cheaper_of_two_sellers_wins_more_and_the_outside_option_keeps_the_rest():
    model = built()
    n_nbhd = model.citizens.n_nbhd
    e = model.config.commons.price_elasticity
    weights = np.array([100.0, 100.0]) * np.array([0.9, 1.1]) ** -e
    spent = model.market.choose(np.full(n_nbhd, 1000.0), np.array([0, 0], dtype=np.int32), weights,
                                np.full(n_nbhd, 1000.0))
    assert spent[0, 0] > spent[0, 1] > 0
    assert spent[0].sum() < 1000.0  # the rest goes to local firms and chains


def test_no_trader_sells_beyond_its_capacity_and_money_is_conserved():
    """Each month a trader sells at most its capacity for trade (what contracts leave free);
    the ledger (checked every step) balances."""
    model = built(commons_outside_offer=0.05, place_community_businesses_per_100k=30.0)
    shop, spare, hits = model.market.shop, {}, []

    def shop_and_check(spending):
        spare.update({o: o.capacity_for_trade for o in model.live_organisations if o.trading})
        shop(spending)
        for org, room in spare.items():
            assert org.units_sold <= room + 1e-6
            hits.append(room > 0 and org.units_sold > 0.99 * room)
        spare.clear()

    model.market.shop = shop_and_check
    model.run()
    assert any(hits)  # with a weak outside option the bound binds
    assert model.ledger.max_relative_error < 1e-9


# ---------------------------------------------------------------- donations: bounded, weaker where poorer
def with_grants_cut(model: CommonsModel, cut: float) -> CommonsModel:
    if model.council.grants0 is None:  # the council records its first month's grants
        model.step()
    model.council.spending["grants"] = (1 - cut) * model.council.grants0
    return model


@pytest.mark.parametrize("response", [0.84, 10.0])
def test_fundraising_rises_with_the_cut_but_never_past_its_ceiling(response):
    model = built(behaviour_fundraising_response=response)
    ceiling = model.config.behaviour.fundraising_ceiling
    ability = np.ones(1)
    efforts = [float(model.market.fundraising_effort(ability)[0])
               for cut in (0.0, 0.2, 0.5, 1.0) if with_grants_cut(model, cut)]
    assert efforts[0] == 1.0
    assert all(b > a for a, b in zip(efforts, efforts[1:]))
    assert efforts[-1] <= 1 + ceiling


def test_the_default_response_gives_the_published_rise_at_the_published_cut():
    """+21% donations from individuals when government income falls 38% (data/uk_figures.csv)."""
    model = with_grants_cut(built(), 0.38)
    assert float(model.market.fundraising_effort(np.ones(1))[0]) == pytest.approx(1.21, abs=0.005)


def test_fundraising_response_is_weaker_where_residents_have_less_to_give():
    model = with_grants_cut(built(), 0.5)
    rich, poor = model.market.fundraising_effort(np.array([1.0, 0.3]))
    assert rich - 1 == pytest.approx((poor - 1) / 0.3)
    assert 1 < poor < rich


def test_lower_incomes_against_the_reference_mean_less_giving_under_cuts():
    """One lever: a higher reference income (residents less able to give) weakens the rise
    in donations as the council's grants are cut."""
    cuts = {"population": 3000, "end": "2013-12", "austerity": "deep"}
    able = per_seed("vcs_individual_income", seeds=SEEDS[:3], **cuts, behaviour_giving_reference_income=100.0)
    unable = per_seed("vcs_individual_income", seeds=SEEDS[:3], **cuts, behaviour_giving_reference_income=1e4)
    assert (unable < able).all()


# ---------------------------------------------------------------- the liability of newness
def test_a_new_trader_builds_its_custom_over_its_first_year():
    """A trader's pull is 1/n of full in its first month and full from its n-th (n =
    commons.custom_build_months); with n = 0 every trader pulls fully from the start."""
    model = built()
    trader = next(o for o in model.live_organisations if o.trading)
    months = model.config.commons.custom_build_months
    for age, expected in ((0, 1 / months), (months // 2 - 1, 0.5), (months - 1, 1.0), (5 * months, 1.0)):
        trader.born = model.month - age
        assert model.market.known(np.array([trader.index]))[0] == pytest.approx(expected)
    assert built(commons_custom_build_months=0).market.known(np.array([trader.index]))[0] == 1.0


def young_traders_sales(model, frame):
    """Units sold over capacity for trade, averaged over traders in their first six months,
    month by month through the run."""
    ratios = []
    while model.running:
        model.step()
        young = [o for o in model.live_organisations
                 if o.trading and model.month - 1 - o.born < 6 and o.capacity_for_trade > 0]
        ratios += [o.units_sold / o.capacity_for_trade for o in young]
    return float(np.mean(ratios)) if ratios else np.nan


def test_new_traders_sell_less_while_they_build_their_custom():
    """One lever, paired seeds: with custom built over a year, traders in their first six
    months sell a smaller share of what they could than when custom comes at once: less in
    every seed, and by more than a fifth of capacity on average."""
    arms = {}
    for months in (0, 12):
        arms[months] = np.array([young_traders_sales(CommonsModel(
            population=20_000, end="2013-12", rng=seed, commons_custom_build_months=months), None)
            for seed in SEEDS[:3]])
    assert not np.isnan(arms[12]).any()
    assert (arms[12] < arms[0]).all() and (arms[0] - arms[12]).mean() > 0.2, arms


# ---------------------------------------------------------------- capacity shared by custom and contracts
def test_a_trader_selling_at_capacity_has_no_room_for_contracted_work():
    """Custom and contracted work use the same capacity: a trader that sold out last month
    declines a subcontract for want of capacity, while one with no custom has its whole
    capacity (less contracts) free; what it can sell to residents is unchanged."""
    model = built()
    trader = next(o for o in model.live_organisations if o.trading and not o.contracts and not o.subcontracts)
    trader.units_sold = trader.capacity
    model.orgs.start_month()
    assert trader.spare_capacity == 0.0
    assert trader.capacity_for_trade == pytest.approx(trader.capacity)
    assert trader.take_part(0.5 * trader.capacity, 1.0, 30) == (0.0, "capacity")
    trader.units_sold = 0.0
    model.orgs.start_month()
    assert trader.spare_capacity == pytest.approx(trader.capacity)
