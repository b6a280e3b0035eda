"""Founding by kind (docs/ODD.md §7.7): what founders of each kind look at, and how they
raise the money a founding of that kind needs.

Each kind has its own market: co-ops and community businesses live on the custom they win,
voluntary groups on grants and donations. A founder weighs a kind by how much a running
organisation of that kind earns from its market, per pound of its running costs, now against
2010 (its prospects), and must
raise that kind's start-up capital: from local share capital (a co-op's founding members, a
community business's share offer) and their own savings, else a council start-up grant,
else the fund.
"""

from __future__ import annotations

import numpy as np

from commonsabm.sim.organisation import CommonsOrganisation
from commonsabm.sim.register import SOURCE
from commonsabm.sim.terms import KINDS, TRADING
from commonsabm.sim.world import World

# the income from its own market that a founder looks at, by kind
MARKETS = {"coop": ("trading",), "community_business": ("trading",), "vcs": ("grants", "donations")}
# founders judge prospects by about the last year's income (an exponential average)
PROSPECT_MEMORY = 1 / 12
# how founders raised the money, from their own pockets (the rest of ``founded_with``'s values
# are in ``finance``); share capital counts as founders' capital, not as revenue
OWN_MONEY = ("founder's savings", "local share capital")


class Founding:
    def __init__(self, model: World):
        self.model = model
        self.base: dict[str, float] = {}  # each kind's market income per pound of overheads, first month
        self.recent: dict[str, float] = {}

    def observe(self) -> None:
        """This month's income of each kind from its market, per pound of its fixed costs:
        how far that market covers the running of one (per pound, not per organisation, so
        that one large or small newcomer does not move a kind's prospects)."""
        orgs = self.model.orgs
        for kind in KINDS:
            rows = orgs.of_kind(orgs.live, kind)
            overheads = sum(orgs.overheads[rows].tolist())
            if overheads <= 0:  # nothing to judge by: prospects stay where they were
                continue
            markets = [SOURCE[s] for s in MARKETS[kind]]
            # summed organisation by organisation, source by source (row-major)
            income = sum(orgs.revenue[np.ix_(rows, markets)].ravel().tolist()) / overheads
            self.base.setdefault(kind, income)
            self.recent[kind] = self.recent.get(kind, income) + PROSPECT_MEMORY * (
                income - self.recent.get(kind, income))

    def prospects(self) -> dict[str, float]:
        """Each kind's market income against 2010, to the founders' response
        (1 where there is nothing to compare)."""
        response = self.model.config.behaviour.prospects_response
        out = {}
        for kind in KINDS:
            base = self.base.get(kind, 0.0)
            out[kind] = (max(self.recent[kind], 0.0) / base) ** response if base > 0 else 1.0
        return out

    def weights(self) -> dict[str, float]:
        """Each kind's share of founders at 2010's prospects, times its prospects now:
        the sum scales founding as a whole, the parts choose the kind."""
        self.observe()
        trading = self.model.config.place.trading_founder_share
        share = {kind: trading / len(TRADING) if kind in TRADING else 1.0 - trading for kind in KINDS}
        prospects = self.prospects()
        return {kind: share[kind] * prospects[kind] for kind in KINDS}

    def choose(self, weights: dict[str, float]) -> str:
        cumulative = np.cumsum([weights[k] for k in KINDS])
        pick = int(np.searchsorted(cumulative, self.model.rng.random() * cumulative[-1], side="right"))
        return KINDS[min(pick, len(KINDS) - 1)]

    def pledges(self, founder: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Backers asked and what each can put in: keen residents of the founder's
        neighbourhood, each up to the kind's stake from their savings."""
        cfg = self.model.config
        kind_cfg = getattr(cfg.commons, kind)
        if kind_cfg.backers == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        citizens = self.model.citizens
        keen = np.flatnonzero((citizens.nbhd == citizens.nbhd[founder])
                              & (citizens.motivation >= cfg.behaviour.founding_motivation))
        keen = keen[keen != founder]
        asked = self.model.rng.choice(keen, size=min(kind_cfg.backers, len(keen)), replace=False)
        return asked, np.minimum(citizens.cash[asked], kind_cfg.backer_stake)

    def finance(self, founder: int, kind: str) -> CommonsOrganisation | None:
        """Raise the kind's start-up capital, in order: local share capital and the founder's
        savings; a council start-up grant, if the council grants to that kind; a loan from
        the fund, if its viability assessment backs them. A grant costs nothing to repay, so
        a founder asks the council before borrowing, and the fund lends to those the council
        cannot fund rather than taking its founders. Returns the new organisation, or None."""
        model, citizens = self.model, self.model.citizens
        capital = getattr(model.config.commons, kind).startup_capital
        nbhd = int(citizens.nbhd[founder])
        asked, pledged = self.pledges(founder, kind)
        # backers put in what the founding needs, in turn; the founder covers the rest
        pledged = np.minimum(pledged, np.maximum(capital - (np.cumsum(pledged) - pledged), 0.0))
        rest = capital - float(pledged.sum())
        if citizens.cash[founder] >= rest:
            org = model.register(kind, nbhd)
            org.founded_with = OWN_MONEY[1] if pledged.sum() > 0 else OWN_MONEY[0]
            citizens.cash[asked] -= pledged
            citizens.cash[founder] -= rest
            model.ledger.receive_from_citizens(org, capital, "founding_capital")
        elif model.council.grants_to(kind) and model.council.startup_grant(capital):
            org = model.register(kind, nbhd)
            org.founded_with = "council start-up grant"
            org.receive(model.council, capital, "grants")
        elif model.fund.finances_founding(kind):
            org = model.register(kind, nbhd)
            org.founded_with = "social investment fund"
            model.fund.advance(org)
        else:
            return None
        return org
