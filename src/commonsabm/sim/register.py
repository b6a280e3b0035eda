"""The register of commons organisations: their numeric state as arrays, one row each.

Every organisation ever registered has a row (its ``index``), alive or closed; ``live`` lists
the rows of the live ones in the order they were registered, the order the month's
bookkeeping goes through them. A ``CommonsOrganisation`` is a Mesa agent and a thin view
over its row (``Column``), so Mesa's agent sets, the explorer and ``mesa.batch_run`` see
agents as before while the monthly bookkeeping (``sim.bookkeeping``), the market, volunteering
and the reporters work on whole columns at once (as ``sim.citizens`` does for residents).
"""

from __future__ import annotations

import numpy as np

from commonsabm.sim.terms import KINDS, SOURCES

HISTORY_MONTHS = 12  # the accounts an organisation keeps: a year of (revenue, costs, wages)
REVENUE, COSTS, WAGES = range(3)
SOURCE = {s: i for i, s in enumerate(SOURCES)}
KIND = {k: i for i, k in enumerate(KINDS)}
# volunteers may cover up to this share of the cost of delivering contracted work
VOLUNTEER_DELIVERY_CAP = 0.5

FLOATS = ("cash", "scale", "overheads", "capacity", "staff", "burnout", "volunteer_hours",
          "hours_offered", "loan", "loan_payment", "committed", "delivery_due", "price",
          "units_sold", "custom_in_hand", "received", "costs", "surplus_before_staff")
INTS = ("kind", "nbhd", "born", "died", "experience", "months_unpaid", "months_dormant", "members",
        "volunteers", "missed_repayments", "work", "history_count")
BOOLS = ("alive", "paying_its_way", "defaulted")


class Register:
    """Growable columns over every organisation ever registered."""

    def __init__(self, capacity: int = 64):
        self.size = 0
        self._allocate(capacity)
        self.live = np.empty(0, dtype=np.int64)  # rows of the live organisations, in register order

    def _allocate(self, capacity: int) -> None:
        def grown(name, shape, dtype, fill):
            new = np.full((capacity, *shape), fill, dtype=dtype)
            if hasattr(self, name):
                new[:self.size] = getattr(self, name)[:self.size]
            setattr(self, name, new)
        for name in FLOATS:
            grown(name, (), float, 0.0)
        for name in INTS:
            grown(name, (), np.int64, 0)
        for name in BOOLS:
            grown(name, (), bool, False)
        grown("revenue", (len(SOURCES),), float, 0.0)  # this month, by source
        grown("revenue_total", (len(SOURCES),), float, 0.0)
        grown("history", (HISTORY_MONTHS, 3), float, 0.0)  # a ring: month m at slot m % 12
        self.capacity_rows = capacity

    def add(self, kind: str) -> int:
        """A new row, live, for an organisation of this kind; returns its index."""
        if self.size == self.capacity_rows:
            self._allocate(2 * self.capacity_rows)
        row = self.size
        self.size += 1
        self.kind[row] = KIND[kind]
        self.died[row] = -1
        self.alive[row] = True
        self.price[row] = 1.0
        self.live = np.append(self.live, row)
        return row

    def close(self, row: int) -> None:
        self.alive[row] = False
        self.history_count[row] = 0  # a closed organisation keeps only its record for the outputs
        self.live = self.live[self.live != row]

    def start_month(self) -> None:
        """This month's revenue, receipts, costs and sales start from nothing."""
        live = self.live
        self.revenue[live] = 0.0
        self.received[live] = 0.0
        self.costs[live] = 0.0
        self.custom_in_hand[live] = self.units_sold[live]  # last month's custom (spare_capacity)
        self.units_sold[live] = 0.0

    def book(self, rows: np.ndarray, amounts: np.ndarray, source: str) -> None:
        """Record income by source, row by row (``CommonsOrganisation.book``)."""
        self.received[rows] += amounts
        self.revenue[rows, SOURCE[source]] += amounts
        self.revenue_total[rows, SOURCE[source]] += amounts

    def of_kind(self, rows: np.ndarray, kind: str) -> np.ndarray:
        return rows[self.kind[rows] == KIND[kind]]

    # ------------------------------------------------------------------ accounts
    def history_of(self, row: int) -> list[tuple[float, float, float]]:
        """The months kept, oldest first."""
        count = int(self.history_count[row])
        months = range(max(count - HISTORY_MONTHS, 0), count)
        return [tuple(self.history[row, m % HISTORY_MONTHS].tolist()) for m in months]

    def year_sums(self, rows: np.ndarray, history: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Revenue, costs and wages summed over the months kept, oldest first (as a person
        adds up the year's accounts, so that the sums are those of a running total)."""
        kept = np.minimum(count, HISTORY_MONTHS)
        first = count - kept
        totals = np.zeros((len(rows), 3))
        at = np.arange(len(rows))
        for j in range(HISTORY_MONTHS):
            month = history[at, (first + j) % HISTORY_MONTHS]
            totals += np.where((j < kept)[:, None], month, 0.0)
        return totals

    def capacity_for_trade(self, rows: np.ndarray) -> np.ndarray:
        """What each can sell to residents this month: contracted work takes the rest."""
        return np.maximum(self.capacity[rows] - self.committed[rows], 0.0)

    def spare_capacity(self, rows: np.ndarray) -> np.ndarray:
        """Room for more contracted work: what neither contracts and subcontracts nor custom take.

        A trader's custom uses the same capacity (its premises, staff and volunteers) as
        contracted work, so a trader that sold at capacity last month has no room for a
        contract or subcontract: taking one would turn its customers away (docs/ODD.md §7.9).
        """
        return np.maximum(self.capacity[rows] - self.committed[rows] - self.custom_in_hand[rows], 0.0)

    def successful(self, rows: np.ndarray, month: int) -> np.ndarray:
        """Visible success that teaches others: established (24 months old, 6 months of
        accounts, no month unpaid) and paying its way (``CommonsOrganisation.successful``)."""
        return ((month - self.born[rows] >= 24) & (self.months_unpaid[rows] == 0)
                & (self.history_count[rows] >= 6) & self.paying_its_way[rows])

    # ------------------------------------------------------------------ by kind
    @staticmethod
    def by_kind(config, field: str) -> np.ndarray:
        """A per-kind setting (``commons.<kind>.<field>``) as an array indexed by kind code."""
        return np.array([getattr(getattr(config.commons, k), field) for k in KINDS], dtype=float)

    # ------------------------------------------------------------------ volunteering
    def delivery_hours(self, config, rows: np.ndarray) -> np.ndarray:
        """Volunteer hours a month of delivering its contracted work (up to the cap's share)."""
        return (VOLUNTEER_DELIVERY_CAP * self.delivery_due[rows]
                / max(config.commons.volunteer_hour_value, 1e-9))

    def usable_hours(self, config, rows: np.ndarray) -> np.ndarray:
        """Volunteer hours a month each can organise (``CommonsOrganisation.usable_hours``)."""
        commons = config.commons
        places = self.by_kind(config, "volunteer_room")[self.kind[rows]] * self.scale[rows]
        return (places * commons.hours_per_place + self.delivery_hours(config, rows)
                + self.staff[rows] * commons.organiser_hours)

    def room(self, config, rows: np.ndarray) -> np.ndarray:
        """Places for new volunteers (``CommonsOrganisation.room``)."""
        places = (self.by_kind(config, "volunteer_room")[self.kind[rows]] * self.scale[rows]).astype(np.int64)
        room = np.maximum(places - self.members[rows], 0)
        return np.where(self.hours_offered[rows] > self.usable_hours(config, rows), 0, room)

    def hours_asked(self, config, rows: np.ndarray, staff: np.ndarray | None = None) -> np.ndarray:
        """Volunteer hours a month each leans on (``CommonsOrganisation.hours_asked``)."""
        staff = self.staff[rows] if staff is None else staff
        core = self.by_kind(config, "core_hours")[self.kind[rows]] * self.scale[rows]
        return (core + self.delivery_hours(config, rows)) / (1 + staff)

    def load(self, config, rows: np.ndarray, staff: np.ndarray | None = None) -> np.ndarray:
        """Hours each active volunteer carries, relative to ``behaviour.burnout_hours``."""
        carried = (np.maximum(self.hours_asked(config, rows, staff), self.volunteer_hours[rows])
                   / np.maximum(self.volunteers[rows], 1))
        return carried / max(config.behaviour.burnout_hours, 1e-9)
