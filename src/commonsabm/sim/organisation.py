"""Commons organisations: co-operatives, community businesses and voluntary groups.

Each is a Mesa agent with cash, staff, volunteers, delivery capacity and a track record.
Money reaches it through the ledger from citizens (trading, donations), the council
(grants, contracts), primes (subcontracts) and the social investment fund (loans). It
closes by its kind's routes: when it cannot pay its way for longer than its kind can bear,
when a kind run by volunteers has too few of them for too long, or when its volunteers burn
out.
"""

from __future__ import annotations

from collections import deque
import mesa

from commonsabm.sim.terms import SOURCES, TRACK_RECORD_SPAN, TRADING, months_for
from commonsabm.sim.world import World

# volunteers may cover up to this share of the cost of delivering contracted work
VOLUNTEER_DELIVERY_CAP = 0.5


class CommonsOrganisation(mesa.Agent):
    sector = "commons"

    def __init__(self, model: World, kind: str, nbhd: int, cash: float = 0.0):
        super().__init__(model)
        self.kind = kind
        self.nbhd = nbhd
        self.index = len(model.organisations)  # position in the model's register, used by residents
        self.born = model.month
        self.died: int | None = None
        self.cause: str | None = None
        self.founded_with = "before the run"  # how a founding during the run raised its start-up money
        self.cash = cash
        self.commons_config = model.config.commons  # read every month, so kept at hand
        self.kind_config = getattr(model.config.commons, kind)
        # organisations differ in size and running costs around their type's typical values
        self.scale = float(model.rng.lognormal(0.0, model.config.commons.size_dispersion))
        self.overheads = self.kind_config.overheads * self.scale
        self.capacity = self.kind_config.capacity * self.scale
        self.staff = 0.0
        self.experience = 0  # months of delivering contracted or granted services
        self.months_unpaid = 0
        self.months_dormant = 0  # months in a row with fewer active volunteers than its kind needs
        self.burnout = 0.0
        self.members = 0
        self.volunteers = 0
        self.volunteer_hours = 0.0
        self.hours_offered = 0.0  # what its volunteers offered this month, before what it could use
        self.loan = 0.0
        self.loan_payment = 0.0
        self.missed_repayments = 0
        self.defaulted = False  # a borrower that defaulted gets no second loan
        self.contracts: list = []  # direct contracts held; change them through add_/remove_ below
        self.subcontracts: list = []
        self.committed = 0.0  # service value a month promised under both, kept current
        self.delivery_due = 0.0  # what delivering them costs a month, before volunteers
        self.price = 1.0  # a trader's price relative to local firms' and chains' (sim.market)
        self.units_sold = 0.0  # this month's trading sales at those firms' prices: its cost of sales
        self.custom_in_hand = 0.0  # units its trading custom took last month (see spare_capacity)
        self.revenue = dict.fromkeys(SOURCES, 0.0)  # this month
        self.revenue_total = dict.fromkeys(SOURCES, 0.0)
        # everything booked this month whatever its channel, so that a payment under a channel
        # revenue does not know (and so drops) shows against revenue by source
        self.received = 0.0
        self.costs = 0.0
        self.history: deque[tuple[float, float, float]] = deque(maxlen=12)  # (revenue, costs, wages)
        self.paying_its_way = False
        self.surplus_before_staff = 0.0

    # ------------------------------------------------------------------ state
    @property
    def alive(self) -> bool:
        return self.died is None

    @property
    def age(self) -> int:
        return self.model.month - self.born

    @property
    def trading(self) -> bool:
        return self.kind in TRADING

    def _recount(self) -> None:
        # summed afresh (not incremented) so that the totals do not drift with rounding
        work = self.contracts + self.subcontracts
        self.committed = sum(c.value for c in self.contracts) + sum(s.value for s in self.subcontracts)
        self.delivery_due = sum(c.delivery_cost for c in work)

    def add_contract(self, contract) -> None:
        self.contracts.append(contract)
        self._recount()

    def remove_contract(self, contract) -> None:
        self.contracts.remove(contract)
        self._recount()

    def add_subcontract(self, sub) -> None:
        self.subcontracts.append(sub)
        self._recount()

    def remove_subcontract(self, sub) -> None:
        self.subcontracts.remove(sub)
        self._recount()

    @property
    def unit_cost(self) -> float:
        return self.model.config.commons.delivery_cost

    @property
    def capacity_for_trade(self) -> float:
        """What it can sell to residents this month: contracted work takes the rest."""
        return max(self.capacity - self.committed, 0.0)

    @property
    def spare_capacity(self) -> float:
        """Room for more contracted work: what neither its contracts nor its custom take.

        A trader's custom uses the same capacity (its premises, staff and volunteers) as
        contracted work, so a trader that sold at capacity last month has no room for a
        contract or subcontract: taking one would turn its customers away (docs/ODD.md §7.8).
        """
        return max(self.capacity - self.committed - self.custom_in_hand, 0.0)

    @property
    def successful(self) -> bool:
        """Visible success that teaches others: established and paying its way."""
        if self.age < 24 or self.months_unpaid > 0 or len(self.history) < 6:
            return False
        return self.paying_its_way

    @property
    def monthly_costs(self) -> float:
        return self.overheads + self.staff * self.model.config.commons.staff_wage

    @property
    def room(self) -> int:
        """Places for new volunteers; none while it is offered more hours than it can use."""
        if self.hours_offered > self.usable_hours:
            return 0
        return max(int(self.kind_config.volunteer_room * self.scale) - self.members, 0)

    @property
    def usable_hours(self) -> float:
        """Volunteer hours a month it can organise: its places, its share of delivering
        contracted work, and what its paid staff can organise (``sim.volunteering``)."""
        commons = self.commons_config
        places = self.kind_config.volunteer_room * self.scale
        delivery = VOLUNTEER_DELIVERY_CAP * self.delivery_due / max(commons.volunteer_hour_value, 1e-9)
        return places * commons.hours_per_place + delivery + self.staff * commons.organiser_hours

    # ------------------------------------------------------------------ behaviours
    def receive(self, payer, amount: float, source: str) -> float:
        paid = self.model.ledger.pay(payer, self, amount, source)
        self.book(paid, source)
        return paid

    def book(self, amount: float, source: str) -> None:
        """Record income by source (founders' own capital is not revenue)."""
        self.received += amount
        if source in self.revenue:
            self.revenue[source] += amount
            self.revenue_total[source] += amount

    def start_month(self) -> None:
        self.revenue = dict.fromkeys(SOURCES, 0.0)
        self.received = 0.0
        self.costs = 0.0
        self.custom_in_hand = self.units_sold
        self.units_sold = 0.0

    def pay_costs(self) -> None:
        """Pay overheads, staff, delivery and loan repayments; record a month unpaid if cash runs out."""
        commons = self.commons_config
        delivery = self.delivery_due
        volunteer_input = min(self.volunteer_hours * commons.volunteer_hour_value,
                              VOLUNTEER_DELIVERY_CAP * delivery)
        supplies = (self.overheads + delivery - volunteer_input
                    + commons.trading_cost * self.units_sold)
        wages = self.staff * commons.staff_wage
        owed = supplies + wages + self.loan_payment
        model = self.model
        ledger, economy = model.ledger, model.economy
        paid = ledger.pay(self, economy.local_private, supplies * commons.local_share, "supplies")
        paid += ledger.pay(self, economy.outside, supplies * (1 - commons.local_share), "supplies")
        paid += model.ledger.pay_wages(self, wages)
        if self.loan_payment > 0:
            repaid = ledger.pay(self, model.fund, self.loan_payment, "loan_repayments")
            model.fund.repaid(self, repaid)
            paid += repaid
        self.costs = paid
        self.months_unpaid = self.months_unpaid + 1 if paid < owed - 1e-6 else 0
        self.history.append((sum(self.revenue.values()) - self.revenue["loans"], owed, wages))
        self._review_year()

    def _review_year(self) -> None:
        """After each month's accounts: does the last year's revenue cover its costs, and
        what does it leave before staff costs, on average?"""
        revenue = costs = wages = 0.0
        for r, c, w in self.history:
            revenue += r
            costs += c
            wages += w
        self.paying_its_way = revenue >= costs
        self.surplus_before_staff = (revenue - costs + wages) / len(self.history)

    def adjust_staff(self) -> None:
        """Hire towards what a lasting surplus pays for; shed staff when bills go unpaid."""
        if not self.history:
            return
        target = max(0.8 * self.surplus_before_staff / self.commons_config.staff_wage, 0.0)
        self.staff += 0.25 * (target - self.staff)
        if self.months_unpaid:
            self.staff *= 0.8

    def take_part(self, units: float, value_per_unit: float, payment_days: float) -> tuple[float, str | None]:
        """How much of a prime's subcontract offer to take, and why not more.

        It takes what it has room for and what its cash can carry until the late payment
        arrives, provided the work does not lose more than it can bear for its mission
        (volunteers may cover up to half the delivery cost). A part below a tenth of the
        offer is not worth the paperwork: that is a decline, for the reason that cut it.
        Returns (units taken, None) or (0, "capacity" | "cash" | "loss").
        """
        commons = self.commons_config
        room = min(units, self.spare_capacity)
        if room <= 0 or room < 0.1 * units:
            return 0.0, "capacity"
        lag = months_for(payment_days)
        bridged = self.cash / (self.unit_cost * lag) if lag > 0 else room
        taken = min(room, max(bridged, 0.0))
        if taken < 0.1 * units:
            return 0.0, "cash"
        cost = taken * self.unit_cost
        volunteers = min(self.volunteer_hours * commons.volunteer_hour_value, VOLUNTEER_DELIVERY_CAP * cost)
        if (taken * value_per_unit + volunteers - cost) / cost < -commons.subcontract_loss_tolerance:
            return 0.0, "loss"
        return taken, None

    @property
    def failure_hazard(self) -> float:
        """Monthly chance a contract it holds fails: high with no track record, halving with
        every two years of delivery."""
        return self.commons_config.contract_failure * 0.5 ** (self.experience / TRACK_RECORD_SPAN)

    def learn(self) -> None:
        """Delivery builds a track record, and capacity grows with experience."""
        if self.contracts or self.subcontracts or self.revenue["grants"] > 0 or self.revenue["trading"] > 0:
            self.experience += 1
        commons = self.commons_config
        self.capacity = (self.kind_config.capacity * self.scale
                         * (1 + commons.capacity_growth * min(self.experience, 120) / 12)
                         + self.staff * commons.staff_wage)

    @property
    def hours_asked(self) -> float:
        """Volunteer hours a month the organisation leans on: running it (its kind's core
        hours, scaled to its size) and its share of delivering contracted work, less what
        paid staff take off volunteers' hands."""
        commons = self.commons_config
        delivery = VOLUNTEER_DELIVERY_CAP * self.delivery_due / max(commons.volunteer_hour_value, 1e-9)
        return (self.kind_config.core_hours * self.scale + delivery) / (1 + self.staff)

    @property
    def load(self) -> float:
        """Hours each active volunteer carries a month, relative to ``behaviour.burnout_hours``.

        Each carries what the organisation asks of them or what they give, whichever is more:
        few volunteers for its size stretch each one, and long hours tire whoever gives them.
        """
        carried = max(self.hours_asked, self.volunteer_hours) / max(self.volunteers, 1)
        return carried / max(self.model.config.behaviour.burnout_hours, 1e-9)

    def strain(self) -> None:
        """Burnout, the share of its volunteers worn out, follows the load smoothly.

        At a load of one (``burnout_hours`` each) half of them are worn out, and the share
        rises with the load without a threshold (a logistic in the log of the load); it
        moves towards that level by ``burnout_recovery`` of the gap a month, so a spell of
        overload builds up and wears off slowly.
        """
        load_sq = self.load ** 2
        target = load_sq / (1 + load_sq)
        self.burnout += self.model.config.behaviour.burnout_recovery * (target - self.burnout)

    def share_surplus(self) -> float:
        """Co-ops pay part of a comfortable surplus to their members as a dividend."""
        if self.kind != "coop" or not self.history:
            return 0.0
        revenue, costs, _ = self.history[-1]
        if self.cash < 6 * self.monthly_costs or revenue <= costs:
            return 0.0
        return self.model.config.commons.coop_dividend * (revenue - costs)

    def fails(self) -> str | None:
        """Its kind's routes to closure (``terms.CAUSES``): cash, when it has been unable to
        pay its costs for longer than its kind bears; volunteers, when a kind run by them has
        had fewer than it needs for long enough to be dormant; burnout, a hazard."""
        kind = self.kind_config
        if self.months_unpaid > kind.cash_months_bearable:
            return "cash"
        if kind.min_volunteers > 0:
            self.months_dormant = self.months_dormant + 1 if self.volunteers < kind.min_volunteers else 0
            if self.months_dormant >= kind.dormant_months:
                return "volunteers"
        # a hazard, not a threshold: worn-out volunteers make a group likelier to fold, more so
        # the more of them are worn out (a draw only when it can close, so that a zero hazard
        # leaves the random stream as it was)
        hazard = self.model.config.behaviour.burnout_closure * self.burnout
        if hazard > 0 and self.model.rng.random() < hazard:
            return "burnout"
        return None

    def close(self, cause: str) -> None:
        """Close: contracts return to the council and loans default.

        Its members are released, and what cash is left is shared among them, by the
        model for all of the month's closures at once (``World.wind_up``).
        """
        self.died = self.model.month
        self.cause = cause
        for contract in list(self.contracts):
            self.model.council.terminate(contract, failed=True)
        for sub in list(self.subcontracts):
            sub.prime.end_subcontract(sub)
        if self.loan > 0:
            self.model.fund.default(self)
        self.history.clear()  # a closed organisation keeps only its record for the outputs
        self.remove()
