"""CommonsModel: one place, month by month, wiring residents, organisations, council and primes.

``CommonsModel(**keywords)`` takes plain keywords so that ``mesa.batch_run`` works:
section presets by name (``place="deprived_northern"``, ``ubi="full"``) and single
parameters as ``<section>_<field>`` (``ubi_level=300``, ``sanctions_monthly_rate=0``).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np

from commonsabm.params.checks import Settings, settings_for
from commonsabm.params.months import month_index, month_label
from commonsabm.params.schema import ModelConfig, RunConfig
from commonsabm.sim.bookkeeping import keep_books
from commonsabm.sim.citizens import Citizens
from commonsabm.sim.council import Council
from commonsabm.sim.founding import Founding
from commonsabm.sim.investment_fund import SocialInvestmentFund
from commonsabm.sim.ledger import Ledger
from commonsabm.sim.local_economy import LocalEconomy
from commonsabm.sim.market import LocalMarket
from commonsabm.sim.membership import Membership
from commonsabm.sim.national import NationalSetting
from commonsabm.sim.organisation import CommonsOrganisation
from commonsabm.sim.prime import PrimeContractor
from commonsabm.sim.procurement import PaymentQueue
from commonsabm.sim.register import Register
from commonsabm.sim.reporters import REPORTERS, Reporters
from commonsabm.sim.terms import COMMONS, COUNCIL, FULL_TIME, KINDS, LOCAL_PRIVATE, PART_TIME, PRIMES, SECTORS
from commonsabm.sim.volunteering import TimeIncomeSplit, absorb


class CommonsModel(Reporters, Membership, mesa.Model):
    def __init__(self, population: int = 100_000, start: str = "2010-01", end: str = "2030-12",
                 rng: Any = None, config: ModelConfig | Settings | Mapping[str, Any] | None = None,
                 run: RunConfig | None = None,
                 **keywords: Any):
        """Build the place from checked settings: one route, whichever way the model is called.

        - ``config=Settings`` (what ``params.checks.checked`` returns; the command line's
          jobs pass this): run as they are, already checked;
        - ``config=ModelConfig`` with an optional ``run=RunConfig``: checked here;
        - ``config=`` a dict of sections to fields, as a run's ``manifest.json`` records it
          (``params.checks.from_mapping``), with an optional ``run=``: checked here;
        - keywords (for ``mesa.batch_run`` and notebooks): composed as the command line
          composes them (``params.checks.from_keywords``), then checked.

        ``rng`` seeds Mesa's generators; without it the run's own seed (``run.seed``) does.
        """
        if config is None and run is None:
            keywords = {"run_population": population, "run_start": start, "run_end": end, **keywords}
        elif config is not None and not isinstance(config, Settings) and run is None:
            run = RunConfig(population=population, start=start, end=end)
        settings = settings_for(config, run, keywords)
        super().__init__(rng=settings.run.seed if rng is None else rng)
        config, run = settings
        self.config = config
        self.run_config = run
        self.start_month = month_index(run.start)  # the first reported month
        # the place is built run.spin_up months earlier and runs unreported until run.start
        self.first_month = self.month = self.start_month - run.spin_up
        self.end_month = month_index(run.end)
        self.national = NationalSetting(config, self.start_month)
        self.economy = LocalEconomy(self)
        self.market = LocalMarket(self)
        self.payments = PaymentQueue(self)
        self.citizens = Citizens(self, run.population)
        # local firms start with two months of their wage bill in hand
        self.economy.local_private.cash = 2 * float(
            self.citizens.wage_bill(LOCAL_PRIVATE, self.citizens.hours_worked(0.0)).sum())
        self.orgs = Register()  # the organisations' numeric state, a row each
        self.organisations: list[CommonsOrganisation] = []  # every organisation that ever lived
        self.live_organisations: list[CommonsOrganisation] = []
        self.births: Counter = Counter()
        self.deaths: Counter = Counter()
        self.closed_this_month: list[CommonsOrganisation] = []
        self.last_wage_pools: dict[int, float] = {}  # each employer's wage bill last month
        self.found_first_organisations()
        self.council = Council(self)
        self.fund = SocialInvestmentFund(self)
        self.founding = Founding(self)
        self.primes = [PrimeContractor(self) for _ in range(config.primes.count)]
        # bound methods, not lambdas, so that a model pickles (runs.branches saves and restores it)
        self.ledger = Ledger({sector: partial(self.holding, sector) for sector in SECTORS})
        channels = self.council.set_budget(self.council.budget0)
        # volunteers first: organisations weigh the primes' first subcontract offers with the
        # volunteers they had in 2010, not as empty shells (they were running before the run)
        self.first_volunteers()
        self.council.let_first_contracts()
        self.staff_employers(channels, hire_unemployed=False)
        # how the change in volunteering from the year before ubi.start splits into time and
        # income (its windows lie in the reported months, so the spin-up adds nothing to it)
        self.time_split = TimeIncomeSplit(self.citizens.n, self.start_month, self.end_month,
                                          month_index(config.ubi.start))
        self.spin_up()
        self.datacollector = mesa.DataCollector(model_reporters={name: name for name in REPORTERS})

    def holding(self, sector: str) -> float:
        """What a sector holds now, for the ledger's stock-flow check."""
        if sector == "citizens":
            return float(self.citizens.cash.sum())
        if sector == "commons":
            return sum(self.orgs.cash[self.orgs.live].tolist())
        if sector == "primes":
            return sum(p.cash for p in self.primes)
        return getattr(self.economy if sector in ("local_private", "outside") else self, sector).cash

    def __getstate__(self) -> dict:
        """Pickled (``runs.branches``) without scratch arrays or report cache: remade on use."""
        state = dict(self.__dict__)
        state.pop("_scratch", None)
        state.pop("_report_cache", None)
        return state

    def adopt(self, config: ModelConfig) -> None:
        """Go on under ``config``, whose ``sim.national.history`` is this run's: remake the calendar."""
        self.config = config
        self.national = NationalSetting(config, self.start_month)

    def spin_up(self) -> None:
        """Run the months before ``run.start`` unreported, so that the first reported month
        opens in the model's own steady state rather than in the cold start it was built in.

        The months are simulated as any other, on the real calendar, so every dated policy
        (austerity path, automation, procurement, commissioning, UBI, the fund) is still at its
        pre-start setting. Nothing is collected, and Mesa's step count stays at 0. What feeds
        the dynamics (stocks, baselines such as the first grant budget) carries on; the one
        baseline that only a report reads, the volunteering counted in 2010's need, is taken
        again in the first reported month (docs/ODD.md §5).
        """
        while self.month < self.start_month:
            self.simulate_month()
            self.month += 1
        self.council.volunteer_value0 = None

    # ------------------------------------------------------------------ set-up
    def found_first_organisations(self) -> None:
        """The commons of 2010, at the place's densities, of mixed ages and track records."""
        rng, place = self.rng, self.config.place
        density = {"coop": place.coops_per_100k, "community_business": place.community_businesses_per_100k,
                   "vcs": place.vcs_per_100k}
        for kind in KINDS:
            expected = density[kind] * self.citizens.n / 100_000
            for _ in range(int(expected) + int(rng.random() < expected % 1)):
                org = self.register(kind, int(rng.integers(self.citizens.n_nbhd)))
                org.born = self.month - int(rng.integers(1, 241))  # founded before the run
                org.experience = int(rng.integers(0, 120))
                org.cash = org.kind_config.start_cash_months * org.overheads
                org.learn()

    def first_volunteers(self) -> None:
        """Seed 2010's volunteers: motivated residents join organisations within reach."""
        citizens = self.citizens
        keen = np.flatnonzero(self.rng.random(citizens.n) < citizens.motivation)
        citizens.org[keen] = citizens.join(keen, *self.organisation_arrays())
        citizens.active = citizens.org >= 0
        self.count_members()

    def register(self, kind: str, nbhd: int, cash: float = 0.0) -> CommonsOrganisation:
        org = CommonsOrganisation(self, kind, nbhd, cash)
        self.organisations.append(org)
        self.live_organisations.append(org)
        return org

    def staff_employers(self, channels: dict[str, float], hire_unemployed: bool = True) -> None:
        """Council, primes and commons employ as many residents as their wage bills pay for."""
        cfg = self.config
        council_pool = cfg.council.in_house_wage_share * channels["in_house"] + channels["commissioning"]
        # primes and organisations staff up to what they paid in wages last month
        prime_pool = self.last_wage_pools.get(PRIMES)
        if prime_pool is None:  # before the first month: primes' own share of their contracts
            prime_pool = (cfg.primes.local_wage_share * cfg.primes.local_share
                          * sum(c.delivery_cost for p in self.primes for c in p.contracts))
        pools = {COUNCIL: (council_pool, cfg.council.staff_wage),
                 PRIMES: (prime_pool, cfg.primes.local_wage),
                 COMMONS: (sum(self.orgs.staff[self.orgs.live].tolist()) * cfg.commons.staff_wage,
                           cfg.commons.staff_wage)}
        for employer, (pool, wage) in pools.items():
            # primes hire on casual, part-time terms
            status = PART_TIME if employer == PRIMES else FULL_TIME
            self.citizens.staff(employer, int(round(pool / wage)) if wage > 0 else 0, hire_unemployed, status)

    def share_wage_pools(self) -> None:
        """Divide each employer's booked wage bill among its staff (``Ledger.pay_wages``)."""
        for employer, amount in self.ledger.take_wage_pools().items():
            self.citizens.earn(employer, None, amount)
            self.last_wage_pools[employer] = self.last_wage_pools.get(employer, 0.0) + amount

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        self.simulate_month()
        self.datacollector.collect(self)
        self.month += 1
        self.running = self.month <= self.end_month

    def simulate_month(self) -> None:
        """One month of the schedule (docs/ODD.md §3), without reporting it."""
        self.begin_month()
        citizens, council, national = self.citizens, self.council, self.national
        ubi = national.ubi_level(self.month)
        if national.fund_open(self.month) and not self.fund.opened:
            self.fund.open()
        channels = council.set_budget(council.collect_revenue())
        council.retender()
        council.check_contracts()
        citizens.change_jobs(national.automation_hazard(self.month), ubi > 0)
        self.staff_employers(channels)
        hours = citizens.hours_worked(ubi)
        council.spend(channels)
        for prime in self.primes:
            prime.deliver()
        self.payments.settle()
        self.share_wage_pools()
        self.economy.pay_staff(hours)
        local_tax = self.config.ubi.funding == "local_tax"  # the council pays it, from the tax it collects
        citizens.claim_benefits(ubi, national.in_work_reach(self.month), council if local_tax else None)
        # before spending, so residents pay it from this month's pay; commons wages, shared
        # at the end of the month, are not in its base (a local rate rises to cover the cost)
        self.fund_ubi(ubi)
        council.collect_council_tax()
        self.pay_dividends()
        citizens.budget_time(hours)
        citizens.feel_stress()
        givers = citizens.volunteer(*self.organisation_arrays(), wear_by_slot=self.wear_by_slot())
        # each organisation takes only the hours it can organise (docs/ODD.md §7.6)
        citizens.hours, offered = absorb(citizens.org, citizens.hours, self.usable_by_slot(), givers)
        self.time_split.observe(self.month, citizens.free_share, citizens.bandwidth_now,
                                citizens.hours, citizens.active)
        self.count_members(offered, givers)
        for prime in self.primes:  # after volunteering: organisations weigh offers with this month's volunteers
            prime.refer_work()
        self.shop(citizens.spend())
        self.run_organisations()
        self.found_organisations()
        self.economy.pay_out_surplus()
        for prime in self.primes:
            prime.send_profit_home()
        council.assess_need(self.volunteer_value)
        self.share_wage_pools()
        self.ledger.check()

    def begin_month(self) -> None:
        self.ledger.begin_month()
        self.last_wage_pools = {}
        self.births.clear()
        self.deaths.clear()
        self.closed_this_month = []
        self.council.record.clear()
        self.citizens.start_month()
        self.economy.start_month()
        self.fund.start_month()
        self.orgs.start_month()
        for prime in self.primes:
            prime.start_month()

    def fund_ubi(self, ubi: float) -> None:
        """A tax on earnings for a UBI not paid from outside (docs/ODD.md §7.3): a national tax at
        the rate that funds it across the country, paid out of the place; or a local tax at the
        rate that covers the place's UBI, paid to the council that paid it (a rate capped at 0.9)."""
        funding, citizens = self.config.ubi.funding, self.citizens
        if ubi <= 0 or funding == "outside":
            return
        if funding == "national_tax":
            rate, payee = ubi / self.config.ubi.national_earnings, self.economy.outside
        else:
            wages = citizens.income_by_source.get("wages", 0.0)
            rate = citizens.income_by_source.get("ubi", 0.0) / wages if wages > 0 else 0.0
            payee = self.council
        citizens.pay_income_tax(min(rate, 0.9), payee)

    def pay_dividends(self) -> None:
        payers = [(org, org.share_surplus()) for org in self.live_organisations if org.kind == "coop"]
        payers = [(org, dividend) for org, dividend in payers if dividend > 0]
        self.citizens.receive_from_organisations([o for o, _ in payers], [d for _, d in payers], "dividends")

    def shop(self, spending: np.ndarray) -> None:
        """Residents' spending, resident by resident, goes through the local market (``sim.market``)."""
        self.market.shop(spending)

    def run_organisations(self) -> None:
        """Each live organisation's month-end books, then the closures' members released."""
        keep_books(self)
        self.wind_up()

    def close(self, org: CommonsOrganisation, cause: str) -> None:
        org.close(cause)
        self.live_organisations.remove(org)
        self.closed_this_month.append(org)
        self.deaths[(org.kind, cause)] += 1

    def wind_up(self) -> None:
        """Release the members of this month's closures and share out what cash they left."""
        closed = [o for o in self.closed_this_month if o.cash > 0]
        self.citizens.receive_from_organisations(closed, [o.cash for o in closed], "closure_assets")
        if self.closed_this_month:
            gone = np.isin(self.citizens.org, [o.index for o in self.closed_this_month])
            self.citizens.org[gone] = -1
            self.citizens.active[gone] = False

    def found_organisations(self) -> None:
        """Motivated, skilled, secure commoners found organisations if they can raise the money.

        How many found, and of which kind, follows each kind's prospects (``Founding.weights``);
        each kind has its own start-up capital and finance (``Founding.finance``).
        """
        citizens = self.citizens
        live = self.orgs.live
        successful = self.orgs.nbhd[live[self.orgs.successful(live, self.month)]]
        visible = (citizens.reach_counts @ np.bincount(successful, minlength=citizens.n_nbhd)).astype(float)
        demonstration = visible / max(self.orgs_in_reach0, 1e-9)
        weights = self.founding.weights()
        for i in citizens.founders(demonstration, sum(weights.values())):
            org = self.founding.finance(i, self.founding.choose(weights))
            if org is None:
                continue
            if citizens.org[i] >= 0:  # the founder leaves the organisation they belonged to
                self.organisations[citizens.org[i]].members -= 1
            citizens.org[i] = org.index
            org.members = 1  # the founder, so the room offered next month is right
            self.births[org.kind] += 1

    @property
    def orgs_in_reach0(self) -> float:
        if not hasattr(self, "_orgs_in_reach0"):
            counts = np.bincount([o.nbhd for o in self.organisations], minlength=self.citizens.n_nbhd)
            self._orgs_in_reach0 = float((self.citizens.reach_counts @ counts).mean())
        return self._orgs_in_reach0

    @property
    def volunteer_value(self) -> float:
        return float(self.citizens.hours.sum()) * self.config.commons.volunteer_hour_value

    @property
    def date(self) -> str:
        """The month being simulated, as YYYY-MM (after a step: the next month to simulate)."""
        return month_label(self.month)

    def run(self, progress=None) -> None:
        while self.running:
            self.step()
            if progress is not None:
                progress(self)
