"""A city social investment fund, governed jointly by the public, private and commons sectors.

Its governance mix decides whom it lends to: the public side weighs social value, the
private side repayment prospects, the commons side early-stage groups (seed 002,
Parker's proposal). It lends to existing organisations and to founders, collects
repayments, and writes off loans when borrowers close or stop paying.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from commonsabm.sim.terms import SOCIAL_VALUE
from commonsabm.sim.world import World

if TYPE_CHECKING:
    from commonsabm.sim.organisation import CommonsOrganisation


def annuity(principal: float, yearly_rate: float, months: int) -> float:
    """Level monthly repayment that clears a loan over its term."""
    r = yearly_rate / 12
    if r == 0:
        return principal / months
    # at a rate this small 1 + r rounds away the interest (and to 1, a division by zero)
    discount = -math.expm1(-months * math.log1p(r)) if r < 1e-6 else 1 - (1 + r) ** -months
    return principal * r / discount


class SocialInvestmentFund(mesa.Agent):
    sector = "fund"

    def __init__(self, model: World):
        super().__init__(model)
        self.cash = 0.0
        self.opened = False
        self.capital_due_from_council = 0.0
        self.loans_made = 0
        self.defaults = 0
        self.outstanding = 0.0
        self.loans_this_month = 0
        self.defaults_this_month = 0
        self.lent_this_month = 0.0

    @property
    def config(self):
        return self.model.config.investment_fund

    def start_month(self) -> None:
        self.loans_this_month = 0
        self.defaults_this_month = 0
        self.lent_this_month = 0.0

    def open(self) -> None:
        """Raise the capital: the outside share at once, the council's over the next year."""
        capital = self.config.capital * self.model.citizens.n
        self.model.ledger.pay(self.model.economy.outside, self, capital * (1 - self.config.council_share),
                              "fund_capital")
        self.capital_due_from_council = capital * self.config.council_share
        self.opened = True

    def council_instalment(self) -> float:
        """The council's monthly payment towards its share of the capital."""
        if self.capital_due_from_council <= 0:
            return 0.0
        return min(self.capital_due_from_council, self.config.capital * self.model.citizens.n
                   * self.config.council_share / 12)

    def receive(self, payer, amount: float, channel: str) -> float:
        paid = self.model.ledger.pay(payer, self, amount, channel)
        if channel == "fund_capital" and payer is self.model.council:
            self.capital_due_from_council -= paid
        return paid

    def score(self, org: CommonsOrganisation) -> float:
        """How the board rates an applicant, by its governance mix."""
        cfg = self.config
        revenue = sum(h[0] for h in org.history)
        costs = sum(h[1] for h in org.history) if org.history else 1.0
        trading = sum(org.revenue_total[s] for s in ("trading", "donations"))
        earned = sum(org.revenue_total.values()) - org.revenue_total["loans"]
        prospects = min(revenue / max(costs, 1.0), 1.0) * (trading / earned if earned > 0 else 0.5)
        early = 1.0 if org.age < 36 else 0.3
        return (cfg.public_weight * SOCIAL_VALUE[org.kind] + cfg.private_weight * prospects
                + cfg.commons_weight * early)

    def can_lend(self) -> bool:
        return self.opened and self.cash >= self.config.loan_size

    def lend(self, org: CommonsOrganisation) -> bool:
        """Lend to an organisation that applies, if the board's score clears the threshold."""
        if (not self.can_lend() or org.loan > 0 or org.defaulted
                or self.score(org) < self.config.approval_threshold):
            return False
        self.advance(org)
        return True

    def finances_founding(self, kind: str) -> bool:
        """Whether the board backs a founder, on a viability assessment of the plan.

        A founder has no track record, so the assessment stands in for the private side's
        prospects: the plan's viability is its quantile among founders' plans, a draw. A
        plan of middling social value passes when it is in the best ``pass_rate`` of plans;
        the public side's say lets plans of higher social value pass with weaker prospects
        (and holds back lower), the private side's makes viability count for more. Every
        founder is early-stage, so the commons side's say moves them all alike.
        """
        if not self.can_lend():
            return False
        cfg = self.config
        middling = sum(SOCIAL_VALUE.values()) / len(SOCIAL_VALUE)
        viability = float(self.model.rng.random())
        bar = cfg.public_weight * middling + cfg.private_weight * (1 - cfg.pass_rate)
        return cfg.public_weight * SOCIAL_VALUE[kind] + cfg.private_weight * viability >= bar

    def advance(self, org: CommonsOrganisation) -> None:
        size = self.config.loan_size
        org.receive(self, size, "loans")
        org.loan = size
        org.loan_payment = annuity(size, self.config.interest_rate, self.config.term_months)
        self.outstanding += size
        self.loans_made += 1
        self.loans_this_month += 1
        self.lent_this_month += size

    def repaid(self, org: CommonsOrganisation, amount: float) -> None:
        """Book a repayment: interest first, the rest reduces the principal."""
        interest = org.loan * self.config.interest_rate / 12
        principal = min(max(amount - interest, 0.0), org.loan)
        org.loan -= principal
        self.outstanding -= principal
        # consecutive shortfalls count towards default; a full payment clears them
        org.missed_repayments = org.missed_repayments + 1 if amount < org.loan_payment - 1e-6 else 0
        if org.loan <= 1e-6:
            org.loan, org.loan_payment = 0.0, 0.0
        elif org.missed_repayments >= 6:
            self.default(org)

    def default(self, org: CommonsOrganisation) -> None:
        """Write off what a borrower still owes; no money moves, the claim is gone."""
        self.outstanding -= org.loan
        org.loan, org.loan_payment = 0.0, 0.0
        org.defaulted = True
        self.defaults += 1
        self.defaults_this_month += 1
