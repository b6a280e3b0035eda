"""The council: revenue, a budget split across channels, procurement and unmet need.

Revenue comes from the central grant (following the austerity path), council tax (with
capped rises) and retained business rates or devolved taxes. Care is protected; the
discretionary channels, grants to the voluntary sector and the commissioning staff who
know local groups, are cut first. Contracts are tendered, paid late, re-tendered when
they end, and re-procured at a cost when they fail.
"""

from __future__ import annotations

from collections import Counter

import mesa
import numpy as np

from commonsabm.sim.ledger import running_sum
from commonsabm.sim.procurement import Contract, Lot
from commonsabm.sim.register import KIND
from commonsabm.sim.tendering import bundles, draw_lots, hold_tender
from commonsabm.sim.terms import APRIL, CHANNELS, COUNCIL, DAYS_PER_MONTH, KINDS, REVENUES, months_for
from commonsabm.sim.world import World


class Council(mesa.Agent):
    sector = "council"

    def __init__(self, model: World):
        super().__init__(model)
        cfg = model.config
        n = model.citizens.n
        self.budget0 = (cfg.place.central_grant + cfg.place.council_tax) * n
        self.cash = cfg.council.reserves_months * self.budget0
        self.care0 = cfg.council.care_share_2010 * self.budget0
        self.other0 = self.budget0 - self.care0
        self.contract_budget = self.contract_budget0 = cfg.council.contracted_share * self.budget0
        self.tax_index = 1.0
        self.commissioning_capacity = 1.0
        self._unprotected = 1.0  # where cuts alone would have taken commissioning staff
        self.contracts: list[Contract] = []
        self.revenue = dict.fromkeys(REVENUES, 0.0)
        self.spending = dict.fromkeys(CHANNELS, 0.0)
        self.care_spending = 0.0
        self.need = self.delivered = 0.0
        self.volunteer_value0: float | None = None
        self.record: Counter = Counter()  # this month's tenders, bids, wins, failures, subcontract offers
        self.startup_pot = 0.0  # what is left of this financial year's start-up grants (notional)
        self.grants0: float | None = None  # the first month's grant budget, the base of cuts

    # ------------------------------------------------------------------ revenue
    def collect_revenue(self) -> float:
        model, cfg = self.model, self.model.config
        ledger, economy, national = model.ledger, model.economy, model.national
        n, month = model.citizens.n, model.month
        if month % 12 == APRIL and month > model.start_month:  # April: the yearly council tax rise
            self.tax_index *= 1 + cfg.council.council_tax_rise_cap
        self.revenue = dict.fromkeys(REVENUES, 0.0)
        rates = national.rates_retention(month) * cfg.place.business_rates * n * economy.turnover_index
        local_tax = cfg.devolution.local_tax_rate * economy.taxable_turnover
        self.revenue["business_rates"] = ledger.pay(economy.local_private, self, rates, "business_rates")
        self.revenue["local_tax"] = ledger.pay(economy.local_private, self, local_tax, "local_tax")
        devolved = self.revenue["business_rates"] + self.revenue["local_tax"]
        grant = max(cfg.place.central_grant * n * national.grant_index(month)
                    - cfg.devolution.grant_offset * devolved, 0.0)
        self.revenue["central_grant"] = ledger.pay(economy.outside, self, grant, "central_grant")
        # council tax is set now and collected once residents are paid; the budget counts on it
        return sum(self.revenue.values()) + self.council_tax_due

    @property
    def council_tax_due(self) -> float:
        return self.model.config.place.council_tax * self.model.citizens.n * self.tax_index

    def collect_council_tax(self) -> None:
        tax = float(self.model.citizens.pay_council_tax(self.council_tax_due).sum())
        self.model.ledger.receive_from_citizens(self, tax, "council_tax")
        self.revenue["council_tax"] = tax

    # ------------------------------------------------------------------ budget
    def set_budget(self, budget: float) -> dict[str, float]:
        """Split the month's budget: care first, then the discretionary channels, then services."""
        cfg = self.model.config
        council, commissioning = cfg.council, cfg.commissioning
        # care need grows from run.start; the spin-up before it runs at the 2010 level
        years = max(self.model.month - self.model.start_month, 0) / 12
        self.care_need = self.care0 * (1 + cfg.place.care_need_growth) ** years
        ratio = max(budget / self.budget0, 0.0)
        care = min(self.care_need * ratio ** council.care_budget_elasticity, 0.95 * budget)
        other = budget - care
        d = max(other / self.other0, 0.0)
        grants = min(council.grant_share * self.other0 * d ** council.grant_cut_elasticity, 0.5 * other)
        policy_on = self.model.national.commissioning_policy(self.model.month)
        self.commissioning_capacity = self.keep_commissioning_staff(
            d ** council.commissioning_cut_elasticity, commissioning.capacity_protection if policy_on else 0.0)
        staff_factor = self.commissioning_capacity
        channels = {
            "grants": grants,
            "commissioning": council.commissioning_share * self.other0 * staff_factor,
            "scaling": commissioning.scaling_share * other if commissioning.scale_what_works and policy_on else 0.0,
            "fund": self.model.fund.council_instalment(),
        }
        services = max(budget - sum(channels.values()), 0.0)
        self.care_spending = care
        self.contract_budget = council.contracted_share * services
        channels["contracts"] = sum(c.value for c in self.contracts if c.route == "tender")
        channels["in_house"] = max(services - channels["contracts"], 0.0)
        return channels

    def keep_commissioning_staff(self, unprotected: float, protection: float) -> float:
        """Commissioning staff follow the discretionary budget, first cut; protection spares
        that share of each further cut (not of cuts already made)."""
        previous, self._unprotected = self._unprotected, unprotected
        if protection <= 0:
            return float(min(unprotected, 1.0))
        change = unprotected / previous if previous > 0 else 1.0
        kept = self.commissioning_capacity * (change ** (1 - protection) if change < 1 else change)
        return float(min(kept, 1.0))

    def spend(self, channels: dict[str, float]) -> None:
        """Pay out each channel; contracts are paid after the council's payment days."""
        model, ledger = self.model, self.model.ledger
        economy = model.economy
        self.spending = dict.fromkeys(CHANNELS, 0.0)
        for contract in self.contracts:  # each on the payment days of the rules it was let under
            model.payments.schedule(self, contract.holder, contract.value, "contracts", contract.rules.payment_days)
        self.spending["contracts"] = channels["contracts"]
        in_house = min(channels["in_house"], self.cash)
        share = model.config.council.in_house_wage_share
        wages = share * in_house + channels["commissioning"]
        self.spending["in_house"] = in_house
        self.spending["commissioning"] = channels["commissioning"]
        model.ledger.pay_wages(self, wages, employer=COUNCIL)
        ledger.pay(self, economy.local_private, (1 - share) / 2 * in_house, "supplies")
        ledger.pay(self, economy.outside, (1 - share) / 2 * in_house, "supplies")
        self.spending["grants"] = self.award_grants(channels["grants"])
        if self.grants0 is None:
            self.grants0 = channels["grants"]
        self.spending["scaling"] = self.scale_what_works(channels["scaling"])
        if channels["fund"] > 0:
            self.spending["fund"] = model.fund.receive(self, channels["fund"], "fund_capital")

    @staticmethod
    def grants_to(kind: str) -> bool:
        """Whether the council gives this kind of organisation grants: co-ops trade, so none."""
        return kind != "coop"

    def award_grants(self, pot: float) -> float:
        """Grants to the voluntary sector: a share kept for new groups, the rest to applicants we know."""
        rng = self.model.rng
        keep = self.model.config.council.startup_pot_share
        self.open_startup_pot(keep * pot)
        orgs = self.model.orgs
        applicants = orgs.live[np.isin(orgs.kind[orgs.live], [KIND[k] for k in KINDS if self.grants_to(k)])]
        known = applicants[rng.random(len(applicants)) < self.commissioning_capacity]
        if not len(known):
            return 0.0
        need = orgs.overheads[known]
        if need.sum() <= 0:  # groups with no fixed costs to cover still apply: share alike
            need = np.ones(len(known))
        shares = (1 - keep) * pot * need / need.sum()
        paid = self.model.ledger.pay_out(self, orgs.cash, known, "commons", shares, "grants")
        orgs.book(known, paid, "grants")
        return running_sum(0.0, paid)

    def open_startup_pot(self, monthly: float) -> None:
        """Each April (and in the first simulated month) set the financial year's start-up pot.

        The pot is the year's share of the grant budget, set as budgets are, from the
        month's grant channel: twelve months of it in April, the months left to April in the
        first simulated month (the spin-up's first, or run.start without one). What the last
        year left unspent goes back to the general budget.
        The pot is notional, the money never leaves the council's cash until a start-up
        grant is paid through the ledger, so resetting it moves no money.
        """
        month = self.model.month
        if month % 12 == APRIL or month == self.model.first_month:
            self.startup_pot = monthly * ((APRIL - month) % 12 or 12)

    def startup_grant(self, amount: float) -> bool:
        """Fund a founder from this year's start-up pot, if it can."""
        if self.startup_pot < amount or self.cash < amount:
            return False
        self.startup_pot -= amount
        return True

    def scale_what_works(self, pot: float) -> float:
        """Parker's lever: direct awards to commons organisations that have shown they work.

        Each month the programme's budget, less the awards already running, is let as
        contracts of the usual term to proven organisations, by their room; they deliver
        and are paid as contracts, and count in every contract share. Returns the value
        a month of the awards running.
        """
        model = self.model
        direct = [c for c in self.contracts if c.route == "direct"]
        headroom = pot - sum(c.value for c in direct)
        orgs = model.orgs
        live = orgs.live[orgs.successful(orgs.live, model.month)]
        spare = orgs.spare_capacity(live)
        proven = [model.organisations[i] for i in live[spare > 0]]
        if headroom > 1e-9 and proven:
            commons = model.config.commons
            rules = model.national.procurement_rules(model.month)
            room = spare[spare > 0]
            term = int(round(rules.contract_years * 12))
            price = commons.delivery_cost * (1 + commons.bid_markup)
            for org, value in zip(proven, np.minimum(headroom * room / room.sum(), room * price)):
                contract = Contract(org, float(value), price, commons.delivery_cost, model.month,
                                    model.month + term, rules, route="direct")
                self.award(contract)
                direct.append(contract)
                self.record["direct_awards"] += 1
        return sum(c.value for c in direct)

    # ------------------------------------------------------------------ procurement
    def award(self, contract: Contract) -> None:
        contract.holder.add_contract(contract)
        self.contracts.append(contract)

    def tender(self, lots: tuple[Lot, ...], term_months: int, share: float = 1.0,
               incumbents: set = frozenset()) -> None:
        """Tender ``share`` of ``lots`` for ``term_months`` (``tendering.hold_tender``).

        A lot's base is its value at the first tender round, so a shrinking contract
        budget shrinks every lot as it is re-let.
        """
        for contract in hold_tender(self.model, lots, share, term_months, incumbents):
            self.award(contract)

    @property
    def contract_scale(self) -> float:
        return self.contract_budget / self.contract_budget0 if self.contract_budget0 else 0.0

    def let_first_contracts(self) -> None:
        """The first tender round: the contract budget cut into service lots, bundled as the
        rules say, with staggered terms."""
        model = self.model
        rules = model.national.procurement_rules(model.month)
        self.contract_budget0 = self.contract_budget
        tenders = bundles(draw_lots(model, self.contract_budget0, rules), rules.bundling)
        term = int(round(rules.contract_years * 12))
        for i, lots in enumerate(tenders):
            self.tender(lots, 1 + (i * term) // len(tenders))
        # contracts let before 2010 were already running: pay for the months delivered
        # before the run as they fall due, so the first months are not a payment holiday
        lag = months_for(rules.payment_days)
        for contract in self.contracts:
            for months_ago in range(lag):
                model.payments.schedule(self, contract.holder, contract.value, "contracts",
                                        months_ago * DAYS_PER_MONTH)

    def retender(self) -> None:
        """Re-tender contracts that have reached the end of their term under today's rules.

        Whole lots ending this month are bundled afresh as today's rules say (a reform that
        splits lots splits them here); a part of a lot (a failed consortium partner's,
        re-let) is re-let as it is. Holders of the lots are the incumbents. Direct awards
        are not re-tendered: the programme lets new ones from its budget.
        """
        month = self.model.month
        ending: dict[int, list] = {}  # the lots of each ending tender: [lots, share, holders]
        for contract in [c for c in self.contracts if c.end <= month]:
            self.terminate(contract, failed=False)
            if contract.route == "tender":
                group = ending.setdefault(id(contract.lots), [contract.lots, 0.0, set()])
                group[1] += contract.share
                group[2].add(contract.holder)
        if not ending:
            return
        rules = self.model.national.procurement_rules(month)
        term = int(round(rules.contract_years * 12))
        whole, held_by = [], {}
        for lots, share, holders in ending.values():
            if abs(share - 1.0) < 1e-9:
                whole.extend(lots)
                held_by.update({id(lot): holders for lot in lots})
            else:
                self.tender(lots, term, share, holders)
        for lots in bundles(whole, rules.bundling):
            self.tender(lots, term, 1.0, set().union(*(held_by[id(lot)] for lot in lots)))

    def terminate(self, contract: Contract, failed: bool) -> None:
        if contract in self.contracts:
            self.contracts.remove(contract)
        holder = contract.holder
        if contract in holder.contracts:
            holder.remove_contract(contract)
        if failed:
            self.record[f"failures_{holder.sector}"] += 1
            cost = self.model.config.council.failed_contract_cost * 12 * contract.value
            self.model.ledger.pay(self, self.model.economy.outside, cost, "failed_contracts")
            remaining = contract.end - self.model.month
            if remaining > 0 and contract.route == "tender":
                self.tender(contract.lots, remaining, contract.share)  # a failed holder is no incumbent

    def check_contracts(self) -> None:
        """Contracts fail at their holder's hazard: primes' rises with underbidding, commons'
        falls with their track record."""
        contracts = list(self.contracts)
        draws = self.model.rng.random(len(contracts))
        for contract, draw in zip(contracts, draws):
            if draw < contract.holder.failure_hazard:
                self.terminate(contract, failed=True)

    # ------------------------------------------------------------------ outcomes
    def assess_need(self, volunteer_value: float) -> None:
        """Need is care need plus the 2010 level of other services; delivery counts every channel."""
        commons = self.model.config.commons
        if self.volunteer_value0 is None:
            self.volunteer_value0 = volunteer_value
        self.need = self.care_need + self.other0 + self.volunteer_value0
        self.delivered = (self.spending["in_house"] + sum(c.units for c in self.contracts)
                          + self.spending["grants"] / commons.delivery_cost
                          + volunteer_value)

    @property
    def unmet_need(self) -> float:
        return float(np.clip(1 - self.delivered / self.need, 0.0, 1.0)) if self.need else 0.0
