"""The commons organisations' month-end books, over the register's rows at once.

Each live organisation, in register order, may borrow from the fund, pays its overheads,
delivery, wages and loan repayments, closes its books on the year, adjusts its staff,
learns, wears its volunteers and may close (docs/ODD.md §3). Almost all of that depends on
its own row only, so it is done for a run of rows at once. Three things couple one
organisation to the next, and split the run:

- the fund: whether it can lend to one depends on what it lent to and was repaid by those
  before it this month, so a borrower, or an applicant the board would back, is done alone;
- a closure that hands contracts back: the council re-lets them at once, possibly to an
  organisation later in the month's order, before that one pays its costs, so the run ends
  at the closure and the next starts after it;
- the random stream: a draw for burnout closures is taken in register order, among the
  organisations whose hazard is positive, as before any re-letting's draws.

Payments go through the ledger's batch path (``Ledger.pay_rows``), which books them in
the same order as one payment at a time.
"""

from __future__ import annotations

import numpy as np

from commonsabm.sim.register import HISTORY_MONTHS, SOURCE, VOLUNTEER_DELIVERY_CAP
from commonsabm.sim.terms import CAUSES
from commonsabm.sim.world import World

NO_CAUSE = -1
LOANS, GRANTS, TRADING = SOURCE["loans"], SOURCE["grants"], SOURCE["trading"]


def keep_books(model: World) -> None:
    """Every live organisation's month, in register order (``CommonsModel.run_organisations``)."""
    orgs = list(model.live_organisations)
    rows = model.orgs.live.copy()
    alone = with_the_fund(model, orgs, rows)
    start = 0
    while start < len(orgs):
        if alone[start]:
            org = orgs[start]
            fund = model.fund
            if fund.opened and org.loan == 0 and (org.cash < 3 * org.monthly_costs or org.age < 36):
                fund.lend(org)
            start += settle(model, orgs[start:start + 1], rows[start:start + 1])
        else:
            end = start + 1 + int(np.argmax(np.append(alone[start + 1:], True)))
            start += settle(model, orgs[start:end], rows[start:end])


def with_the_fund(model: World, orgs: list, rows: np.ndarray) -> np.ndarray:
    """Organisations whose month involves the fund: borrowers repaying, and applicants the
    board would back if it has the money (its score depends on their own accounts only)."""
    reg, fund = model.orgs, model.fund
    alone = reg.loan_payment[rows] > 0
    if fund.opened:
        wage = model.config.commons.staff_wage
        applies = ((reg.loan[rows] == 0) & ~reg.defaulted[rows]
                   & ((reg.cash[rows] < 3 * (reg.overheads[rows] + reg.staff[rows] * wage))
                      | (model.month - reg.born[rows] < 36)))
        threshold = fund.config.approval_threshold
        for i in np.flatnonzero(applies):
            alone[i] |= fund.score(orgs[i]) >= threshold
    return alone


def settle(model: World, orgs: list, rows: np.ndarray) -> int:
    """Do the month of a run of organisations up to and including the first whose closure
    hands contracts back; returns how many were done."""
    reg, commons = model.orgs, model.config.commons
    # costs: volunteers cover part of delivery; supplies are bought locally and outside
    delivery = reg.delivery_due[rows]
    volunteer_input = np.minimum(reg.volunteer_hours[rows] * commons.volunteer_hour_value,
                                 VOLUNTEER_DELIVERY_CAP * delivery)
    supplies = (reg.overheads[rows] + delivery - volunteer_input
                + commons.trading_cost * reg.units_sold[rows])
    wages = reg.staff[rows] * commons.staff_wage
    repayment = reg.loan_payment[rows]
    owed = supplies + wages + repayment
    bills = np.stack([supplies * commons.local_share, supplies * (1 - commons.local_share),
                      wages, repayment], axis=1)
    paid, _ = model.ledger.payable(reg.cash[rows], bills)
    total = paid[:, 0] + paid[:, 1] + paid[:, 2] + paid[:, 3]
    unpaid = np.where(total < owed - 1e-6, reg.months_unpaid[rows] + 1, 0)
    # the year's accounts: this month's revenue (loans are not revenue), costs and wages
    revenue = np.add.accumulate(reg.revenue[rows], axis=1)[:, -1] - reg.revenue[rows, LOANS]
    count = reg.history_count[rows] + 1
    history = reg.history[rows]
    history[np.arange(len(rows)), (count - 1) % HISTORY_MONTHS] = np.stack([revenue, owed, wages], axis=1)
    year = reg.year_sums(rows, history, count)
    paying = year[:, 0] >= year[:, 1]
    surplus = (year[:, 0] - year[:, 1] + year[:, 2]) / np.minimum(count, HISTORY_MONTHS)
    staff = adjusted_staff(reg.staff[rows], surplus, unpaid, commons.staff_wage)
    experience, capacity = learned(model.config, reg, rows, staff)
    burnout = strained(model.config, reg, rows, staff)
    cause, dormant, draws = closing(model, rows, unpaid, burnout)
    # the run ends at the first closure that hands contracts back to the council
    ends = [i for i in np.flatnonzero(cause != NO_CAUSE) if orgs[i].contracts]
    done = ends[0] + 1 if ends else len(rows)
    if done < len(rows):
        draws.keep(int((draws.drawn[:done]).sum()))
    part = slice(0, done)
    rows = rows[:done]
    model.ledger.pay_rows(reg.cash, rows, "commons", bills[part], (
        model.economy.local_private, model.economy.outside, None, model.fund),
        ("supplies", "supplies", "wages", "loan_repayments"))
    reg.costs[rows] = total[part]
    reg.months_unpaid[rows] = unpaid[part]
    reg.history[rows] = history[part]
    reg.history_count[rows] = count[part]
    reg.paying_its_way[rows] = paying[part]
    reg.surplus_before_staff[rows] = surplus[part]
    reg.staff[rows] = staff[part]
    reg.experience[rows] = experience[part]
    reg.capacity[rows] = capacity[part]
    reg.burnout[rows] = burnout[part]
    reg.months_dormant[rows] = dormant[part]
    for i in np.flatnonzero(repayment[part] > 0):
        model.fund.repaid(orgs[i], float(paid[i, 3]))
    for i in np.flatnonzero(cause[part] != NO_CAUSE):
        model.close(orgs[i], CAUSES[cause[i]])
    return done


def adjusted_staff(staff: np.ndarray, surplus: np.ndarray, unpaid: np.ndarray, wage: float) -> np.ndarray:
    """Hire towards what a lasting surplus pays for; shed staff when bills go unpaid."""
    target = np.maximum(0.8 * surplus / wage, 0.0)
    staff = staff + 0.25 * (target - staff)
    return np.where(unpaid > 0, staff * 0.8, staff)


def learned(config, reg, rows: np.ndarray, staff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Delivery builds a track record, and capacity grows with experience."""
    commons = config.commons
    delivering = ((reg.work[rows] > 0) | (reg.revenue[rows, GRANTS] > 0) | (reg.revenue[rows, TRADING] > 0))
    experience = reg.experience[rows] + delivering
    base = reg.by_kind(config, "capacity")[reg.kind[rows]] * reg.scale[rows]
    capacity = (base * (1 + commons.capacity_growth * np.minimum(experience, 120) / 12)
                + staff * commons.staff_wage)
    return experience, capacity


def strained(config, reg, rows: np.ndarray, staff: np.ndarray) -> np.ndarray:
    """Burnout, the share of volunteers worn out, moves towards a logistic in the log of the
    load (``CommonsOrganisation.strain``)."""
    load_sq = reg.load(config, rows, staff) ** 2
    target = load_sq / (1 + load_sq)
    burnout = reg.burnout[rows]
    return burnout + config.behaviour.burnout_recovery * (target - burnout)


class Draws:
    """The burnout draws of a run, taken in one call; ``keep`` puts back those past a cut."""

    def __init__(self, rng, drawn: np.ndarray):
        self.rng, self.drawn = rng, drawn
        self.state = rng.bit_generator.state if drawn.any() else None
        self.values = rng.random(int(drawn.sum()))

    def keep(self, count: int) -> None:
        if count < len(self.values):
            self.rng.bit_generator.state = self.state
            self.rng.random(count)


def closing(model: World, rows: np.ndarray, unpaid: np.ndarray,
            burnout: np.ndarray) -> tuple[np.ndarray, np.ndarray, Draws]:
    """Each organisation's cause of closure (an index into ``terms.CAUSES``, or NO_CAUSE),
    its months dormant, and the draws taken (``CommonsOrganisation.fails``)."""
    reg, config = model.orgs, model.config
    kinds = reg.kind[rows]
    cash = unpaid > reg.by_kind(config, "cash_months_bearable")[kinds]
    needed = reg.by_kind(config, "min_volunteers")[kinds]
    dormant = reg.months_dormant[rows]
    counted = ~cash & (needed > 0)
    dormant = np.where(counted, np.where(reg.volunteers[rows] < needed, dormant + 1, 0), dormant)
    quiet = counted & (dormant >= reg.by_kind(config, "dormant_months")[kinds])
    # a hazard, not a threshold; a draw only when it can close, so that a zero hazard leaves
    # the random stream as it was
    hazard = config.behaviour.burnout_closure * burnout
    draws = Draws(model.rng, ~cash & ~quiet & (hazard > 0))
    worn = np.zeros(len(rows), dtype=bool)
    worn[draws.drawn] = draws.values < hazard[draws.drawn]
    cause = np.full(len(rows), NO_CAUSE)
    cause[worn] = CAUSES.index("burnout")
    cause[quiet] = CAUSES.index("volunteers")
    cause[cash] = CAUSES.index("cash")
    return cause, dormant, draws
