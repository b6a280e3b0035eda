"""The local market: where residents' spending goes among commons traders, voluntary groups and firms.

Each neighbourhood's residents choose where to buy the kinds of goods and services commons
traders sell (food, cafés, pubs, shops: ``commons.trade_budget_share`` of their spending)
among the traders within their reach and an outside option, the local firms and chains
that sell the same things. The choice is a multinomial logit on price and offer: a trader
within reach draws the weight ``capacity x price ** -commons.price_elasticity``; the outside
option draws ``commons.outside_offer`` times the neighbourhood's budget (its offer grows with
the market it serves). So commons custom rises when more, larger or cheaper traders are
within reach and falls when they close or dear, and a trader sells nothing to residents out
of its reach. A trader cannot sell more than its capacity: custom it cannot serve goes to
the outside option.

Donations follow the same reach: each neighbourhood's residents give to the voluntary
groups within reach, in proportion to their members + 1. Groups ask harder as the
council's grants to them are cut, with a bounded (saturating) response that is weaker
where residents have less income above the poverty line to give from.
"""

from __future__ import annotations

import numpy as np

from commonsabm.sim.register import KIND
from commonsabm.sim.terms import TRADING
from commonsabm.sim.world import World


class LocalMarket:
    def __init__(self, model: World):
        self.model = model
        self.custom = 0.0  # this month's spending with commons traders
        self.spending = 0.0  # this month's spending by residents
        self.units = 0.0  # what it bought, at the outside option's prices
        self._places = None  # residents' neighbourhoods, built at the first month (after the residents)
        self._block = None  # their size, when all are one size in contiguous blocks

    def neighbourhoods(self) -> tuple[np.ndarray, np.ndarray]:
        """Residents' neighbourhoods in bincount's own index type, and how many residents live
        in each (at least 1). Neighbourhoods are fixed for the run, so they are cast and counted
        once rather than every month."""
        if self._places is None:
            citizens = self.model.citizens
            index = citizens.nbhd.astype(np.intp)
            counts = np.bincount(index, minlength=citizens.n_nbhd)
            self._places = (index, np.maximum(counts, 1))
            # neighbourhoods of one size in contiguous blocks (network.neighbourhoods, whenever
            # the population divides evenly): their sums can be taken as columns (``total``)
            size = citizens.n // citizens.n_nbhd
            self._block = size if np.array_equal(index, np.repeat(np.arange(citizens.n_nbhd), size)) else None
        return self._places

    def total(self, values: np.ndarray) -> np.ndarray:
        """Each neighbourhood's sum of a resident-length array, to the bit what
        ``np.bincount(nbhd, weights=values)`` gives.

        bincount adds each neighbourhood's values one after another, a chain of dependent
        additions that leaves the processor waiting. With neighbourhoods in blocks of one size,
        the residents are laid out as rows (the i-th resident of every neighbourhood in row i)
        and the rows added in order from 0.0: the same additions in the same order for each
        neighbourhood, with the neighbourhoods side by side (several times faster)."""
        index, _ = self.neighbourhoods()
        n_nbhd = self.model.citizens.n_nbhd
        if self._block is None:
            return np.bincount(index, weights=values, minlength=n_nbhd)
        rows = self.model.scratch("by_neighbourhood", float).reshape(self._block, n_nbhd)
        np.copyto(rows, values.reshape(n_nbhd, self._block).T)
        return np.add.reduce(rows, axis=0, initial=0.0)

    # ------------------------------------------------------------------ prices and offer
    def price(self, rows: np.ndarray) -> np.ndarray:
        """Traders' prices (by register row) relative to the outside option's (1): each one's
        unit cost with a markup.

        The unit cost is its cost of sales per unit and its overheads spread over what it
        can sell; staff are paid from the margin (``bookkeeping.adjusted_staff``), so
        a trader grown in experience (more capacity for the same overheads) sells cheaper.
        """
        commons = self.model.config.commons
        orgs = self.model.orgs
        return (1 + commons.trading_markup) * (commons.trading_cost + orgs.overheads[rows] / orgs.capacity[rows])

    def known(self, rows: np.ndarray) -> np.ndarray:
        """How far each trader (by register row) has built its custom: a new one is known to
        few residents yet, and its pull rises linearly to full over
        ``commons.custom_build_months`` (the liability of newness: docs/ODD.md §7.8)."""
        months = self.model.config.commons.custom_build_months
        if months <= 0:
            return np.ones(len(rows))
        age = self.model.month - self.model.orgs.born[rows]
        return np.clip((age + 1) / months, 0.0, 1.0)

    def fundraising_effort(self, ability: np.ndarray) -> np.ndarray:
        """How much harder voluntary groups ask the public, by neighbourhood (1: as in 2010).

        The rise saturates at ``behaviour.fundraising_ceiling`` as the council's grants to
        them are cut, starting at a slope of ``behaviour.fundraising_response`` per unit
        of cut, and is scaled by residents' ability to give (0-1).
        """
        model = self.model
        beh = model.config.behaviour
        grants, grants0 = model.council.spending["grants"], model.council.grants0
        cut = max(0.0, 1.0 - grants / grants0) if grants0 else 0.0
        ceiling = beh.fundraising_ceiling
        rise = ceiling * -np.expm1(-beh.fundraising_response * cut / ceiling) if ceiling > 0 else 0.0
        return 1.0 + rise * ability

    def ability_to_give(self) -> np.ndarray:
        """Residents' mean income above the poverty line, by neighbourhood, relative to
        ``behaviour.giving_reference_income`` and at most 1."""
        model = self.model
        citizens = model.citizens
        _, residents = self.neighbourhoods()
        above = model.scratch("above_poverty", float)
        np.subtract(citizens.income, model.config.welfare.poverty_line, out=above)
        np.maximum(above, 0.0, out=above)
        per_nbhd = self.total(above) / residents
        reference = model.config.behaviour.giving_reference_income
        return np.minimum(per_nbhd / reference, 1.0) if reference > 0 else np.ones(citizens.n_nbhd)

    # ------------------------------------------------------------------ the month's shopping
    def choose(self, budget: np.ndarray, nbhd: np.ndarray, weight: np.ndarray,
               outside: np.ndarray) -> np.ndarray:
        """Each neighbourhood's budget split among the sellers within its reach and the
        outside option: what neighbourhood n spends with seller j, as a matrix."""
        reach = self.model.citizens.reach[:, nbhd]  # reach[n, j]: seller j within reach of n
        pull = reach * weight[None, :]
        total = outside + pull.sum(axis=1)
        share = np.divide(pull, total[:, None], out=np.zeros_like(pull), where=total[:, None] > 0)
        return budget[:, None] * share

    def shop(self, spending: np.ndarray) -> None:
        """Residents' spending: commons traders, donations to voluntary groups, local firms, chains."""
        model = self.model
        cfg, citizens, ledger, economy = model.config, model.citizens, model.ledger, model.economy
        by_nbhd = self.total(spending)
        orgs = model.orgs
        trading = np.isin(orgs.kind[orgs.live], [KIND[k] for k in TRADING])
        traders, groups = orgs.live[trading], orgs.live[~trading]

        commons = cfg.commons
        prices = self.price(traders)
        capacity = orgs.capacity_for_trade(traders)
        goods = commons.trade_budget_share * by_nbhd
        pull = capacity * prices ** -commons.price_elasticity * self.known(traders)
        trade = self.choose(goods, orgs.nbhd[traders], pull, commons.outside_offer * goods)
        # a trader sells at most its capacity; custom beyond it goes to the outside option
        wanted = trade.sum(axis=0)
        limit = prices * capacity
        trade *= np.divide(limit, wanted, out=np.ones_like(wanted), where=wanted > limit)[None, :]

        giving = cfg.place.donation_share * by_nbhd * self.fundraising_effort(self.ability_to_give())
        members = (orgs.members[groups] + 1).astype(float)
        gifts = self.choose(giving, orgs.nbhd[groups], members, np.zeros(citizens.n_nbhd))

        # custom and giving both rise; together they cannot pass what a neighbourhood spends
        paid = trade.sum(axis=1) + gifts.sum(axis=1)
        cut = np.divide(by_nbhd, paid, out=np.ones_like(paid), where=paid > by_nbhd)
        trade *= cut[:, None]
        gifts *= cut[:, None]

        sales, given = trade.sum(axis=0), gifts.sum(axis=0)
        orgs.price[traders] = prices
        orgs.units_sold[traders] = sales / prices
        for rows, amounts, source in ((traders, sales, "trading"), (groups, given, "donations")):
            ledger.receive_rows_from_citizens(orgs.cash, rows, "commons", amounts, source)
            orgs.book(rows, amounts, source)
        total = float(spending.sum())
        self.spending, self.custom = total, float(sales.sum())
        self.units = float((sales / prices).sum()) if len(traders) else 0.0
        rest = total - self.custom - float(given.sum())
        local = cfg.place.local_spend_share * rest
        ledger.receive_from_citizens(economy.local_private, local, "shopping")
        economy.sell(local)
        ledger.receive_from_citizens(economy.outside, rest - local, "shopping")
