"""The model's parameters: one typed, documented schema shared by Hydra and Python.

Every field carries its allowed range, unit, meaning and source in its metadata, so
that validation, the command-line error messages and the ODD parameter table all come
from this one place. The config groups under ``conf/`` hold only what a preset changes.

The module runs to over 400 lines on purpose: it is the parameter table of the model,
one section per dataclass, and a reader checking a parameter's range or source should
find every one of them in a single file (``python -m commonsabm.docs`` prints it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

UK = "data/uk_figures.csv"
# Least monthly pay of an employee (GBP): a job pays something, and the model sizes every
# workforce as its wage bill over the wage, so a wage of nothing (or next to it) is meaningless.
LEAST_WAGE = 100.0


class ConfigError(ValueError):
    """A configuration value the model cannot run with; the message is one line."""


def p(default: Any, lo: float | None = None, hi: float | None = None, *, help: str,
      unit: str = "", source: str = "assumption", choices: tuple[str, ...] | None = None):
    """A parameter with its documentation; lists are copied so presets never share state."""
    meta = {"lo": lo, "hi": hi, "help": help, "unit": unit, "source": source,
            "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class RunConfig:
    seed: int = p(42, 0, 2**32 - 1, help="master seed of the model's random generator",
                  source="not a model parameter: any seed is valid")
    population: int = p(100_000, 500, 5_000_000, help="adult residents simulated",
                        unit="people", source="docs/ODD.md §2 (about 100,000 residents)")
    start: str = p("2010-01", help="first simulated month (YYYY-MM)", source="docs/ODD.md §2")
    end: str = p("2030-12", help="last simulated month (YYYY-MM)", source="docs/ODD.md §2")
    spin_up: int = p(36, 0, 240, help="months simulated before run.start and not reported, so that "
                     "the first reported month opens in the model's own steady state under the policy "
                     "in force before it (0: start cold, as the place is built)", unit="months",
                     source="measured: docs/ODD.md §5 (volunteering and claimants settle within 24 months, "
                     "organisation counts within 36)")
    replications: int = p(1, 1, 10_000, help="replicate runs in this job; replicate k is seeded by "
                          "numpy.random.SeedSequence(run.seed).spawn(replications)[k]",
                          source="not a model parameter: docs/ODD.md §6.3 (replicate seeds inside a job)")
    overwrite: bool = p(False, help="replace the results of another configuration found in the output "
                        "directory; without it such a run is refused and nothing is written. Not part of "
                        "the job's configuration: left out of config.yaml and of the digest that says "
                        "whether a job is the same one", source="not a model parameter: README, Outputs")
    share_history: bool = p(True, help="in a sweep, jobs whose configurations have acted alike so far "
                            "(levers not yet started) go on from one saved state instead of each "
                            "simulating those months (runs/branches.py): the same outputs, in about half "
                            "the time for the debate. Not part of the job's configuration, like overwrite",
                            source="not a model parameter: README, Sweeps")


# The place presets (conf/place/) differ from these England defaults only where a published
# regional figure says so: each preset value is the default times the region's figure over the
# national one, from the rows of data/uk_figures.csv its comment names (tests/test_places.py
# recomputes them). Residents' motivation is the same everywhere: a north-south difference in
# commoning has to come out of the structure (jobs, wages, organisations within reach), not be
# written in.
@dataclass
class PlaceConfig:
    name: str = p("typical", help="preset name, recorded in outputs")
    full_time_share: float = p(0.45, 0, 1, help="adults in full-time work in 2010", unit="share")
    part_time_share: float = p(0.15, 0, 1, help="adults part-time or on zero hours in 2010",
                               unit="share")
    unemployed_share: float = p(0.05, 0, 1, help="adults who are unemployed claimants in 2010",
                                unit="share")
    inactive_share: float = p(0.13, 0, 1, help="adults inactive or carers in 2010", unit="share")
    retired_share: float = p(0.22, 0, 1, help="adults retired in 2010", unit="share")
    hourly_wage: float = p(11.0, 1, 100, help="median hourly wage", unit="GBP/hour (2010)")
    wage_dispersion: float = p(0.45, 0, 2, help="sigma of log hourly wages")
    job_finding_rate: float = p(0.10, 0, 1, help="monthly chance a claimant finds work",
                                unit="per month")
    job_loss_rate: float = p(0.008, 0, 1, help="monthly chance a worker loses a job, before "
                             "automation", unit="per month")
    savings_months: float = p(1.5, 0, 60, help="median savings buffer in months of income",
                              unit="months")
    skills_mean: float = p(0.5, 0, 1, help="mean organising skill", unit="0-1")
    coops_per_100k: float = p(9.4, 0, 1000, help="co-operatives at the start",
                              unit="per 100,000", source=f"{UK} coops_count 2011 / UK population 63.3m")
    community_businesses_per_100k: float = p(7.0, 0, 1000, help="community businesses at the start",
                                             unit="per 100,000",
                                             source=f"{UK} community_business_count 2014 (9.3 per 100k), "
                                             "back-cast at ~7%/yr growth to 2010")
    vcs_per_100k: float = p(250.0, 0, 5000, help="voluntary and community groups at the start",
                            unit="per 100,000", source="docs/ODD.md §2 ('a few hundred per 100,000'); UK general "
                            f"charities 2005/06 were 273 per 100,000 ({UK} general_charities_count / uk_population)")
    central_grant: float = p(50.0, 0, 1000, help="central grant to the council in 2010",
                             unit="GBP/resident/month",
                             source="assumption: ~59% of 2010/11 spending power, implied by "
                             f"{UK} council_central_grant_change and council_spending_power_change")
    council_tax: float = p(35.0, 0, 1000, help="council tax in 2010", unit="GBP/resident/month",
                           source="assumption: England band-D yield / adult population, rounded")
    business_rates: float = p(35.0, 0, 1000, help="business rates raised locally",
                              unit="GBP/resident/month", source="assumption")
    care_need_growth: float = p(0.014, -0.1, 0.2, help="yearly growth of adult social care need "
                                "as the population ages", unit="per year",
                                source="assumption; checked against "
                                f"{UK} council_social_care_share 2010/11-2016/17")
    local_spend_share: float = p(0.40, 0, 1, help="household spending with local independent "
                                 "businesses (rest goes to national chains)", unit="share")
    donation_share: float = p(0.0015, 0, 1, help="household spending given to local voluntary "
                              "groups within reach, in 2010", unit="share",
                              source="assumption: UK giving ~1% of spending, a small part to local groups")
    trading_founder_share: float = p(0.12, 0, 1, help="share of founders who choose a trading "
                                     "type (they keep it however they raise the money)", unit="share",
                                     source="assumption: matches the start mix of types")


@dataclass
class EconomyConfig:
    local_employer_share: float = p(0.5, 0, 1, help="share of private-sector jobs with local "
                                    "firms (the rest are with employers outside the place)",
                                    unit="share")
    export_share: float = p(0.5, 0, 5, help="local firms' sales outside the place, as a share of "
                            "their wage bill", unit="share")
    local_profit_share: float = p(0.3, 0, 1, help="share of local firms' surplus paid to local "
                                  "owners (the rest buys from outside)", unit="share")


@dataclass
class AusterityConfig:
    years: list[float] = p([2010.0, 2018.0, 2030.0], help="years at which the central grant "
                           "index is given (linear in between)", unit="year")
    grant_index: list[float] = p([1.0, 0.509, 0.45], 0, 5, help="real central grant relative to "
                                 "2010 at those years", unit="index",
                                 source=f"{UK} council_central_grant_change (-49.1% 2010/11-2017/18)")


@dataclass
class UBIConfig:
    level: float = p(0.0, 0, 5000, help="basic income per adult (0 = no UBI)",
                     unit="GBP/adult/month (2010)")
    start: str = p("2020-01", help="first month paid (YYYY-MM)", source="docs/ODD.md §6.3 (ubi from 2020)")
    unconditional: bool = p(True, help="paid without conditions, and replaces that much "
                            "conditional benefit (removing its conditionality and sanctions)")
    funding: str = p("outside", help="who pays: 'outside' (money from outside the place, as a national "
                     "programme funded elsewhere), 'national_tax' (a national flat tax on earnings: residents' "
                     "wages are taxed at the rate that funds the UBI nationally, ubi.level / "
                     "ubi.national_earnings, and the money leaves the place) or 'local_tax' (a flat local "
                     "tax on earnings at the rate that covers the place's UBI, collected by the council, which "
                     "pays the UBI and bears any shortfall from its reserves)",
                     choices=("outside", "national_tax", "local_tax"),
                     source="docs/ODD.md §7.3 (UBI funding); seed 002 asks who pays (Davies and Bua)")
    national_earnings: float = p(1020.0, LEAST_WAGE, 1e5, help="earnings per adult across the country, "
                                 "the base of a nationally funded UBI's tax rate (ubi.funding=national_tax)",
                                 unit="GBP/adult/month (2010)",
                                 source="assumption: wages per adult of the typical place in 2010 as the model "
                                 "pays them (GBP 1,015-1,027 a month over 2010-16 at the defaults), so that a "
                                 "typical place pays about what its UBI costs, a poorer one less, a richer one more")


@dataclass
class SanctionsConfig:
    """Who can be sanctioned, how often and for how long: the penalty, not the hours asked.

    The hours asked of a claimant are the ``conditionality`` section's; the two are separate
    levers (docs/ODD.md §7.4).
    """
    monthly_rate: float = p(0.0273, 0, 1, help="chance an unemployed conditional claimant is "
                            "sanctioned each month", unit="per month",
                            source=f"{UK} jsa_sanction_rate (2.73%, year to Sep 2016)")
    duration_months: int = p(1, 1, 36, help="months of benefit lost per sanction",
                             unit="months", source=f"{UK} sanction_typical_length (4 weeks)")
    process_hours: float = p(15.0, 0, 300, help="hours a month a sanctioned resident spends on the "
                             "sanction: reconsideration, hardship-payment claims, food banks and "
                             "other emergency help", unit="hours/month",
                             source="assumption encoding seed 002 (sanctions 'envelop and bureaucratise' "
                             "claimants' lives); no published figure")
    in_work_reach: float = p(0.10, 0, 1, help="share of part-time and low-paid workers (the "
                             "lowest-paid first) who claim Universal Credit with work-search "
                             "requirements once it is fully rolled out", unit="share",
                             source=f"assumption; {UK} uc_in_work_conditionality (in-work claimants "
                             "searching for more work, from 2013)")
    in_work_start: str = p("2013-04", help="month Universal Credit, and with it in-work "
                           "conditionality, begins (YYYY-MM)", source=f"{UK} uc_in_work_conditionality")
    in_work_rollout_months: int = p(68, 0, 600, help="months from in_work_start until the whole reach "
                                    "is on Universal Credit (linear rollout; 0: at once)", unit="months",
                                    source=f"{UK} uc_full_service_complete (December 2018)")
    in_work_rate: float = p(0.005, 0, 1, help="chance an in-work conditional claimant is sanctioned "
                            "each month", unit="per month",
                            source="assumption: a fifth of the unemployed rate, since in-work claimants "
                            f"see a work coach less often; {UK} uc_in_work_conditionality")


@dataclass
class ConditionalityConfig:
    commitment_hours: float = p(35.0, 0, 80, help="weekly job-search and appointment hours asked "
                                "of a conditional claimant; an in-work claimant is asked the hours "
                                "by which their paid work falls short of them", unit="hours/week",
                                source=f"{UK} claimant_commitment_hours")


@dataclass
class TimeConfig:
    discretionary_hours: float = p(360.0, 1, 744, help="waking hours a month left after sleep, "
                                   "personal care and housework", unit="hours/month",
                                   source="assumption: about 12 hours a day")
    full_time_hours: float = p(160.0, 0, 744, help="paid hours of a full-time job",
                               unit="hours/month", source="assumption: 37 hours a week")
    part_time_hours: float = p(80.0, 0, 744, help="paid hours of a part-time or zero-hours job",
                               unit="hours/month")
    carer_hours: float = p(120.0, 0, 744, help="care hours of an inactive adult or carer",
                           unit="hours/month")
    care_hours: float = p(25.0, 0, 744, help="care hours of everyone else", unit="hours/month")


@dataclass
class WelfareConfig:
    jobseeker_benefit: float = p(280.0, 0, 5000, help="means-tested benefit of an unemployed "
                                 "claimant", unit="GBP/month (2010)",
                                 source="assumption: JSA 2010 GBP 65.45/week")
    carer_benefit: float = p(240.0, 0, 5000, help="benefit of an inactive adult or carer",
                             unit="GBP/month (2010)", source="assumption: Carer's Allowance 2010")
    pension: float = p(650.0, 0, 5000, help="retirement income", unit="GBP/month (2010)")
    poverty_line: float = p(650.0, 0, 10000, help="income below which a resident is poor",
                            unit="GBP/month (2010)",
                            source="assumption: 60% of median income, per adult")
    saving_rate: float = p(0.06, 0, 1, help="share of income above the poverty line saved",
                           unit="share")


@dataclass
class CouncilConfig:
    council_tax_rise_cap: float = p(0.0, -0.2, 0.2, help="yearly real rise in council tax each "
                                    "April (councils raise it as far as the cap allows)", unit="per year",
                                    source=f"{UK} council_tax_rise_cap (2-5% nominal; ~0 real "
                                    "after inflation and the 2011-15 freeze)")
    # at most 0.95: set_budget never lets care take more than 95% of a month's budget, and the
    # discretionary channels are cut relative to what 2010 left beside care
    care_share_2010: float = p(0.453, 0, 0.95, help="adult social care share of council spending "
                               "in 2010", unit="share",
                               source=f"{UK} council_social_care_share 2010/11 (45.3%)")
    care_budget_elasticity: float = p(0.34, 0, 3, help="elasticity of care spending to the "
                                      "budget (care is protected)",
                                      source=f"derived: {UK} council_social_care_share (45.3%->54.4%) "
                                      "with council_other_services_change (-32.6%) imply care spending "
                                      "x0.97 by 2016/17; with care need x1.087 (care_need_growth) and "
                                      "spending power x0.714, ln(0.97/1.087)/ln(0.714) = 0.34")
    contracted_share: float = p(0.45, 0, 1, help="share of service spending commissioned by "
                                "tender", unit="share")
    grant_share: float = p(0.04, 0, 1, help="share of non-care spending as grants to the "
                           "voluntary sector in 2010", unit="share")
    grant_cut_elasticity: float = p(1.6, 0, 5, help="elasticity of voluntary-sector grants to "
                                    "the discretionary budget (discretionary, cut first)",
                                    source=f"{UK} small_charity_government_income_change (-38%)")
    commissioning_share: float = p(0.01, 0, 1, help="share of non-care spending on commissioning "
                                   "staff who know local groups", unit="share")
    commissioning_cut_elasticity: float = p(2.0, 0, 5, help="elasticity of commissioning staff "
                                            "to the discretionary budget (first cut)",
                                            source="assumption encoding seed 000 ('Plan B')")
    failed_contract_cost: float = p(0.25, 0, 5, help="cost of re-procuring a failed contract, "
                                    "as a share of its annual value", unit="share",
                                    source="assumption (docs/ODD.md §2: failed contracts are costly; seed 003 "
                                    "names the cost of failed outsourcing but gives no figure)")
    staff_wage: float = p(2000.0, LEAST_WAGE, 1e5, help="monthly pay of a council employee",
                          unit="GBP/month (2010)")
    in_house_wage_share: float = p(0.7, 0, 1, help="share of in-house delivery spent on council "
                                   "staff (the rest on supplies, half of them local)", unit="share")
    startup_pot_share: float = p(0.1, 0, 1, help="share of the voluntary-sector grant budget kept "
                                 "for start-up grants to new groups", unit="share")
    reserves_months: float = p(1.0, 0, 24, help="council cash reserves at the start",
                               unit="months of revenue")


# The rules a council chooses when it lets a tender: what the `procurement` presets set, and
# what `procurement.start` switches. The section's other fields describe the market (lot sizes,
# panels' error, incumbents' edge, bidders' costs, primes' subcontracting habits): they hold
# from the first month, whatever the rules (tests/test_config.py checks the presets set these).
PROCUREMENT_RULES = ("bundling", "risk_transfer", "track_record_months", "weight_price", "weight_quality",
                     "weight_social_value", "payment_days", "subcontract_payment_days", "consortia_allowed")


@dataclass
class ProcurementConfig:
    """The rules a tender is let under. Before ``start`` the 2010 rules apply: this section's
    defaults, which the ``prime_biased`` preset restates; a contract keeps the rules it was
    let under until it is re-tendered (docs/ODD.md §7.5)."""
    start: str = p("2010-01", help="month these rules take effect (YYYY-MM); before it the 2010 rules "
                   "(the defaults) apply, and contracts let earlier keep their terms until re-tendered",
                   source="data/uk_figures.csv preston_local_procurement_share shows a real reform's pace")
    contract_years: float = p(3.0, 0.25, 20, help="contract term before re-tender", unit="years")
    lot_value: float = p(12_000.0, 100, 1e7, help="mean value of one unbundled service lot",
                         unit="GBP/month")
    lot_dispersion: float = p(1.0, 0, 3, help="sigma of the lognormal spread of service lots' values "
                              "(heavy-tailed: a few large lots hold much of the value)",
                              source="assumption (docs/ODD.md §7.5)")
    bundling: int = p(6, 1, 100, help="service lots bundled into one tender (1 = split lots)")
    risk_transfer: float = p(0.25, 0, 5, help="reserves a bidder must hold, as a share of "
                             "annual contract value", unit="share",
                             source="assumption encoding seed 000 (risk transfer)")
    track_record_months: int = p(24, 0, 240, help="months of delivery a bidder must show",
                                 unit="months")
    weight_price: float = p(0.6, 0, 1, help="weight of price in bid scores")
    weight_quality: float = p(0.4, 0, 1, help="weight of quality in bid scores")
    weight_social_value: float = p(0.0, 0, 1, help="weight of social and local value in bid "
                                   "scores", source="assumption (Social Value Act 2012 optional)")
    panel_noise: float = p(0.05, 0, 1, help="standard deviation of an evaluation panel's error in a "
                           "bid's score", unit="score points", source="assumption (docs/ODD.md §7.5)")
    incumbency_advantage: float = p(0.02, 0, 1, help="score points an incumbent gains when its "
                                    "contract is re-tendered (known to the panel, no transition risk)",
                                    unit="score points", source="assumption (docs/ODD.md §7.5)")
    cost_dispersion: float = p(0.05, 0, 1, help="sigma of the lognormal spread of a bidder's cost "
                               "for one lot around its class's cost", source="assumption")
    payment_days: float = p(30.0, 0, 365, help="days the council takes to pay", unit="days")
    consortia_allowed: bool = p(False, help="commons organisations may bid jointly")
    consortium_size: int = p(5, 2, 50, help="most organisations in one consortium",
                             source="assumption: consortia of a few partners (seed 000)")
    consortium_cost: float = p(0.03, 0, 1, help="extra cost of coordinating a consortium, as a share "
                               "of its delivery cost", unit="share", source="assumption")
    subcontract_share: float = p(0.3, 0, 1, help="share of a prime's delivery it refers to "
                                 "local organisations", unit="share")
    subcontractors: int = p(3, 1, 100, help="most local organisations a prime subcontracts one "
                            "contract to", source="assumption: primes work with a few local partners")
    subcontract_approaches: int = p(12, 1, 10_000, help="local organisations a prime approaches "
                                    "for each contract it subcontracts",
                                    source="assumption: primes know only part of the local sector")
    subcontract_rate: float = p(0.8, 0, 2, help="what primes pay subcontractors, as a share of "
                                "the contract price", unit="share",
                                source="assumption (docs/ODD.md §2: squeezed rates; seed 000 names terms "
                                "local groups cannot meet, not rates)")
    subcontract_payment_days: float = p(75.0, 0, 365, help="days primes take to pay "
                                        "subcontractors", unit="days",
                                        source="assumption (docs/ODD.md §2: primes pay late; not in the seeds)")


@dataclass
class PrimesConfig:
    count: int = p(3, 0, 50, help="prime contractors bidding in the place")
    reserves: float = p(5e7, 0, 1e12, help="reserves of each prime", unit="GBP")
    unit_cost: float = p(0.85, 0.1, 2, help="primes' delivery cost, for a lot of one service lot's "
                         "mean value, relative to a local organisation's", unit="ratio")
    scale_economies: float = p(0.05, 0, 0.5, help="elasticity of primes' unit cost to lot size: "
                               "cost x (lot value / procurement.lot_value)^-e", unit="elasticity",
                               source="assumption (docs/ODD.md §7.5: large reserves and scale economies)")
    # at most 0.75: firms vary by +-25% around it, and beyond 0.8 a bid could be priced at or
    # below nothing (cost x (1 + margin - underbid))
    underbid: float = p(0.03, 0, 0.75, help="how far below cost primes bid", unit="share")
    margin: float = p(0.05, 0, 1, help="profit margin primes add to their bids", unit="share")
    failure_base: float = p(0.002, 0, 1, help="monthly chance a prime contract fails at cost "
                            "price", unit="per month")
    underbid_failure: float = p(0.05, 0, 10, help="extra monthly failure chance per unit of "
                                "underbidding", source="assumption encoding docs/ODD.md §2")
    local_share: float = p(0.36, 0, 1, help="share of a prime's spending that stays local",
                           unit="share", source=f"{UK} lm3_nonlocal_supplier_respend (36%)")
    quality: float = p(0.6, 0, 1, help="quality score of prime bids", unit="0-1")
    local_wage: float = p(1200.0, LEAST_WAGE, 1e5, help="monthly pay of a prime's casualised local worker",
                          unit="GBP/month (2010)")
    local_wage_share: float = p(0.7, 0, 1, help="share of a prime's local spending that is wages "
                                "(the rest buys from local firms)", unit="share")


@dataclass
class OrganisationTypeConfig:
    overheads: float = p(1500.0, 0, 1e7, help="fixed monthly costs", unit="GBP/month")
    # at least GBP 100 a month: an organisation that can deliver nothing is none, and trading
    # custom is shared out by capacity, which the size spread shrinks further for some
    capacity: float = p(6000.0, 100, 1e8, help="service value deliverable at founding",
                        unit="GBP/month")
    volunteer_room: int = p(100, 0, 100_000, help="volunteers an organisation can take",
                            unit="people")
    start_cash_months: float = p(3.0, 0, 120, help="cash at the start, in months of "
                                 "overheads", unit="months")
    core_hours: float = p(150.0, 0, 1e6, help="volunteer hours a month the organisation needs "
                          "to function (governance, running it)", unit="hours/month")
    # founding economics (docs/ODD.md §7.7): what a founding needs and who puts it in
    startup_capital: float = p(5000.0, 0, 1e7, help="money needed to found one", unit="GBP",
                               source="assumption: a co-op's four founders' shares and a community "
                               f"business's premises (sized on {UK} community_share_average_investment); "
                               "a voluntary group little")
    backers: int = p(0, 0, 10_000, help="residents of the founder's neighbourhood, besides the founder, "
                     "asked to put money in: a co-op's founding members, a community share offer's "
                     "investors (0: the founder alone)", unit="people",
                     source="assumption: a registered co-op needs three or more members; a community "
                     f"share offer many small local investors ({UK} community_share_average_investment)")
    backer_stake: float = p(0.0, 0, 1e6, help="most one backer puts in (from their savings)", unit="GBP",
                            source=f"{UK} community_share_average_investment (GBP 368) for community "
                            "businesses; assumption for co-ops")
    # routes to closure (docs/ODD.md §7.9)
    cash_months_bearable: int = p(3, 1, 60, help="months in a row it survives unable to pay its costs",
                                  unit="months", source="assumption: longest for voluntary groups (they cut back to volunteers), "
                                  f"longer for co-ops than community businesses ({UK} coop_survival_5y "
                                  "against business_survival_5y)")
    min_volunteers: int = p(0, 0, 1000, help="fewest active volunteers it can be run by (0: it runs "
                            "on paid staff and members' trade, so never folds for want of them)",
                            unit="people", source="assumption: a charity's three trustees (Charity Commission guidance); "
                            f"lack of volunteers is a named reason for removals ({UK} charity_removals)")
    dormant_months: int = p(12, 1, 120, help="months in a row below min_volunteers before it folds "
                            "(is removed from the register)", unit="months",
                            source=f"assumption: a year without filing is when {UK} charity_removals "
                            "begin to remove inactive charities")


@dataclass
class CommonsConfig:
    # Each kind's founding economics and route to closure (docs/ODD.md §7.7, §7.9), all
    # assumptions sized on the figures named. A co-op is founded on its founding members'
    # share capital (a registered society needs at least three members; four co-founders of
    # up to GBP 1,000 each, an assumption). A community business buys or leases premises and
    # raises most of it in a community share offer: up to 40 local investors at the average
    # stake of community_share_average_investment (GBP 368). A voluntary group needs
    # little money but volunteers: it folds when fewer than three (a charity's trustees, the
    # Charity Commission's recommended least) are active for a year, the inactivity for which
    # it is removed from the register (charity_removals). Co-ops bear a longer run of
    # unpaid bills than community businesses (members take less before they close:
    # coop_survival_5y, 80% against 44%); voluntary groups cut back to volunteers and rarely
    # go insolvent.
    coop: OrganisationTypeConfig = field(default_factory=lambda: OrganisationTypeConfig(
        overheads=3000.0, capacity=12000.0, volunteer_room=40, core_hours=60.0,
        startup_capital=6000.0, backers=4, backer_stake=1000.0, cash_months_bearable=6))
    community_business: OrganisationTypeConfig = field(default_factory=lambda: OrganisationTypeConfig(
        overheads=2500.0, capacity=10000.0, volunteer_room=80, core_hours=100.0,
        startup_capital=15000.0, backers=40, backer_stake=368.0, cash_months_bearable=4))
    vcs: OrganisationTypeConfig = field(default_factory=lambda: OrganisationTypeConfig(
        overheads=900.0, capacity=5000.0, volunteer_room=160, core_hours=150.0,
        startup_capital=1000.0, cash_months_bearable=12, min_volunteers=3, dormant_months=12))
    staff_wage: float = p(1700.0, LEAST_WAGE, 1e5, help="monthly wage of a commons employee",
                          unit="GBP/month")
    delivery_cost: float = p(0.95, 0.1, 2, help="cost of delivering a pound of contracted "
                             "service, before volunteer input", unit="ratio")
    bid_markup: float = p(0.02, 0, 1, help="margin commons organisations add to their delivery "
                          "cost when bidding", unit="share")
    trading_cost: float = p(0.7, 0, 1, help="cost of sales per unit a trader sells, at the prices of "
                            "local firms and chains (a pound of their sales)", unit="ratio")
    trade_budget_share: float = p(0.195, 0, 1, help="share of residents' spending on the kinds of goods "
                                  "and services commons traders sell (food, cafés, pubs, shops)", unit="share",
                                  source=f"{UK} household_spending_food_share and "
                                  "household_spending_restaurants_share (2010: 11.2% + 8.3%)")
    outside_offer: float = p(4.0, 0.01, 1000, help="weight of local firms and chains in residents' choice "
                             "of where to buy those goods, per pound of their budget for them; a trader "
                             "within reach weighs its capacity x price^-price_elasticity (sim.market)",
                             unit="ratio",
                             source=f"assumption anchored on {UK} community_business_income (GBP 0.9bn): with "
                             "it the 2010 traders take about 0.2% of residents' spending (0.22% over the "
                             "first year, six seeds at 20,000 residents), as that income and small co-ops' "
                             "against ~GBP 1tn of household spending")
    price_elasticity: float = p(2.0, 0, 20, help="exponent of price in a trader's pull on custom (its "
                                "own-price elasticity while its share is small)", unit="elasticity",
                                source="assumption: no published price elasticity for community shops or "
                                "co-ops was found; 2 makes a trader 10% dearer than the chains lose about "
                                "a fifth of its custom")
    custom_build_months: int = p(12, 0, 120, help="months a new trader takes to build its custom: its "
                                 "pull on residents' spending rises linearly from 1/n in its first month "
                                 "to full after n months (0: full from the start)", unit="months",
                                 source="assumption encoding the liability of newness (Stinchcombe 1965; "
                                 "Freeman, Carroll and Hannan 1983, American Sociological Review 48: "
                                 "new organisations fail more often because they have yet to build ties "
                                 "with customers); a year, as a new shop's or cafe's first trading year. "
                                 f"Checked, not fitted, against {UK} coop_survival_5y (80%)")
    trading_markup: float = p(0.1, 0, 2, help="margin traders add to their unit cost (cost of sales plus "
                              "overheads spread over capacity) when pricing; staff are paid from it",
                              unit="share",
                              source="assumption: a new trader prices about 5% above the chains, one with "
                              "ten years' experience about 10% below")
    volunteer_hour_value: float = p(8.0, 0, 100, help="service value of one volunteer hour",
                                    unit="GBP/hour")
    hours_per_place: float = p(7.5, 0, 744, help="volunteer hours a month an organisation can organise "
                               "without paid staff, per volunteer place (commons.<kind>.volunteer_room, scaled to "
                               "its size); hours offered beyond what it can organise are not given",
                               unit="hours/month per place",
                               source="assumption: at the 2010 defaults about 56% of places hold an active "
                               "volunteer giving 10-11 hours a month, about 6 hours a place, so 7.5 leaves most "
                               "organisations a fifth to a quarter of slack; seed 000 (staff capacity cut since "
                               f"2010) and {UK} volunteers_better_organised (over a third of volunteers say "
                               "things could be better organised) say organising is a limit")
    organiser_hours: float = p(160.0, 0, 10_000, help="further volunteer hours a month an organisation can "
                               "organise for each paid member of staff (volunteer coordination, supervision, "
                               "the work volunteers do alongside staff)", unit="hours/month per staff member",
                               source="assumption: a fifth of a full-time post (32 hours) spent organising "
                               "volunteers, each hour of it supporting about five hours of volunteering")
    quality: float = p(0.7, 0, 1, help="quality score of an experienced commons bid")
    local_knowledge: float = p(0.15, 0, 1, help="quality a commons bid gains on a lot that rests wholly "
                               "on knowing the place (scaled by the lot's relational share)",
                               unit="score points", source="assumption encoding seeds 000 and 003 (local knowledge)")
    contract_failure: float = p(0.01, 0, 1, help="monthly chance a contract held by a commons "
                                "organisation with no track record fails; it halves with every two "
                                "years of delivery", unit="per month", source="assumption (docs/ODD.md §7.5)")
    local_share: float = p(0.76, 0, 1, help="share of an organisation's spending that stays "
                           "local", unit="share", source=f"{UK} lm3_local_supplier_respend (76%)")
    size_dispersion: float = p(0.5, 0, 3, help="sigma of the lognormal spread of organisations' "
                               "size and running costs around their type's values")
    subcontract_loss_tolerance: float = p(0.15, 0, 1, help="largest loss, as a share of cost, an "
                                          "organisation accepts on a subcontract for the sake of "
                                          "its mission", unit="share")
    capacity_growth: float = p(0.15, 0, 5, help="yearly growth of delivery capacity with "
                               "experience", unit="per year")
    coop_dividend: float = p(0.3, 0, 1, help="share of a co-op's surplus paid to members")


@dataclass
class InvestmentFundConfig:
    enabled: bool = p(False, help="a city social investment fund exists")
    start: str = p("2020-01", help="month the fund opens (YYYY-MM)")
    capital: float = p(20.0, 0, 10_000, help="fund capital", unit="GBP/resident")
    council_share: float = p(0.25, 0, 1, help="share of capital the council puts in (the rest "
                             "comes from outside)", unit="share")
    public_weight: float = p(0.34, 0, 1, help="public-sector say in lending (favours social value)")
    private_weight: float = p(0.33, 0, 1, help="private-sector say (favours repayment prospects)")
    commons_weight: float = p(0.33, 0, 1, help="commons-sector say (favours early-stage groups)")
    loan_size: float = p(15_000.0, 0, 1e7, help="size of one loan", unit="GBP")
    interest_rate: float = p(0.06, 0, 1, help="yearly interest on loans", unit="per year")
    term_months: int = p(60, 1, 600, help="loan term", unit="months")
    approval_threshold: float = p(0.5, 0, 1, help="score an existing organisation needs for a loan")
    pass_rate: float = p(0.3, 0, 1, help="share of founders' plans of middling social value that the "
                         "fund's viability assessment passes (the governance mix shifts it by kind)",
                         unit="share",
                         source="assumption: no published approval rate of social investors for "
                         "founders was found; 0.3 says most start-up plans are not backed")


@dataclass
class CommissioningConfig:
    scale_what_works: bool = p(False, help="the council moves money to commons organisations "
                               "with a good track record (Parker's lever)")
    start: str = p("2010-01", help="month the commissioning policy starts (YYYY-MM)")
    scaling_share: float = p(0.05, 0, 1, help="share of the discretionary budget used to scale "
                             "what works, when on", unit="share")
    capacity_protection: float = p(0.0, 0, 1, help="share of cuts that spare commissioning "
                                   "staff", unit="share")


@dataclass
class AutomationConfig:
    job_loss_per_year: float = p(0.005, 0, 0.5, help="share of private jobs automated away "
                                 "each year", unit="per year")
    start: str = p("2010-01", help="month automation starts (YYYY-MM)")


@dataclass
class DevolutionConfig:
    rates_retention: float = p(0.5, 0, 1, help="share of business rates the council keeps",
                               unit="share", source="assumption: England's 50% retention from 2013")
    rates_retention_start: str = p("2013-04", help="month rates retention begins (YYYY-MM)")
    local_tax_rate: float = p(0.0, 0, 0.5, help="devolved local tax on local business turnover "
                              "(a local treasury)", unit="share")
    grant_offset: float = p(1.0, 0, 1, help="share of devolved revenue deducted from the "
                            "central grant", unit="share",
                            source="assumption encoding seed 002 (devolution hands down a shrinking budget)")


@dataclass
class BehaviourConfig:
    motivation_alpha: float = p(2.0, 0.1, 50, help="Beta(alpha, beta) shape of civic motivation")
    motivation_beta: float = p(4.0, 0.1, 50, help="Beta(alpha, beta) shape of civic motivation")
    join_rate: float = p(1.0, 0, 5, help="scale of the monthly chance an inactive resident "
                         "starts volunteering")
    quit_rate: float = p(0.30, 0, 5, help="scale of the monthly chance a volunteer stops")
    membership_lapse: float = p(0.05, 0, 1, help="monthly chance an inactive member leaves their "
                                "organisation", unit="per month")
    free_time_response: float = p(1.0, 0, 5, help="exponent of free time in the volunteering "
                                  "propensity")
    peer_effect: float = p(0.8, 0, 10, help="rise in propensity when all ties are active")
    hours_share: float = p(0.05, 0, 1, help="share of free hours a volunteer gives")
    stress_bandwidth: float = p(0.5, 0, 1, help="bandwidth lost at full financial stress")
    sanction_bandwidth: float = p(0.3, 0, 1, help="further bandwidth lost while sanctioned")
    stress_adjustment: float = p(0.3, 0, 1, help="monthly speed at which stress follows money")
    founding_rate: float = p(0.0005, 0, 1, help="monthly chance an eligible commoner founds an "
                             "organisation", unit="per month")
    demonstration_effect: float = p(0.5, 0, 20, help="rise in founding odds per successful "
                                    "organisation within reach", source="assumption encoding seed 002 (Parker's pedagogy)")
    founding_motivation: float = p(0.5, 0, 1, help="least motivation of a founder")
    founding_skills: float = p(0.6, 0, 1, help="least skill of a founder")
    founding_stress: float = p(0.4, 0, 1, help="most stress of a founder")
    prospects_response: float = p(1.0, 0, 5, help="elasticity of founding a kind to its prospects: the "
                                  "income a running organisation of that kind earns from its own "
                                  "market (trade for co-ops and community businesses, grants and "
                                  "donations for voluntary groups), relative to 2010 (0: founders "
                                  "ignore prospects)",
                                  source="assumption: founders look at what the same kind earns nearby; "
                                  "no published elasticity was found")
    burnout_hours: float = p(20.0, 1, 1000, help="volunteer hours a month carried by each active "
                             "volunteer (what the organisation asks of them, scaled to its size, or "
                             "what they give, whichever is more) at which half of them are worn out",
                             unit="hours/month",
                             source=f"assumption: with the model's 10-11 hours a volunteer about a fifth "
                             f"are worn out, as {UK} volunteers_unreasonable_expectations (17%)")
    burnout_recovery: float = p(0.1, 0, 1, help="share of the gap between an organisation's burnout "
                                "and the level its load sets that closes each month", unit="per month")
    burnout_quit: float = p(0.1, 0, 1, help="monthly chance a worn-out volunteer stops (it scales "
                            "with the share of the organisation's volunteers worn out)", unit="per month",
                            source="assumption encoding NCVO Time Well Spent 2019: volunteers who feel "
                            "pressured are likelier to stop")
    burnout_closure: float = p(0.004, 0, 1, help="monthly chance an organisation folds when all its "
                               "volunteers are worn out (it scales with the share worn out)",
                               unit="per month", source="assumption: burnout closures a minority of "
                               "closures at the defaults (docs/ODD.md §7.9)")
    fundraising_response: float = p(0.84, 0, 10, help="rise in donations to voluntary groups per "
                                    "unit of cut in the council's voluntary-sector grants, at small cuts "
                                    "(groups turn to the public when grants go); it saturates at "
                                    "fundraising_ceiling",
                                    source=f"derived: with fundraising_ceiling 0.35, a 38% cut gives the +21% "
                                    f"of {UK} small_charity_individual_income_change against "
                                    "small_charity_government_income_change (-38%): "
                                    "-0.35/0.38 x ln(1 - 0.21/0.35) = 0.84")
    fundraising_ceiling: float = p(0.35, 0, 10, help="most donations can rise, as a share of their 2010 "
                                   "level, however deep the cut (the public's giving is bounded)",
                                   unit="share",
                                   source=f"assumption: above the +21% of {UK} small_charity_individual_"
                                   "income_change, since the public's total giving did not "
                                   "rise as grants were cut (uk_giving_total GBP 11.0bn 2010/11, 9.3bn 2011/12)")
    giving_reference_income: float = p(700.0, 0, 10_000, help="residents' mean income above the poverty "
                                       "line at which groups' fundraising response is full; below it "
                                       "the response shrinks in proportion", unit="GBP/resident/month (2010)",
                                       source=f"assumption: the typical place's 2010 level in the model; "
                                       f"{UK} giving_deprived_areas (fewer people with the means to give "
                                       "where incomes are low)")
    ubi_hours_response: float = p(0.03, 0, 0.10, help="fall in employed residents' paid hours when "
                                  "the UBI equals the jobseeker benefit (in proportion to the level, up to three "
                                  "times the benefit): a modest UBI (GBP 150) trims hours by 1.6%, a full one "
                                  "(GBP 300) by 3.2%", unit="share",
                                  source=f"{UK} ubi_mincome_hours (-1% to -5% at Mincome's guarantee, about a "
                                  "jobseeker benefit; 0.03 its middle); ubi_pilot_kenya_labour (no change in "
                                  "total labour) and the positive employment effects of ubi_pilot_finland_employment "
                                  "and ubi_pilot_stockton_fulltime say the fall is small; the upper bound, twice "
                                  "Mincome's largest fall, is for sensitivity analysis")
    ubi_job_finding: float = p(0.05, -1, 5, help="relative rise in claimants' job finding "
                               "under UBI", source=f"{UK} ubi_pilot_finland_employment, ubi_pilot_stockton_fulltime")


@dataclass
class NetworkConfig:
    neighbourhood_size: int = p(1000, 50, 100_000, help="residents per neighbourhood",
                                unit="people")
    min_ties: int = p(5, 0, 100, help="fewest social ties", source="docs/ODD.md §2 (about 5-15 ties)")
    max_ties: int = p(15, 0, 100, help="most social ties", source="docs/ODD.md §2 (about 5-15 ties)")
    local_share: float = p(0.8, 0, 1, help="share of ties inside the neighbourhood")
    reach: int = p(1, 0, 50, help="neighbourhoods either side within reach of a resident")


@dataclass
class ModelConfig:
    """Everything the model reads. Each field is a section; presets live in conf/."""
    place: PlaceConfig = field(default_factory=PlaceConfig)
    economy: EconomyConfig = field(default_factory=EconomyConfig)
    austerity: AusterityConfig = field(default_factory=AusterityConfig)
    ubi: UBIConfig = field(default_factory=UBIConfig)
    sanctions: SanctionsConfig = field(default_factory=SanctionsConfig)
    conditionality: ConditionalityConfig = field(default_factory=ConditionalityConfig)
    welfare: WelfareConfig = field(default_factory=WelfareConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    council: CouncilConfig = field(default_factory=CouncilConfig)
    procurement: ProcurementConfig = field(default_factory=ProcurementConfig)
    primes: PrimesConfig = field(default_factory=PrimesConfig)
    commons: CommonsConfig = field(default_factory=CommonsConfig)
    investment_fund: InvestmentFundConfig = field(default_factory=InvestmentFundConfig)
    commissioning: CommissioningConfig = field(default_factory=CommissioningConfig)
    automation: AutomationConfig = field(default_factory=AutomationConfig)
    devolution: DevolutionConfig = field(default_factory=DevolutionConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)

    @classmethod
    def of(cls, config: Any) -> "ModelConfig":
        """The model's sections of a larger config (the command line's ``AppConfig``).

        This is the one conversion from what Hydra composes to what the model reads.
        """
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})


SECTIONS = tuple(f.name for f in dataclasses.fields(ModelConfig))
