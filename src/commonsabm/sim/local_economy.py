"""The rest of the economy as two aggregate accounts: the local private sector and outside.

The local private sector (one aggregate, not agents) sells to residents and local
organisations and to customers outside the place, pays its local staff and its
business rates, and pays out what it does not keep: some as profit to local owners,
the rest to suppliers outside. "Outside" is central government, national chains and
shareholders: the only account allowed to run negative, since it stands for the rest of
the world.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from commonsabm.sim.citizens import only
from commonsabm.sim.terms import LOCAL_PRIVATE, OUTSIDE_FIRM
from commonsabm.sim.world import World


@dataclass
class Account:
    sector: str
    cash: float = 0.0


class LocalEconomy:
    def __init__(self, model: World):
        self.model = model
        self.local_private = Account("local_private")
        self.outside = Account("outside")
        self.turnover = 0.0
        self.last_turnover = 0.0
        self.turnover0: float | None = None  # the first month's, the base of the index
        self.wages_paid = 0.0

    @property
    def turnover_index(self) -> float:
        """Last month's turnover relative to the first month's (1 until a month has passed).

        Rates and local taxes are set on last month's trade, since this month's is not
        known when the council collects them.
        """
        return self.last_turnover / self.turnover0 if self.turnover0 else 1.0

    @property
    def taxable_turnover(self) -> float:
        return self.last_turnover

    def start_month(self) -> None:
        if self.turnover > 0 and self.turnover0 is None:
            self.turnover0 = self.turnover
        self.last_turnover = self.turnover
        self.turnover = 0.0

    def sell(self, amount: float) -> None:
        self.turnover += amount

    def pay_staff(self, hours: np.ndarray) -> None:
        """Local firms pay their staff, earning part of the bill from customers outside."""
        model, ledger = self.model, self.model.ledger
        citizens = model.citizens
        # Citizens.wage_bill for both kinds of firm in one product: hours are nothing out of work
        pay = citizens.wage_rate * hours
        bill = only(citizens.employer == LOCAL_PRIVATE, pay)
        total = float(bill.sum())
        exports = ledger.pay(self.outside, self.local_private, model.config.economy.export_share * total, "exports")
        self.sell(exports)
        cash = self.local_private.cash
        # compared before dividing: over a wage bill of next to nothing the ratio would overflow
        scale = 1.0 if cash >= total else cash / total if total > 0 else 0.0
        if scale != 1.0:  # paid in full, the bill is what is paid (x 1 is exact)
            bill *= scale
        outside_bill = only(citizens.employer == OUTSIDE_FIRM, pay)
        self.wages_paid, _ = citizens.credit_apart([(bill, self.local_private, "wages"),
                                                    (outside_bill, self.outside, "wages")])

    def pay_out_surplus(self) -> None:
        """Cash above two months of wages goes out: part as profit to local owners, the rest outside."""
        model, ledger = self.model, self.model.ledger
        rates = model.config.place.business_rates * model.citizens.n * self.turnover_index
        retained = model.national.rates_retention(model.month)
        ledger.pay(self.local_private, self.outside, rates * (1 - retained), "business_rates")
        surplus = self.local_private.cash - 2 * self.wages_paid
        if surplus <= 0:
            return
        owners = model.citizens.cash.clip(min=0)
        profit = model.config.economy.local_profit_share * surplus
        if owners.sum() > 0:
            model.citizens.credit_in_proportion(owners, profit, self.local_private, "profits")
        ledger.pay(self.local_private, self.outside, surplus - profit, "purchases")
