"""The tender market: lots of different sizes and kinds, bidders with their own costs and
quality, a scoring panel that errs, and an incumbent's edge (docs/ODD.md §7.5).

Nothing here fixes the winner in advance. Lots differ in size (heavy-tailed) and in how
much of the service rests on local knowledge; each bid draws its own cost; primes' unit
costs fall with lot size (scale economies) while commons organisations' quality rises with
their track record and with the lot's need for local knowledge; the panel's scores carry
noise. Which class wins therefore shifts by degrees as the rules move: the social-value
weight, lot size, the reserve a bidder must hold (risk transfer), the track record asked
for, and how many local groups the council's commissioning staff reach (seed 000: small
groups are "not told what contracts are available").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonsabm.params.schema import ProcurementConfig
from commonsabm.sim.procurement import Contract, Lot
from commonsabm.sim.terms import TRACK_RECORD_SPAN
from commonsabm.sim.world import World
BIDDER_CLASSES = ("commons", "consortium", "primes")


@dataclass(eq=False)
class Bid:
    bidders: list  # one organisation, a consortium's partners, or one prime
    kind: str  # its class: one of BIDDER_CLASSES
    price: float  # per unit of service
    unit_cost: float  # the bidder's own cost per unit for this lot
    quality: float
    social_value: float


def draw_lots(model: World, budget: float, rules: ProcurementConfig) -> list[Lot]:
    """Cut the contract budget into service lots with heavy-tailed values (lognormal) that
    sum to the budget; their number scales with the place (budget / mean lot value)."""
    rng = model.rng
    count = max(int(round(budget / rules.lot_value)), 1)
    sizes = rng.lognormal(0.0, rules.lot_dispersion, count)
    sizes *= budget / sizes.sum()
    relational = rng.random(count)
    return [Lot(float(b), float(r)) for b, r in zip(sizes, relational)]


def bundles(lots: list[Lot], size: int) -> list[tuple[Lot, ...]]:
    """Lots in tenders of ``size`` (the last may be smaller)."""
    return [tuple(lots[i:i + size]) for i in range(0, len(lots), size)]


def commons_bids(model: World, rules: ProcurementConfig, value: float, relational: float) -> list[Bid]:
    """Bids from commons organisations the council's commissioners reach, that show the track
    record asked for, hold the reserve and have room: alone, or as one consortium of those
    that cannot meet the lot alone, where consortia are allowed."""
    rng, commons = model.rng, model.config.commons
    orgs = model.orgs
    rows = orgs.live[orgs.died[orgs.live] < 0]  # not one closing this month
    if not len(rows):
        return []
    live = [model.organisations[i] for i in rows]
    experience = orgs.experience[rows].astype(float)
    cash = orgs.cash[rows]
    spare = orgs.spare_capacity(rows)
    # one draw per organisation: does the council's commissioning team reach it?
    reached = rng.random(len(live)) < model.council.commissioning_capacity
    cost = commons.delivery_cost * rng.lognormal(0.0, rules.cost_dispersion, len(live))
    price = cost * (1 + commons.bid_markup)
    quality = (commons.quality * (0.5 + 0.5 * np.minimum(experience / TRACK_RECORD_SPAN, 1.0))
               + commons.local_knowledge * relational)
    reserve = rules.risk_transfer * 12 * value
    known = reached & (experience >= rules.track_record_months)
    alone = known & (spare >= value / price) & (cash >= reserve)
    bids = [Bid([live[i]], "commons", float(price[i]), float(cost[i]), float(quality[i]), commons.local_share)
            for i in np.flatnonzero(alone)]
    if rules.consortia_allowed:
        rest = np.flatnonzero(known & ~alone & (spare > 0))
        partners = rest[np.argsort(-spare[rest], kind="stable")][:rules.consortium_size]
        if len(partners) >= 2:
            weight = spare[partners] / spare[partners].sum()
            unit_cost = float(weight @ cost[partners]) * (1 + rules.consortium_cost)
            joint_price = unit_cost * (1 + commons.bid_markup)
            if spare[partners].sum() >= value / joint_price and cash[partners].sum() >= reserve:
                bids.append(Bid([live[i] for i in partners], "consortium", joint_price, unit_cost,
                                float(weight @ quality[partners]), commons.local_share))
    return bids


def prime_bids(model: World, rules: ProcurementConfig, value: float) -> list[Bid]:
    """A bid from each prime that holds the reserve: scale economies lower its cost on large
    lots, and it prices below cost by its own underbid."""
    cfg = model.config.primes
    able = [p for p in model.primes if p.cash >= rules.risk_transfer * 12 * value]
    if not able:
        return []
    scale = (value / rules.lot_value) ** -cfg.scale_economies
    costs = cfg.unit_cost * scale * model.rng.lognormal(0.0, rules.cost_dispersion, len(able))
    return [Bid([p], "primes", float(c * (1 + cfg.margin - p.underbid)), float(c), cfg.quality, p.local_share)
            for p, c in zip(able, costs)]


def scores(model: World, rules: ProcurementConfig, bids: list[Bid], incumbents: set) -> np.ndarray:
    """Price (the cheapest gets full marks), quality and social value, weighted; the panel's
    error; and the incumbent's edge."""
    price = np.array([b.price for b in bids])
    quality = np.array([b.quality for b in bids])
    social = np.array([b.social_value for b in bids])
    incumbent = np.array([any(x in incumbents for x in b.bidders) for b in bids], dtype=float)
    return (rules.weight_price * price.min() / price + rules.weight_quality * quality
            + rules.weight_social_value * social + rules.incumbency_advantage * incumbent
            + model.rng.normal(0.0, rules.panel_noise, len(bids)))


def hold_tender(model: World, lots: tuple[Lot, ...], share: float, term: int,
                incumbents: set = frozenset()) -> list[Contract]:
    """Tender ``share`` of ``lots`` at today's contract budget for ``term`` months under the
    rules in force; the winner (a consortium's partners, by their room) holds the contracts."""
    council = model.council
    rules = model.national.procurement_rules(model.month)
    value = share * sum(lot.base for lot in lots) * council.contract_scale
    if value <= 0:  # a contract budget cut to nothing leaves nothing to let
        return []
    relational = sum(lot.base * lot.relational for lot in lots) / max(sum(lot.base for lot in lots), 1e-12)
    bids = commons_bids(model, rules, value, relational) + prime_bids(model, rules, value)
    record = council.record
    record["tenders"] += 1
    for bid in bids:
        record[f"bids_{bid.kind}"] += 1
    if not bids:
        record["tenders_unawarded"] += 1
        return []
    marks = scores(model, rules, bids, incumbents)
    best = np.flatnonzero(marks >= marks.max() - 1e-12)
    bid = bids[int(best[0] if len(best) == 1 else model.rng.choice(best))]
    record[f"wins_{bid.kind}"] += 1
    if any(x in incumbents for x in bid.bidders):
        record["wins_incumbent"] += 1
    start, end = model.month, model.month + max(term, 1)
    room = np.array([getattr(b, "spare_capacity", 1.0) for b in bid.bidders]) + 1e-9
    return [Contract(bidder, value * part, bid.price, bid.unit_cost, start, end, rules, lots, share * part)
            for bidder, part in zip(bid.bidders, room / room.sum())]
