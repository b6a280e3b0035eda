"""The monthly metrics of docs/ODD.md §10.1, as properties of the model, with their units.

``REPORTERS`` names every column of ``timeseries.parquet`` with its unit and meaning; the
DataCollector reads each from the property of the same name. Counts are per 100,000
residents so that runs of different sizes compare.
"""

from __future__ import annotations

import numpy as np

from commonsabm.sim.inequality import gini
from commonsabm.sim.tendering import BIDDER_CLASSES
from commonsabm.sim.terms import CAUSES, CHANNELS, KINDS, PART_TIME, REVENUES, SOURCES, STATUSES, UNEMPLOYED

PER_100K = "per 100,000 residents"
GBP = "GBP per resident per month (2010 prices)"
DELIVERY = ("contracts", "subcontracts", "grants", "trading", "donations")  # the commons' income for services

REPORTERS: dict[str, tuple[str, str]] = {"date": ("YYYY-MM", "the simulated month")}
for _kind in KINDS:
    REPORTERS[f"orgs_{_kind}"] = (PER_100K, f"live {_kind} organisations")
REPORTERS["orgs_total"] = (PER_100K, "live commons organisations of all types")
for _kind in KINDS:
    REPORTERS[f"births_{_kind}"] = (PER_100K, f"{_kind} organisations founded this month")
    REPORTERS[f"deaths_{_kind}"] = (PER_100K, f"{_kind} organisations closed this month")
for _cause in CAUSES:
    REPORTERS[f"deaths_{_cause}"] = (PER_100K, f"closures this month because of {_cause}")
for _kind in KINDS:
    for _cause in CAUSES:
        REPORTERS[f"deaths_{_kind}_{_cause}"] = (PER_100K, f"{_kind} organisations closed this month "
                                                 f"because of {_cause}")
for _kind in KINDS:
    for _age in (12, 36):
        REPORTERS[f"survival_{_age}m_{_kind}"] = (
            "share", f"{_kind} organisations founded during the run that reached {_age} months")
REPORTERS.update({
    "members": (PER_100K, "residents who belong to a commons organisation"),
    "volunteer_hours": ("hours per resident per month", "hours given to commons organisations"),
    "volunteering_rate": ("share of residents", "residents who gave any hours this month"),
    "commons_share_contracts": ("share", "commons direct contracts in local service delivery"),
    "commons_share_subcontracts": ("share", "commons subcontracts from primes in local service delivery"),
    "commons_share_grants": ("share", "council grants to the commons in local service delivery"),
    "commons_share_trading": ("share", "commons trading and donations in local service delivery"),
    "commons_share_total": ("share", "the commons' share of local service delivery"),
    "commons_contract_share": ("share", "share of council contract value held by commons organisations"),
    "vcs_government_income": (GBP, "vcs income paid by the council: grants and contracts"),
    "vcs_subcontract_income": (GBP, "vcs income from subcontracts, paid by prime contractors"),
    "vcs_individual_income": (GBP, "vcs income from donations"),
    "trading_coop": (GBP, "co-ops' custom from residents (trading revenue)"),
    "trading_community_business": (GBP, "community businesses' custom from residents (trading revenue)"),
    "commons_spend_share": ("share", "share of residents' spending that goes to commons traders"),
    "commons_price": ("ratio", "commons traders' mean price relative to local firms' and chains', "
                      "weighted by what they sold (undefined when they sold nothing)"),
})
for _source in REVENUES:
    REPORTERS[f"council_revenue_{_source}"] = (GBP, f"council revenue from {_source.replace('_', ' ')}")
for _channel in CHANNELS:
    REPORTERS[f"council_spend_{_channel}"] = (GBP, f"council spending through {_channel.replace('_', ' ')}")
REPORTERS.update({
    "care_share": ("share", "adult social care in council spending"),
    "commissioning_capacity": ("index, 2010 = 1", "commissioning staff who know local groups"),
    "prime_contract_share": ("share", "share of council contract value held by prime contractors"),
    "prime_profit_out": (GBP, "prime contractors' profit leaving the place"),
    "contract_failures": (PER_100K, "contracts terminated as failed this month"),
    "tenders": (PER_100K, "tenders held this month (first lets, re-tenders and re-lets after failure)"),
})
for _class in BIDDER_CLASSES:  # commons organisations alone, commons consortia, prime contractors
    REPORTERS[f"bids_{_class}"] = (PER_100K, f"bids this month from {_class}")
    REPORTERS[f"wins_{_class}"] = (PER_100K, f"tenders won this month by {_class}")
REPORTERS.update({
    "wins_incumbent": (PER_100K, "tenders won this month by a holder of the lots re-tendered"),
    "direct_awards": (PER_100K, "direct awards this month to scale what works"),
    "contract_value_commons": (GBP, "value of council contracts held by commons organisations"),
    "contract_value_primes": (GBP, "value of council contracts held by prime contractors"),
    "contract_failures_commons": (PER_100K, "contracts held by commons organisations that failed this month"),
    "contract_failures_primes": (PER_100K, "contracts held by prime contractors that failed this month"),
    "subcontract_offers": (PER_100K, "subcontract offers primes made this month"),
    "subcontract_accepted": (PER_100K, "subcontract offers taken, whole or in part, this month"),
    "subcontract_partial": (PER_100K, "subcontract offers taken only in part this month"),
    "subcontract_declined_capacity": (PER_100K, "subcontract offers declined for want of room"),
    "subcontract_declined_cash": (PER_100K, "subcontract offers declined for want of cash to bridge late payment"),
    "subcontract_declined_loss": (PER_100K, "subcontract offers declined as loss-making beyond what the mission bears"),
    "subcontract_acceptance_rate": ("share", "subcontract offers taken, whole or in part, over offers made this month"),
    "unmet_need": ("share of need", "need for council services not delivered"),
    "employment_rate": ("share of adults", "adults in paid work"),
    "claimant_rate": ("share of adults", "adults who are unemployed claimants"),
})
for _status in STATUSES:
    REPORTERS[f"free_hours_{_status}"] = ("hours per month", f"mean free hours of {_status.replace('_', ' ')} residents")
for _status in STATUSES:
    REPORTERS[f"volunteering_rate_{_status}"] = (
        f"share of {_status.replace('_', ' ')} residents", "residents of this status who gave any hours this month")
REPORTERS.update({
    "sanctions": (PER_100K, "sanctions imposed this month"),
    "sanction_rate": ("share per month", "sanctions on unemployed claimants this month over those who are "
                      "conditional (the base of the published JSA rate; in-work claimants left out)"),
    "claimant_commoning_hours": ("hours per month", "mean hours claimants gave to the commons"),
    "poverty_rate": ("share of residents", "residents with income below the poverty line"),
    "income_gini": ("0-1", "Gini coefficient of residents' monthly income"),
    "local_multiplier": ("ratio, 1-3", "LM3 of a pound the council spends"),
    "leakage": ("share", "share of local sectors' spending that leaves the place"),
    "fund_loans": (PER_100K, "social investment fund loans made this month"),
    "fund_defaults": (PER_100K, "social investment fund loans written off this month"),
    "fund_outstanding": ("GBP per resident", "social investment loans outstanding"),
    "ledger_error": ("relative", "largest stock-flow discrepancy this month"),
})


def _per_100k(model, count: float) -> float:
    return count * 100_000 / model.citizens.n


class Reporters:
    """Mixin for CommonsModel: each metric is a property named as its column."""

    def _per_step(self, key: str, compute):
        """Compute a shared quantity once per model step, however many reporters read it."""
        cache = self.__dict__.setdefault("_report_cache", {})
        stamp = (self.steps, self.month)
        if cache.get("_stamp") != stamp:
            cache.clear()
            cache["_stamp"] = stamp
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # ------------------------------------------------------------ organisations
    def _count(self, kind: str) -> int:
        def counts():
            live = self.orgs.live
            return dict(zip(KINDS, np.bincount(self.orgs.kind[live], minlength=len(KINDS)).tolist()))
        return self._per_step("counts", counts)[kind]

    orgs_coop = property(lambda self: _per_100k(self, self._count("coop")))
    orgs_community_business = property(lambda self: _per_100k(self, self._count("community_business")))
    orgs_vcs = property(lambda self: _per_100k(self, self._count("vcs")))
    orgs_total = property(lambda self: _per_100k(self, len(self.live_organisations)))
    births_coop = property(lambda self: _per_100k(self, self.births["coop"]))
    births_community_business = property(lambda self: _per_100k(self, self.births["community_business"]))
    births_vcs = property(lambda self: _per_100k(self, self.births["vcs"]))

    def _deaths(self, kind: str | None = None, cause: str | None = None) -> float:
        return _per_100k(self, sum(n for (k, c), n in self.deaths.items()
                                   if kind in (None, k) and cause in (None, c)))

    deaths_coop = property(lambda self: self._deaths(kind="coop"))
    deaths_community_business = property(lambda self: self._deaths(kind="community_business"))
    deaths_vcs = property(lambda self: self._deaths(kind="vcs"))
    deaths_cash = property(lambda self: self._deaths(cause="cash"))
    deaths_volunteers = property(lambda self: self._deaths(cause="volunteers"))
    deaths_burnout = property(lambda self: self._deaths(cause="burnout"))
    deaths_coop_cash = property(lambda self: self._deaths("coop", "cash"))
    deaths_coop_volunteers = property(lambda self: self._deaths("coop", "volunteers"))
    deaths_coop_burnout = property(lambda self: self._deaths("coop", "burnout"))
    deaths_community_business_cash = property(lambda self: self._deaths("community_business", "cash"))
    deaths_community_business_volunteers = property(lambda self: self._deaths("community_business", "volunteers"))
    deaths_community_business_burnout = property(lambda self: self._deaths("community_business", "burnout"))
    deaths_vcs_cash = property(lambda self: self._deaths("vcs", "cash"))
    deaths_vcs_volunteers = property(lambda self: self._deaths("vcs", "volunteers"))
    deaths_vcs_burnout = property(lambda self: self._deaths("vcs", "burnout"))

    def survival(self, kind: str, months: int) -> float:
        """Of organisations founded in the run old enough to tell, the share that lived `months`."""
        def tally():
            orgs, ever = self.orgs, slice(0, self.orgs.size)
            born, died, kinds = orgs.born[ever], orgs.died[ever], orgs.kind[ever]
            table = {}
            for span in (12, 36):
                old = (born >= self.start_month) & (self.month - born >= span)
                lived = old & ((died < 0) | (died - born >= span))
                cohorts = np.bincount(kinds[old], minlength=len(KINDS)).tolist()
                survivors = np.bincount(kinds[lived], minlength=len(KINDS)).tolist()
                table.update(((name, span), (cohorts[code], survivors[code])) for code, name in enumerate(KINDS))
            return table
        cohort, lived = self._per_step("survival", tally)[(kind, months)]
        return lived / cohort if cohort else float("nan")

    survival_12m_coop = property(lambda self: self.survival("coop", 12))
    survival_36m_coop = property(lambda self: self.survival("coop", 36))
    survival_12m_community_business = property(lambda self: self.survival("community_business", 12))
    survival_36m_community_business = property(lambda self: self.survival("community_business", 36))
    survival_12m_vcs = property(lambda self: self.survival("vcs", 12))
    survival_36m_vcs = property(lambda self: self.survival("vcs", 36))

    @property
    def members(self) -> float:
        return _per_100k(self, np.count_nonzero(self.citizens.org >= 0))

    @property
    def volunteer_hours(self) -> float:
        return float(self.citizens.hours.sum()) / self.citizens.n

    # ------------------------------------------------------------ service delivery
    def _commons_revenue(self, *sources: str, kinds=KINDS) -> float:
        def by_kind_and_source():
            orgs = self.orgs
            rows = np.concatenate([orgs.live, [o.index for o in self.closed_this_month]]).astype(np.int64)
            # each kind's running totals, organisation by organisation, as one at a time: every
            # row is spread into its kind's block, zeros in the others, and one accumulate runs
            # down all blocks at once (adding 0.0 leaves a running sum exactly as it was)
            spread = np.zeros((len(rows) + 1, len(KINDS), len(SOURCES)))
            spread[np.arange(1, len(rows) + 1), orgs.kind[rows]] = orgs.revenue[rows]
            totals = np.add.accumulate(spread)[-1].tolist()
            return {(kind, source): totals[k][s] for k, kind in enumerate(KINDS) for s, source in enumerate(SOURCES)}
        table = self._per_step("revenue", by_kind_and_source)
        return sum(table[(k, s)] for k in kinds for s in sources)

    @property
    def service_delivery(self) -> float:
        """Local service delivery: council services plus what the commons sells and is given.

        It is never less than what the commons were paid for delivery this month: contracts
        and subcontracts are paid late, so when services collapse, payments for earlier
        months can exceed what the council spends in this one.
        """
        spend = self.council.spending
        return max(spend["in_house"] + spend["contracts"] + spend["grants"] + spend["scaling"]
                   + self._commons_revenue("trading", "donations"), self._commons_revenue(*DELIVERY))

    def _share(self, *sources: str) -> float:
        total = self.service_delivery
        return self._commons_revenue(*sources) / total if total > 0 else 0.0

    commons_share_contracts = property(lambda self: self._share("contracts"))
    commons_share_subcontracts = property(lambda self: self._share("subcontracts"))
    commons_share_grants = property(lambda self: self._share("grants"))
    commons_share_trading = property(lambda self: self._share("trading", "donations"))
    commons_share_total = property(lambda self: self._share(*DELIVERY))

    def _contract_share(self, sector: str) -> float:
        values = [(c.value, c.holder.sector) for c in self.council.contracts]
        total = sum(v for v, _ in values)
        return sum(v for v, s in values if s == sector) / total if total > 0 else 0.0

    commons_contract_share = property(lambda self: self._contract_share("commons"))
    prime_contract_share = property(lambda self: self._contract_share("primes"))
    # by who pays, as the published figure counts it: a subcontract is paid by a prime, a firm
    vcs_government_income = property(lambda self: self._commons_revenue(
        "grants", "contracts", kinds=("vcs",)) / self.citizens.n)
    vcs_subcontract_income = property(lambda self: self._commons_revenue(
        "subcontracts", kinds=("vcs",)) / self.citizens.n)
    vcs_individual_income = property(lambda self: self._commons_revenue(
        "donations", kinds=("vcs",)) / self.citizens.n)

    trading_coop = property(lambda self: self._commons_revenue("trading", kinds=("coop",)) / self.citizens.n)
    trading_community_business = property(lambda self: self._commons_revenue(
        "trading", kinds=("community_business",)) / self.citizens.n)
    commons_spend_share = property(lambda self: self.market.custom / self.market.spending
                                   if self.market.spending > 0 else 0.0)
    commons_price = property(lambda self: self.market.custom / self.market.units
                             if self.market.units > 0 else float("nan"))

    # ------------------------------------------------------------ council and primes
    def _per_resident(self, amount: float) -> float:
        return amount / self.citizens.n

    council_revenue_central_grant = property(lambda self: self._per_resident(self.council.revenue["central_grant"]))
    council_revenue_council_tax = property(lambda self: self._per_resident(self.council.revenue["council_tax"]))
    council_revenue_business_rates = property(lambda self: self._per_resident(self.council.revenue["business_rates"]))
    council_revenue_local_tax = property(lambda self: self._per_resident(self.council.revenue["local_tax"]))
    council_spend_in_house = property(lambda self: self._per_resident(self.council.spending["in_house"]))
    council_spend_contracts = property(lambda self: self._per_resident(self.council.spending["contracts"]))
    council_spend_grants = property(lambda self: self._per_resident(self.council.spending["grants"]))
    council_spend_commissioning = property(lambda self: self._per_resident(self.council.spending["commissioning"]))
    council_spend_scaling = property(lambda self: self._per_resident(self.council.spending["scaling"]))
    council_spend_fund = property(lambda self: self._per_resident(self.council.spending["fund"]))

    @property
    def care_share(self) -> float:
        total = sum(self.council.spending.values())
        return min(self.council.care_spending / total, 1.0) if total > 0 else 0.0

    commissioning_capacity = property(lambda self: self.council.commissioning_capacity)
    prime_profit_out = property(lambda self: self._per_resident(sum(p.profit_out for p in self.primes)))
    contract_failures = property(lambda self: _per_100k(
        self, self.council.record["failures_commons"] + self.council.record["failures_primes"]))

    # ------------------------------------------------------------ tendering
    def _tendering(self, key: str) -> float:
        return _per_100k(self, self.council.record[key])

    tenders = property(lambda self: self._tendering("tenders"))
    bids_commons = property(lambda self: self._tendering("bids_commons"))
    bids_consortium = property(lambda self: self._tendering("bids_consortium"))
    bids_primes = property(lambda self: self._tendering("bids_primes"))
    wins_commons = property(lambda self: self._tendering("wins_commons"))
    wins_consortium = property(lambda self: self._tendering("wins_consortium"))
    wins_primes = property(lambda self: self._tendering("wins_primes"))
    wins_incumbent = property(lambda self: self._tendering("wins_incumbent"))
    direct_awards = property(lambda self: self._tendering("direct_awards"))
    contract_failures_commons = property(lambda self: self._tendering("failures_commons"))
    contract_failures_primes = property(lambda self: self._tendering("failures_primes"))
    subcontract_offers = property(lambda self: self._tendering("subcontract_offers"))
    subcontract_accepted = property(lambda self: self._tendering("subcontract_accepted"))
    subcontract_partial = property(lambda self: self._tendering("subcontract_partial"))
    subcontract_declined_capacity = property(lambda self: self._tendering("subcontract_declined_capacity"))
    subcontract_declined_cash = property(lambda self: self._tendering("subcontract_declined_cash"))
    subcontract_declined_loss = property(lambda self: self._tendering("subcontract_declined_loss"))

    @property
    def subcontract_acceptance_rate(self) -> float:
        offers = self.council.record["subcontract_offers"]
        return self.council.record["subcontract_accepted"] / offers if offers else float("nan")

    def _contract_value(self, sector: str) -> float:
        return self._per_resident(sum(c.value for c in self.council.contracts if c.holder.sector == sector))

    contract_value_commons = property(lambda self: self._contract_value("commons"))
    contract_value_primes = property(lambda self: self._contract_value("primes"))
    unmet_need = property(lambda self: self.council.unmet_need)

    # ------------------------------------------------------------ residents
    def _by_status(self) -> tuple[np.ndarray, int, float]:
        """Residents by employment status (rows) and whether they gave hours this month
        (columns: no, yes), which every status and volunteering rate reads, with the
        conditional claimants and the mean hours of the unemployed found in the same pass.

        Counted status by status with vectorised comparisons: a bincount over five bins is
        bound by the latency of adding to the same few counters, several times slower.
        Counts are whole numbers, so the rates are the same to the last bit as each one's own
        mean; the claimants' hours are the same subset in the same order as before.
        """
        def tally():
            citizens = self.citizens
            table = np.zeros((len(STATUSES), 2), dtype=np.intp)
            of_status = self.scratch("of_status", bool)
            both = self.scratch("of_status_and", bool)
            for code in range(len(STATUSES)):
                np.equal(citizens.status, code, out=of_status)
                residents = np.count_nonzero(of_status)
                volunteers = np.count_nonzero(np.logical_and(of_status, citizens.active, out=both))
                table[code] = residents - volunteers, volunteers
                if code == UNEMPLOYED:
                    conditional = np.count_nonzero(np.logical_and(
                        of_status, np.greater(citizens.conditional_share, 0, out=both), out=both))
                    hours = (float(np.compress(of_status, citizens.hours).mean()) if residents
                             else float("nan"))
            return table, conditional, hours
        return self._per_step("by_status", tally)

    employment_rate = property(lambda self: int(self._by_status()[0][:PART_TIME + 1].sum()) / self.citizens.n)
    claimant_rate = property(lambda self: int(self._by_status()[0][UNEMPLOYED].sum()) / self.citizens.n)
    volunteering_rate = property(lambda self: int(self._by_status()[0][:, 1].sum()) / self.citizens.n)

    def free_hours_of(self, status: int) -> float:
        """Mean free hours within one employment status (every status's, once a step)."""
        def by_status():
            totals = np.bincount(self.citizens.status, weights=self.citizens.free_hours, minlength=len(STATUSES))
            counts = self._by_status()[0].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(counts > 0, totals / counts, np.nan)
        return float(self._per_step("free_hours", by_status)[status])

    def volunteering_of(self, status: int) -> float:
        table = self._by_status()[0]
        residents, volunteers = table[status].sum(), table[status, 1]
        return float(volunteers / residents) if residents else float("nan")

    volunteering_rate_full_time = property(lambda self: self.volunteering_of(0))
    volunteering_rate_part_time = property(lambda self: self.volunteering_of(1))
    volunteering_rate_unemployed = property(lambda self: self.volunteering_of(2))
    volunteering_rate_inactive = property(lambda self: self.volunteering_of(3))
    volunteering_rate_retired = property(lambda self: self.volunteering_of(4))
    free_hours_full_time = property(lambda self: self.free_hours_of(0))
    free_hours_part_time = property(lambda self: self.free_hours_of(1))
    free_hours_unemployed = property(lambda self: self.free_hours_of(2))
    free_hours_inactive = property(lambda self: self.free_hours_of(3))
    free_hours_retired = property(lambda self: self.free_hours_of(4))
    sanctions = property(lambda self: _per_100k(self, self.citizens.sanctions_this_month))

    @property
    def sanction_rate(self) -> float:
        at_risk = int(self._by_status()[1])
        return self.citizens.jobseeker_sanctions_this_month / at_risk if at_risk else 0.0

    claimant_commoning_hours = property(lambda self: self._by_status()[2])  # mean hours claimants gave

    @property
    def poverty_rate(self) -> float:
        below = np.less(self.citizens.income, self.config.welfare.poverty_line, out=self.scratch("below", bool))
        return np.count_nonzero(below) / self.citizens.n

    @property
    def income_gini(self) -> float:
        # once a step: Mesa's DataCollector reads each column three times at its first collection
        return self._per_step("gini", lambda: gini(self.citizens.income, self.scratch("pounds", np.int64)))

    # ------------------------------------------------------------ money
    local_multiplier = property(lambda self: self.ledger.local_multiplier("council"))
    leakage = property(lambda self: self.ledger.leakage())
    fund_loans = property(lambda self: _per_100k(self, self.fund.loans_this_month))
    fund_defaults = property(lambda self: _per_100k(self, self.fund.defaults_this_month))
    fund_outstanding = property(lambda self: self._per_resident(self.fund.outstanding))
    ledger_error = property(lambda self: self.ledger.last_error)
