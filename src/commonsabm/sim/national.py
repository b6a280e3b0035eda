"""The national setting: configuration that changes with the calendar, not an agent.

It answers, for a given month, what the austerity path, UBI, sanctions regime,
automation and devolution settings are. Nothing here is random.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from commonsabm.params.months import decimal_year, month_index
from commonsabm.params.schema import (PROCUREMENT_RULES, ConditionalityConfig, ModelConfig, ProcurementConfig,
                                      SanctionsConfig)


class NationalSetting:
    def __init__(self, config: ModelConfig, policy_start: int | None = None):
        """``policy_start``: the month from which levers without a date of their own (the
        sanction regime, the hours asked of claimants) are in force: the first reported month.
        Before it, in a run's spin-up, 2010's regime holds (the schema's defaults), so that
        every run of an experiment opens in the same 2009 steady state (docs/ODD.md §5)."""
        self.config = config
        # without a start (a bare setting, as in unit tests) the configured levers always hold
        self._policy_start = policy_start if policy_start is not None else -(10 ** 9)
        self._ubi_start = month_index(config.ubi.start)
        self._automation_start = month_index(config.automation.start)
        self._retention_start = month_index(config.devolution.rates_retention_start)
        self._fund_start = month_index(config.investment_fund.start)
        self._commissioning_start = month_index(config.commissioning.start)
        self._procurement_start = month_index(config.procurement.start)
        self._in_work_start = month_index(config.sanctions.in_work_start)
        # before procurement.start the 2010 rules hold; the market the rules act on is the configured one
        defaults = ProcurementConfig()
        self._rules_2010 = replace(config.procurement,
                                   **{rule: getattr(defaults, rule) for rule in PROCUREMENT_RULES})
        self._sanctions_2010 = SanctionsConfig()
        self._conditionality_2010 = ConditionalityConfig()

    def grant_index(self, month: int) -> float:
        """Real central grant relative to 2010, interpolated along the austerity path."""
        path = self.config.austerity
        return float(np.interp(decimal_year(month), path.years, path.grant_index))

    def ubi_level(self, month: int) -> float:
        ubi = self.config.ubi
        return ubi.level if month >= self._ubi_start else 0.0

    def in_work_reach(self, month: int) -> float:
        """Share of low-paid part-time workers on Universal Credit with work-search requirements:
        none before it starts, then rising linearly over its rollout to the configured reach."""
        sanctions = self.sanction_rules(month)
        since = month - self._in_work_start
        if since < 0:
            return 0.0
        rolled_out = min((since + 1) / sanctions.in_work_rollout_months, 1.0) if sanctions.in_work_rollout_months else 1.0
        return sanctions.in_work_reach * rolled_out

    def automation_hazard(self, month: int) -> float:
        """Monthly chance that a private-sector job is automated away."""
        if month < self._automation_start:
            return 0.0
        return 1.0 - (1.0 - self.config.automation.job_loss_per_year) ** (1 / 12)

    def rates_retention(self, month: int) -> float:
        return self.config.devolution.rates_retention if month >= self._retention_start else 0.0

    def commissioning_policy(self, month: int) -> bool:
        """Whether the configured commissioning policy (scaling, protected staff) is in force."""
        return month >= self._commissioning_start

    def procurement_rules(self, month: int) -> ProcurementConfig:
        """The rules a tender let this month is held to: the configured ones from their start,
        the 2010 rules before it (contracts keep the rules they were let under)."""
        return self.config.procurement if month >= self._procurement_start else self._rules_2010

    def sanction_rules(self, month: int) -> SanctionsConfig:
        """The sanction regime in force: the configured one from the policy start, 2010's before it."""
        return self.config.sanctions if month >= self._policy_start else self._sanctions_2010

    def conditionality_rules(self, month: int) -> ConditionalityConfig:
        """The hours asked of claimants: the configured ones from the policy start, 2010's before it."""
        return self.config.conditionality if month >= self._policy_start else self._conditionality_2010

    def fund_open(self, month: int) -> bool:
        return self.config.investment_fund.enabled and month >= self._fund_start


# What of each dated lever acts only from its start (every read goes through this class's
# gates): until then the lever's settings have touched nothing, so two configurations that
# differ only in them have run alike. Starts themselves are never masked (the UBI's start also
# sets the time-income split's windows). tests/test_branches.py runs every preset both ways.
GATED = {
    "ubi": ("start", ("level", "unconditional", "funding", "national_earnings")),
    "investment_fund": ("start", None),  # None: every field but the start
    "procurement": ("start", PROCUREMENT_RULES),
    "automation": ("start", ("job_loss_per_year",)),
}
# levers without a date of their own take effect at the first reported month (``policy_start``)
FROM_POLICY_START = ("sanctions", "conditionality")


def history(config: ModelConfig, policy_start: int, first_month: int, month: int) -> dict:
    """Everything in ``config`` that has acted on a run before ``month`` (a month index), as
    plain data: two runs from the same seed, place and calendar whose histories are equal have
    been the same run up to ``month``, so one can continue from the other's state there
    (``runs.branches``; the model's ``CommonsModel.adopt``)."""
    sections = {f.name: dict(vars(getattr(config, f.name))) for f in fields(config)}
    for section, (start, gated) in GATED.items():
        values = sections[section]
        if month <= month_index(values[start]):
            for name in gated if gated is not None else [k for k in values if k != start]:
                values[name] = "not yet in force"
    if month <= policy_start:
        for section in FROM_POLICY_START:
            sections[section] = "not yet in force"
    # the austerity path as the grant index of every month so far, not the knots that draw it
    path = sections.pop("austerity")
    sections["grant_index_so_far"] = [float(np.interp(decimal_year(m), path["years"], path["grant_index"])).hex()
                                      for m in range(first_month, month)]
    return sections
