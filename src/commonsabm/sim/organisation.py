"""Commons organisations: co-operatives, community businesses and voluntary groups.

Each is a Mesa agent with cash, staff, volunteers, delivery capacity and a track record.
Money reaches it through the ledger from citizens (trading, donations), the council
(grants, contracts), primes (subcontracts) and the social investment fund (loans). It
closes by its kind's routes: when it cannot pay its way for longer than its kind can bear,
when a kind run by volunteers has too few of them for too long, or when its volunteers burn
out.
"""

from __future__ import annotations

from collections.abc import Mapping

import mesa
import numpy as np

from commonsabm.sim import bookkeeping
from commonsabm.sim.register import SOURCE, VOLUNTEER_DELIVERY_CAP
from commonsabm.sim.terms import CAUSES, TRACK_RECORD_SPAN, TRADING, months_for
from commonsabm.sim.world import World

class Column:
    """An attribute kept in the register's column of the same name, at the organisation's row."""

    def __init__(self, cast=float):
        self.cast = cast

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, org, owner=None):
        if org is None:
            return self
        return self.cast(getattr(org.register, self.name)[org.index])

    def __set__(self, org, value) -> None:
        getattr(org.register, self.name)[org.index] = value


class Sources(Mapping):
    """An organisation's income by source (its row of a register table), read and written as a dict."""

    def __init__(self, table, row: int):
        self.table, self.row = table, row

    def __getitem__(self, source: str) -> float:
        return float(self.table[self.row, SOURCE[source]])

    def __setitem__(self, source: str, amount: float) -> None:
        self.table[self.row, SOURCE[source]] = amount

    def __iter__(self):
        return iter(SOURCE)

    def __len__(self) -> int:
        return len(SOURCE)

    def values(self) -> list[float]:
        return self.table[self.row].tolist()

    def items(self) -> list[tuple[str, float]]:
        return list(zip(SOURCE, self.values()))

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class CommonsOrganisation(mesa.Agent):
    sector = "commons"
    cash = Column()
    scale = Column()
    overheads = Column()
    capacity = Column()
    staff = Column()
    burnout = Column()
    volunteer_hours = Column()
    hours_offered = Column()  # what its volunteers offered this month, before what it could use
    loan = Column()
    loan_payment = Column()
    committed = Column()  # service value a month promised under contracts and subcontracts, kept current
    delivery_due = Column()  # what delivering them costs a month, before volunteers
    price = Column()  # a trader's price relative to local firms' and chains' (sim.market)
    units_sold = Column()  # this month's trading sales at those firms' prices: its cost of sales
    custom_in_hand = Column()  # units its trading custom took last month (see spare_capacity)
    # everything booked this month whatever its channel, so that a payment under a channel
    # revenue does not know (and so drops) shows against revenue by source
    received = Column()
    costs = Column()
    surplus_before_staff = Column()
    nbhd = Column(int)
    born = Column(int)
    experience = Column(int)  # months of delivering contracted or granted services
    months_unpaid = Column(int)
    months_dormant = Column(int)  # months in a row with fewer active volunteers than its kind needs
    members = Column(int)
    volunteers = Column(int)
    missed_repayments = Column(int)
    paying_its_way = Column(bool)
    defaulted = Column(bool)  # a borrower that defaulted gets no second loan

    def __init__(self, model: World, kind: str, nbhd: int, cash: float = 0.0):
        super().__init__(model)
        self.register = model.orgs
        self.index = self.register.add(kind)  # its row, and its position in model.organisations
        self.kind = kind
        self.nbhd = nbhd
        self.born = model.month
        self.cause: str | None = None
        self.founded_with = "before the run"  # how a founding during the run raised its start-up money
        self.cash = cash
        self.commons_config = model.config.commons  # read every month, so kept at hand
        self.kind_config = getattr(model.config.commons, kind)
        # organisations differ in size and running costs around their type's typical values
        self.scale = float(model.rng.lognormal(0.0, model.config.commons.size_dispersion))
        self.overheads = self.kind_config.overheads * self.scale
        self.capacity = self.kind_config.capacity * self.scale
        self.contracts: list = []  # direct contracts held; change them through add_/remove_ below
        self.subcontracts: list = []

    @property
    def died(self) -> int | None:
        month = int(self.register.died[self.index])
        return None if month < 0 else month

    @died.setter
    def died(self, month: int | None) -> None:
        self.register.died[self.index] = -1 if month is None else month

    @property
    def revenue(self) -> Sources:
        """This month's income by source."""
        return Sources(self.register.revenue, self.index)

    @property
    def revenue_total(self) -> Sources:
        return Sources(self.register.revenue_total, self.index)

    @property
    def history(self) -> list[tuple[float, float, float]]:
        """The last twelve months' (revenue, costs, wages), oldest first."""
        return self.register.history_of(self.index)

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
        self.register.work[self.index] = len(work)

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
        return float(self.register.capacity_for_trade(np.array([self.index]))[0])

    @property
    def spare_capacity(self) -> float:
        """Room for more contracted work: capacity less contracts and last month's custom
        (``Register.spare_capacity``)."""
        return float(self.register.spare_capacity(np.array([self.index]))[0])

    @property
    def successful(self) -> bool:
        """Visible success that teaches others: established and paying its way."""
        return bool(self.register.successful(np.array([self.index]), self.model.month)[0])

    @property
    def monthly_costs(self) -> float:
        return self.overheads + self.staff * self.model.config.commons.staff_wage

    def _one(self, column) -> float:
        """A register calculation over whole columns, for this organisation's row alone."""
        return column(self.model.config, np.array([self.index]))[0].item()

    @property
    def room(self) -> int:
        """Places for new volunteers; none while it is offered more hours than it can use."""
        return self._one(self.register.room)

    @property
    def usable_hours(self) -> float:
        """Volunteer hours a month it can organise: its places, its share of delivering
        contracted work, and what its paid staff can organise (``sim.volunteering``)."""
        return self._one(self.register.usable_hours)

    # ------------------------------------------------------------------ behaviours
    def receive(self, payer, amount: float, source: str) -> float:
        paid = self.model.ledger.pay(payer, self, amount, source)
        self.book(paid, source)
        return paid

    def book(self, amount: float, source: str) -> None:
        """Record income by source (founders' own capital is not revenue)."""
        register, row = self.register, self.index  # its row, written directly: many payments a month
        register.received[row] += amount
        if source in SOURCE:
            register.revenue[row, SOURCE[source]] += amount
            register.revenue_total[row, SOURCE[source]] += amount

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
        rows = np.array([self.index])
        experience, capacity = bookkeeping.learned(self.model.config, self.register, rows, self.register.staff[rows])
        self.experience, self.capacity = int(experience[0]), float(capacity[0])

    @property
    def hours_asked(self) -> float:
        """Volunteer hours a month the organisation leans on: running it (its kind's core
        hours, scaled to its size) and its share of delivering contracted work, less what
        paid staff take off volunteers' hands."""
        return self._one(self.register.hours_asked)

    @property
    def load(self) -> float:
        """Hours each active volunteer carries a month, relative to ``behaviour.burnout_hours``.

        Each carries what the organisation asks of them or what they give, whichever is more:
        few volunteers for its size stretch each one, and long hours tire whoever gives them.
        """
        return self._one(self.register.load)

    def strain(self) -> None:
        """Burnout, the share of its volunteers worn out, follows the load smoothly.

        At a load of one (``burnout_hours`` each) half of them are worn out, and the share
        rises with the load without a threshold (a logistic in the log of the load); it
        moves towards that level by ``burnout_recovery`` of the gap a month, so a spell of
        overload builds up and wears off slowly.
        """
        rows = np.array([self.index])
        self.burnout = float(bookkeeping.strained(self.model.config, self.register, rows, self.register.staff[rows])[0])

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
        had fewer than it needs for long enough to be dormant; burnout, a hazard
        (``bookkeeping.closing``)."""
        rows = np.array([self.index])
        cause, dormant, _ = bookkeeping.closing(self.model, rows, self.register.months_unpaid[rows],
                                                self.register.burnout[rows])
        self.months_dormant = int(dormant[0])
        return None if cause[0] == bookkeeping.NO_CAUSE else CAUSES[cause[0]]

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
        self.register.close(self.index)  # a closed organisation keeps only its record for the outputs
        self.remove()
