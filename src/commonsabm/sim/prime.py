"""Prime contractors: large firms from outside the place.

Large reserves and scale economies let them bid low and win bundled lots. They deliver
with a casualised local workforce, subcontract part of the work to local organisations
at squeezed rates and pay late; their profit leaves the place. Underbidding raises the
chance a contract fails.
"""

from __future__ import annotations

import mesa

from commonsabm.sim.procurement import Contract, Subcontract
from commonsabm.sim.world import World


class PrimeContractor(mesa.Agent):
    sector = "primes"

    def __init__(self, model: World):
        super().__init__(model)
        cfg = model.config.primes
        self.cash = cfg.reserves
        # firms differ a little in how hard they underbid
        self.underbid = float(max(cfg.underbid * model.rng.uniform(0.75, 1.25), 0.0))
        self.local_share = cfg.local_share
        self.contracts: list[Contract] = []
        # ordered sets (dicts), so ending one is O(1) however many there are
        self.subcontracts: dict[Subcontract, None] = {}
        self.subcontracts_for: dict[Contract, list[Subcontract]] = {}
        self.revenue = 0.0
        self.costs = 0.0
        self.profit_out = 0.0
        self.alive = True

    def add_contract(self, contract: Contract) -> None:
        self.contracts.append(contract)

    def remove_contract(self, contract: Contract) -> None:
        """A contract ends: so do the subcontracts let under it."""
        self.contracts.remove(contract)
        for sub in self.subcontracts_for.pop(contract, []):
            self.end_subcontract(sub)

    @property
    def failure_hazard(self) -> float:
        cfg = self.model.config.primes
        return cfg.failure_base + cfg.underbid_failure * self.underbid

    def receive(self, payer, amount: float, channel: str) -> float:
        paid = self.model.ledger.pay(payer, self, amount, channel)
        self.revenue += paid
        return paid

    def start_month(self) -> None:
        self.revenue = 0.0
        self.costs = 0.0
        self.profit_out = 0.0

    def refer_work(self) -> None:
        """Each month, refer to local organisations the part of each contract's referral share
        not yet placed (work declined or ended since), on the contract's own terms."""
        for contract in self.contracts:
            placed = len(self.subcontracts_for.get(contract, ()))
            if placed < contract.rules.subcontractors:
                self.subcontract(contract, placed)

    def subcontract(self, contract: Contract, placed: int = 0) -> None:
        """Refer part of a contract to a few local organisations, on the contract's terms.

        A prime knows only some local organisations: it approaches
        ``subcontract_approaches`` of them at random, those with most room first, offers
        each what it still wants to pass on, and stops at ``subcontractors`` partners. Each
        takes the part it has room and cash for (``CommonsOrganisation.take_part``); the
        council's record counts offers, acceptances (whole or in part) and declines by reason.
        """
        rules, record = contract.rules, self.model.council.record
        wanted = rules.subcontract_share * contract.units - sum(
            s.units for s in self.subcontracts_for.get(contract, ()))
        live = self.model.live_organisations
        if not live or wanted <= 1e-9:
            return
        picked = self.model.rng.choice(len(live), size=min(rules.subcontract_approaches, len(live)), replace=False)
        approached = sorted((live[i] for i in picked), key=lambda o: o.spare_capacity, reverse=True)
        per_unit = rules.subcontract_rate * contract.price
        partners = placed
        for org in approached:
            if wanted <= 1e-9 or partners >= rules.subcontractors:
                break
            record["subcontract_offers"] += 1
            units, reason = org.take_part(min(wanted, org.spare_capacity), per_unit, rules.subcontract_payment_days)
            if reason:
                record[f"subcontract_declined_{reason}"] += 1
                continue
            record["subcontract_accepted"] += 1
            record["subcontract_partial"] += units < wanted - 1e-9
            sub = Subcontract(self, org, contract, per_unit * units, units)
            self.subcontracts[sub] = None
            self.subcontracts_for.setdefault(contract, []).append(sub)
            org.add_subcontract(sub)
            partners += 1
            wanted -= units

    def end_subcontract(self, sub: Subcontract) -> None:
        self.subcontracts.pop(sub, None)
        if sub.contract in self.subcontracts_for and sub in self.subcontracts_for[sub.contract]:
            self.subcontracts_for[sub.contract].remove(sub)
        if sub in sub.org.subcontracts:
            sub.org.remove_subcontract(sub)

    def deliver(self) -> None:
        """Pay for this month's delivery: subcontractors late, local casual staff, the rest outside."""
        ledger, economy = self.model.ledger, self.model.economy
        subcontracted = {id(c): 0.0 for c in self.contracts}
        for sub in self.subcontracts:  # on the terms of the contract it was let under
            self.model.payments.schedule(self, sub.org, sub.value, "subcontracts",
                                         sub.contract.rules.subcontract_payment_days)
            subcontracted[id(sub.contract)] = subcontracted.get(id(sub.contract), 0.0) + sub.units
        cost = sum(max(c.units - subcontracted[id(c)], 0.0) * c.unit_cost for c in self.contracts)
        local = cost * self.local_share
        wage_share = self.model.config.primes.local_wage_share
        self.costs = self.model.ledger.pay_wages(self, wage_share * local)
        self.costs += ledger.pay(self, economy.local_private, (1 - wage_share) * local, "supplies")
        self.costs += ledger.pay(self, economy.outside, cost - local, "supplies")
        self.costs += sum(s.value for s in self.subcontracts)  # owed now, paid late

    def send_profit_home(self) -> None:
        """The month's operating profit leaves the place for shareholders."""
        profit = self.revenue - self.costs
        if profit > 0:
            self.profit_out = self.model.ledger.pay(self, self.model.economy.outside, profit, "prime_profit")
