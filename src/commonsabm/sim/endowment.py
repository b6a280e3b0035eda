"""Power to Change: the national grant-maker for community businesses in England.

The Big Lottery Fund endowed it with GBP 150m in January 2015, to be spent over 10 to 15
years on existing and new community businesses (data/uk_figures.csv
power_to_change_endowment). It is a dated event of the baseline's history, not a lever of
the debate: every scenario has it. The model keeps the part that funds founders: a
founder of a community business who cannot raise the start-up capital locally may be
granted it, from the place's share of the endowment's spending to date: its allowance
builds up month by month while it is open and each grant draws it down. A national
trust's grants land in a place in lumps (one start-up grant is more than a place of
100,000 residents' share of a year's founding budget), so what was not granted one year
is still there the next, but never more than the endowment would have spent by then.
Its support to existing community businesses is left out (docs/ODD.md §7.7).
"""

from __future__ import annotations

from commonsabm.params.months import month_index
from commonsabm.sim.world import World


class Endowment:
    kinds = ("community_business",)

    def __init__(self, model: World):
        self.model = model
        cfg = model.config.endowment
        self.opens, self.closes = month_index(cfg.start), month_index(cfg.end)
        self.pot = 0.0
        self.granted = 0.0  # start-up grants paid this month (reported)

    @property
    def open(self) -> bool:
        cfg = self.model.config.endowment
        return cfg.enabled and self.opens <= self.model.month <= self.closes

    def start_month(self) -> None:
        """Add the month's allowance for founders while it is open."""
        self.granted = 0.0
        if self.open:
            cfg = self.model.config.endowment
            self.pot += cfg.budget * cfg.startup_share * self.model.citizens.n / 12

    def startup_grant(self, kind: str, amount: float) -> bool:
        """Fund a founder of a kind it funds, if the allowance to date can."""
        if kind not in self.kinds or not self.open or self.pot < amount:
            return False
        self.pot -= amount
        self.granted += amount
        return True
