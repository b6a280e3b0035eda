"""One ledger for every pound that moves between the place's sectors.

Money is held by actors (citizens' savings, organisations' cash, the council's
reserves...). Every payment goes through ``Ledger.pay`` or ``Ledger.record``, which
books it as a flow between two sectors, or through a batch path for many payments at once
(``pay_rows``, ``pay_out``, ``receive_rows_from_citizens``), which moves
balances and books flows as running sums in the order single payments would, so that the
totals are the same to the last bit. ``check`` then asserts stock-flow consistency:
each sector's holdings equal its opening stock plus inflows minus outflows, so no money
is created or lost.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Protocol

import numpy as np

from commonsabm.sim.terms import COMMONS, COUNCIL, LOCAL, PRIMES, SECTORS

INDEX = {name: i for i, name in enumerate(SECTORS)}
# whose wage pool a payer's wages go to, by its sector
POOL_EMPLOYER = {"council": COUNCIL, "primes": PRIMES, "commons": COMMONS}
PRIMES_SECTOR = "primes"


def running_sum(start: float, amounts: np.ndarray) -> float:
    """``start`` plus each amount in turn, as a loop of ``+=`` would add them (not pairwise)."""
    return float(np.add.accumulate(np.concatenate(([start], amounts)))[-1])


class LedgerError(RuntimeError):
    """Stocks and flows disagree: a payment was made outside the ledger."""


class Account(Protocol):
    sector: str
    cash: float


class Ledger:
    def __init__(self, holdings: dict[str, Callable[[], float]]):
        # holdings: per sector, a function that sums what its actors hold right now
        self._holdings = holdings
        self.opening = np.array([holdings[s]() for s in SECTORS], dtype=float)
        self._flows = np.zeros((len(SECTORS), len(SECTORS)))
        # flows booked since the matrix was last read: a dict add is several times cheaper
        # than a numpy element update, and thousands of payments are booked each month
        self._pending: dict[tuple[int, int], float] = defaultdict(float)
        self.channels: dict[str, float] = defaultdict(float)
        self.cumulative_channels: dict[str, float] = defaultdict(float)
        self.max_relative_error = self.last_error = 0.0
        self._wage_pools: dict[int, float] = {}  # wages booked, not yet shared among staff

    def record(self, source: str, target: str, amount: float, channel: str) -> None:
        """Book a flow whose balances the caller has already moved (vectorised citizens)."""
        if amount < 0:
            source, target, amount = target, source, -amount
        if amount == 0:
            return
        self._pending[(INDEX[source], INDEX[target])] += amount
        self.channels[channel] += amount

    @property
    def flows(self) -> np.ndarray:
        """This month's flows: flows[i, j] is what sector i paid sector j."""
        if self._pending:
            for (i, j), amount in self._pending.items():
                self._flows[i, j] += amount
            self._pending.clear()
        return self._flows

    def pay(self, payer: Account, payee: Account, amount: float, channel: str) -> float:
        """Move money between two actors and book it; payers cannot go below zero unless outside."""
        if payer.sector != "outside":
            amount = min(amount, max(payer.cash, 0.0))
        if amount <= 0:
            return 0.0
        payer.cash -= amount
        payee.cash += amount
        self.record(payer.sector, payee.sector, amount, channel)
        return amount

    @staticmethod
    def payable(cash: np.ndarray, bills: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What payers with ``cash`` can pay of each row's bills, paid in turn (columns in
        order), as ``pay`` would pay them one at a time; and the cash each has left."""
        cash = cash.copy()
        paid = np.zeros_like(bills)
        for j in range(bills.shape[1]):
            amount = np.minimum(bills[:, j], np.maximum(cash, 0.0))
            paid[:, j] = np.where(amount > 0, amount, 0.0)
            cash -= paid[:, j]
        return paid, cash

    def pay_rows(self, cash: np.ndarray, rows: np.ndarray, sector: str, bills: np.ndarray,
                 payees: tuple, channels: tuple[str, ...]) -> np.ndarray:
        """Many payers of one sector, whose cash is ``cash[rows]``, each paying its row of
        ``bills`` to ``payees`` in turn (``None``: wages, to the sector's wage pool, as
        ``pay_wages``). Balances move and flows are booked in the order of one payment at a
        time, row by row, so every total is the same running sum. Returns what was paid."""
        paid, cash[rows] = self.payable(cash[rows], bills)
        targets = ["citizens" if p is None else p.sector for p in payees]

        def paid_to(same: list[bool]) -> np.ndarray:  # those columns' payments, row by row
            amounts = paid[:, same].ravel()
            return amounts[amounts > 0]

        for payee in {id(p): p for p in payees}.values():
            amounts = paid_to([p is payee for p in payees])
            if not len(amounts):
                continue
            if payee is None:
                employer = POOL_EMPLOYER[sector]
                self._wage_pools[employer] = running_sum(self._wage_pools.get(employer, 0.0), amounts)
            else:
                payee.cash = running_sum(payee.cash, amounts)
        for target in dict.fromkeys(targets):
            self._add_flows(sector, target, paid_to([t == target for t in targets]))
        for channel in dict.fromkeys(channels):
            self._add_channel(channel, paid_to([c == channel for c in channels]))
        return paid

    def pay_wages(self, payer: Account, amount: float, employer: int | None = None) -> float:
        """Book an employer's wage bill now; the model shares the pool among its staff later.

        Pooling means one pass over the residents per employer type each month rather
        than one per organisation. ``employer`` is the residents' employer code
        (``terms.EMPLOYERS``); by default the payer's sector's.
        """
        amount = min(amount, max(payer.cash, 0.0))
        if amount <= 0:
            return 0.0
        employer = POOL_EMPLOYER[payer.sector] if employer is None else employer
        payer.cash -= amount
        self.record(payer.sector, "citizens", amount, "wages")
        self._wage_pools[employer] = self._wage_pools.get(employer, 0.0) + amount
        return amount

    def take_wage_pools(self) -> dict[int, float]:
        """The wage bills booked since the last call, by employer code, and empty the pools."""
        pools, self._wage_pools = self._wage_pools, {}
        return pools

    def pay_out(self, payer: Account, cash: np.ndarray, rows: np.ndarray, sector: str,
                amounts: np.ndarray, channel: str) -> np.ndarray:
        """One payer paying many payees of one sector, whose cash is ``cash[rows]``, in turn,
        as ``pay`` one at a time: what it cannot afford of a payment it does not pay. Returns
        what was paid."""
        amounts = np.asarray(amounts, dtype=float)
        paid = np.where(amounts > 0, amounts, 0.0)
        # what it would hold before each payment were every one paid in full
        before = np.add.accumulate(np.concatenate(([payer.cash], -paid)))[:-1]
        if payer.sector != "outside" and (paid > np.maximum(before, 0.0)).any():
            left = payer.cash  # it runs short: one at a time
            for i, amount in enumerate(amounts.tolist()):
                paid[i] = max(min(amount, max(left, 0.0)), 0.0)
                left -= paid[i]
        payer.cash = running_sum(payer.cash, -paid[paid > 0])
        cash[rows] += paid
        self.record_rows(payer.sector, sector, paid, channel)
        return paid

    def receive_rows_from_citizens(self, cash: np.ndarray, rows: np.ndarray, sector: str,
                                   amounts: np.ndarray, channel: str) -> None:
        """Book money residents have already paid to many payees of one sector, whose cash is
        ``cash[rows]``, in the order of ``receive_from_citizens`` called row by row."""
        cash[rows] += amounts
        self.record_rows("citizens", sector, amounts, channel)

    def record_rows(self, source: str, target: str, amounts: np.ndarray, channel: str) -> None:
        """``record`` for each amount in turn (non-negative amounts), as one running sum."""
        self._add_flows(source, target, amounts)
        self._add_channel(channel, amounts)

    def _add_flows(self, source: str, target: str, amounts: np.ndarray) -> None:
        amounts = amounts[amounts > 0]  # as ``record`` books no zero
        if len(amounts):
            key = (INDEX[source], INDEX[target])
            self._pending[key] = running_sum(self._pending[key], amounts)

    def _add_channel(self, channel: str, amounts: np.ndarray) -> None:
        amounts = amounts[amounts > 0]
        if len(amounts):
            self.channels[channel] = running_sum(self.channels[channel], amounts)

    def receive_from_citizens(self, payee: Account, amount: float, channel: str) -> None:
        """Book money residents have already paid out of their cash (the citizen arrays move it)."""
        payee.cash += amount
        self.record("citizens", payee.sector, amount, channel)
        if hasattr(payee, "book"):
            payee.book(amount, channel)

    def begin_month(self) -> None:
        self.opening = self.stocks()
        self._flows[:] = 0.0
        self._pending.clear()
        for channel, amount in self.channels.items():
            self.cumulative_channels[channel] += amount
        self.channels = defaultdict(float)

    def stocks(self) -> np.ndarray:
        return np.array([self._holdings[s]() for s in SECTORS], dtype=float)

    def expected(self) -> np.ndarray:
        return self.opening + self.flows.sum(axis=0) - self.flows.sum(axis=1)

    def check(self, tolerance: float = 1e-9) -> float:
        """Raise LedgerError unless every stock equals opening + inflows - outflows."""
        actual, expected = self.stocks(), self.expected()
        scale = max(np.abs(self.opening).sum(), self.flows.sum(), 1.0)
        error = float(np.abs(actual - expected).max() / scale)
        self.last_error = error
        self.max_relative_error = max(self.max_relative_error, error)
        if error > tolerance:
            worst = SECTORS[int(np.abs(actual - expected).argmax())]
            raise LedgerError(f"ledger out of balance for {worst}: relative error {error:.3g}")
        return error

    # ------------------------------------------------------------ local money
    def local_respend_shares(self) -> np.ndarray:
        """For each sector, the share of this month's outflows that went to local sectors."""
        out = self.flows.sum(axis=1)
        local = self.flows[:, [INDEX[s] for s in LOCAL]].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(out > 0, local / out, 0.0)

    def local_multiplier(self, spender: str = "council") -> float:
        """LM3 (New Economics Foundation): (round 1 + round 2 + round 3) / round 1.

        Round 1 is everything the spender pays out; round 2 the part of it paid to local
        recipients (staff, local firms, commons organisations); round 3 what every supplier
        paid in round 1 re-spends locally, at this month's observed shares of its spending.
        Primes are non-local suppliers: paying them is no round-2 spending, but what they
        spend locally (their local staff and suppliers) is round 3, as NEF counted the
        re-spending of non-local suppliers in Northumberland (data/uk_figures.csv:
        lm3_nonlocal_supplier_respend).
        """
        out = self.flows.sum(axis=1)
        i = INDEX[spender]
        if out[i] <= 0:
            return 1.0
        local_idx = [INDEX[s] for s in LOCAL]
        suppliers = local_idx + [INDEX[PRIMES_SECTOR]]
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(out[:, None] > 0, self.flows / out[:, None], 0.0)
        paid = self.flows[i, suppliers].copy()
        if spender in LOCAL:
            paid[LOCAL.index(spender)] = 0.0  # paying itself is not a round of local spending
        round2 = paid[:len(local_idx)].sum()
        round3 = paid @ shares[np.ix_(suppliers, local_idx)]
        return float((out[i] + round2 + round3.sum()) / out[i])

    def leakage(self) -> float:
        """Share of local sectors' spending this month that left the place.

        Money leaves directly (to outside) or through primes, whose payments to outside
        (profit, head-office costs) count as leaving.
        """
        local_idx = [INDEX[s] for s in LOCAL]
        total = self.flows[local_idx].sum()
        out = INDEX["outside"]
        leaked = self.flows[local_idx, out].sum() + self.flows[INDEX["primes"], out]
        return float(min(leaked / total, 1.0)) if total > 0 else 0.0
