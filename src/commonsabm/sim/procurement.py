"""Tenders, bids, contracts, subcontracts and late payment.

The procurement rules are policy levers (``ProcurementConfig``): lot bundling, the
risk-transfer reserve requirement, the track-record requirement, the price, quality and
social-value weights, consortia, payment days and the terms primes give subcontractors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from commonsabm.sim.terms import months_for
from commonsabm.sim.world import World

if TYPE_CHECKING:
    from commonsabm.sim.organisation import CommonsOrganisation


@dataclass(eq=False)
class Contract:
    holder: Any  # a PrimeContractor or a CommonsOrganisation
    value: float  # what the council pays a month
    price: float  # bid price per unit of service; 1.0 is the standard cost
    start: int
    end: int
    base: float  # the lot's value at the first tender round

    @property
    def units(self) -> float:
        """Service delivered a month: cheaper bids stretch the same money further."""
        return self.value / self.price

    @property
    def delivery_cost(self) -> float:
        return self.units * self.holder.unit_cost


@dataclass(eq=False)  # identity, not value, makes two subcontracts the same
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


@dataclass
class Bid:
    bidders: list  # one organisation, a consortium, or one prime
    price: float
    quality: float
    social_value: float


def commons_bids(model: World, value: float, rng: np.random.Generator) -> list[Bid]:
    """Bids from commons organisations that know of the tender and meet its conditions."""
    rules = model.config.procurement
    commons = model.config.commons
    price = commons.delivery_cost * (1 + commons.bid_markup)
    units = value / price
    reserve = rules.risk_transfer * 12 * value
    live = model.live_organisations
    # one draw per organisation: does the council's commissioning team reach it?
    reached = rng.random(len(live)) < model.council.commissioning_capacity
    aware = [o for o, seen in zip(live, reached) if seen and o.experience >= rules.track_record_months]
    bids = [Bid([o], price, _quality(model, [o]), commons.local_share)
            for o in aware if o.spare_capacity >= units and o.cash >= reserve]
    if not bids and rules.consortia_allowed and aware:
        partners = sorted(aware, key=lambda o: o.spare_capacity, reverse=True)[:5]
        if (sum(o.spare_capacity for o in partners) >= units
                and sum(o.cash for o in partners) >= reserve):
            bids.append(Bid(partners, price, _quality(model, partners), commons.local_share))
    return bids


def _quality(model: World, orgs: list) -> float:
    """Quality grows with track record; two years of delivery earns the full commons score."""
    experience = np.mean([min(o.experience / 24, 1.0) for o in orgs])
    return model.config.commons.quality * (0.5 + 0.5 * experience)


def prime_bids(model: World, value: float) -> list[Bid]:
    reserve = model.config.procurement.risk_transfer * 12 * value
    return [Bid([p], p.bid_price, p.quality, p.local_share) for p in model.primes if p.cash >= reserve]


def choose_winner(bids: list[Bid], weights: tuple[float, float, float], rng: np.random.Generator) -> Bid | None:
    """Score bids on price (cheapest gets full marks), quality and social value."""
    if not bids:
        return None
    w_price, w_quality, w_social = weights
    cheapest = min(b.price for b in bids)
    scores = np.array([w_price * cheapest / b.price + w_quality * b.quality + w_social * b.social_value
                       for b in bids])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return bids[int(rng.choice(best))]
