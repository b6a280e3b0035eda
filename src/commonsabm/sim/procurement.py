"""Contracts, subcontracts and late payment: what a tender leaves behind.

A contract keeps the procurement rules it was let under (``Contract.rules``): its payment
days, and the terms on which a prime holding it refers work to local organisations, hold
until it is re-tendered, so a reform starting in a given month builds up as contracts
turn over. The tender itself (lots, bids, scores) is in ``tendering.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commonsabm.sim.terms import months_for
from commonsabm.sim.world import World

if TYPE_CHECKING:
    from commonsabm.params.schema import ProcurementConfig
    from commonsabm.sim.organisation import CommonsOrganisation


@dataclass(eq=False)
class Lot:
    """One service the council buys, as it was cut up in 2010."""
    base: float  # value a month at the first tender round; the contract budget scales it later
    relational: float  # share of the service that rests on knowing the place and its people (0-1)


@dataclass(eq=False)  # identity, not value, makes two contracts the same
class Contract:
    holder: Any  # a PrimeContractor or a CommonsOrganisation
    value: float  # what the council pays a month
    price: float  # bid price per unit of service; 1.0 is the standard cost
    unit_cost: float  # what delivering a unit costs this holder under this contract
    start: int
    end: int
    rules: ProcurementConfig  # the rules it was let under, kept until it is re-tendered
    lots: tuple[Lot, ...] = ()  # the lots it covers (shared by a consortium's partners)
    share: float = 1.0  # the part of those lots it covers (a consortium partner's part)
    route: str = "tender"  # "tender", or "direct": an award to scale what works (Parker's lever)
    base: float = field(init=False)

    def __post_init__(self) -> None:
        # the lots' value at the first round; a direct award is not re-tendered, its value is its base
        self.base = self.share * sum(lot.base for lot in self.lots) if self.lots else self.value

    @property
    def units(self) -> float:
        """Service delivered a month: cheaper bids stretch the same money further."""
        return self.value / self.price

    @property
    def delivery_cost(self) -> float:
        return self.units * self.unit_cost


@dataclass(eq=False)
class Subcontract:
    prime: Any
    org: CommonsOrganisation
    contract: Contract
    value: float  # what the prime pays a month
    units: float

    @property
    def delivery_cost(self) -> float:
        return self.units * self.org.unit_cost


class PaymentQueue:
    """Payments promised now and made later: the council's payment days, primes' late payment.

    Payments wait in one list per due month and are made in the order they were promised.
    """

    def __init__(self, model: World):
        self.model = model
        self._due: dict[int, list[tuple[Any, Any, float, str]]] = defaultdict(list)

    def schedule(self, payer, payee, amount: float, channel: str, days: float) -> None:
        self._due[self.model.month + months_for(days)].append((payer, payee, amount, channel))

    def settle(self) -> None:
        """Make every payment now due; payments to organisations that have closed lapse."""
        month = self.model.month
        for due in sorted(d for d in self._due if d <= month):
            for payer, payee, amount, channel in self._due.pop(due):
                if getattr(payee, "alive", True):
                    payee.receive(payer, amount, channel)

    def owed_to(self, payee) -> float:
        return sum(p[2] for items in self._due.values() for p in items if p[1] is payee)
