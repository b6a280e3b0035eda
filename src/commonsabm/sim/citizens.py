"""Residents, stored and updated as arrays: one entry per adult, no Python object each.

The behaviours are methods named for what residents do (``work``, ``claim_benefits``,
``spend``, ``volunteer``...); each acts on every resident at once. ``citizens[i]`` gives a
read-only view of one resident for inspection.

It runs a little over 400 lines because each behaviour updates the shared arrays in place,
in its formula's order (issue 16's fused passes): split across modules, the arrays' in-place
invariants (one buffer each, no copies) would have to be kept in several places.
"""

from __future__ import annotations

from types import MappingProxyType
import numpy as np
from scipy import sparse

from commonsabm.sim.network import ActivePeers, build_ties, in_reach, neighbourhoods
from commonsabm.sim.terms import (
    EMPLOYERS,
    FULL_TIME,
    INACTIVE,
    LOCAL_PRIVATE,
    OUTSIDE_FIRM,
    PART_TIME,
    RETIRED,
    STATUSES,
    UNEMPLOYED,
    WEEKS_PER_MONTH,
)
from commonsabm.sim.volunteering import decide, match
from commonsabm.sim.world import World


def only(mask: np.ndarray, values: np.ndarray | float) -> np.ndarray:
    """``values`` where ``mask`` holds, else 0: ``np.where(mask, values, 0.0)`` as a product.

    np.where branches on every resident and, with a mask as mixed as these (who is retired,
    who works for local firms), is several times slower than multiplying by the mask. For
    values finite and not negative, as every amount here is, the numbers are the same
    (x * 1 = x, x * 0 = +0).
    """
    return np.multiply(values, mask)


class Citizens:
    sector = "citizens"

    def __init__(self, model: World, n: int):
        self.model = model
        cfg = model.config
        rng = model.rng
        place = cfg.place
        self.n = n
        self.nbhd = neighbourhoods(n, cfg.network)
        self.n_nbhd = int(self.nbhd.max()) + 1
        self.reach = in_reach(self.n_nbhd, cfg.network.reach)
        # counts summed over the places within reach as integers: exact, and no float product, which
        # OpenBLAS threads (their spinning afterwards costs CPU each month at 100+ neighbourhoods)
        self.reach_counts = sparse.csr_array(self.reach, dtype=np.int64)
        self.ties = build_ties(rng, self.nbhd, cfg.network)
        self.degree = np.asarray(self.ties.sum(axis=1)).ravel()
        self.active_peers = ActivePeers(self.ties)  # the peer effect's count, moved by who changed
        self.inverse_degree = np.divide(1.0, self.degree, out=np.zeros(n), where=self.degree > 0)

        shares = np.array([place.full_time_share, place.part_time_share, place.unemployed_share,
                           place.inactive_share, place.retired_share])
        self.status = rng.choice(5, size=n, p=shares / shares.sum()).astype(np.int8)
        local = cfg.economy.local_employer_share
        self.employer = np.where(rng.random(n) < local, LOCAL_PRIVATE, OUTSIDE_FIRM).astype(np.int8)
        self.wage_rate = place.hourly_wage * np.exp(cfg.place.wage_dispersion * rng.standard_normal(n))
        self.wage_ladder = np.sort(self.wage_rate)  # who is low-paid enough to claim in work (in_work_claimants)
        beh = cfg.behaviour
        # the same in every place: places differ in structure, not in written-in civic spirit
        self.motivation = rng.beta(beh.motivation_alpha, beh.motivation_beta, n)
        self.skills = np.clip(rng.normal(place.skills_mean, 0.2, n), 0.0, 1.0)
        monthly = np.where(self.status <= PART_TIME, self.wage_rate * cfg.time.full_time_hours,
                           cfg.welfare.jobseeker_benefit)
        self.cash = monthly * place.savings_months * rng.lognormal(0.0, 0.8, n)
        self.stress = np.zeros(n)
        self.sanction_left = np.zeros(n, dtype=np.int16)
        self.active = np.zeros(n, dtype=bool)
        self.hours = np.zeros(n)
        self.free_hours = np.zeros(n)
        self.income = np.zeros(n)
        self.wages = np.zeros(n)  # this month's wage income, the base of a tax on earnings for a UBI
        self.conditional_share = np.zeros(n)
        self.free_share, self.bandwidth_now = np.zeros(n), np.ones(n)  # the propensity's time and income factors
        self.org = np.full(n, -1, dtype=np.int32)
        self.sanctions_this_month = 0
        self.jobseeker_sanctions_this_month = 0  # of them, on unemployed claimants (the JSA figure's base)
        self.income_by_source: dict[str, float] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> MappingProxyType:
        """A read-only snapshot of resident i, for inspection in notebooks and tests."""
        i = range(self.n)[i]  # negative indices count from the end; out of range raises IndexError
        fields = ("status", "employer", "wage_rate", "motivation", "skills", "cash", "stress",
                  "sanction_left", "active", "hours", "free_hours", "income", "org", "nbhd")
        view = {f: getattr(self, f)[i].item() for f in fields}
        view["status"] = STATUSES[view["status"]]
        view["employer"] = EMPLOYERS[view["employer"]] if view["status"] in STATUSES[:2] else None
        view["ties"] = self.ties.indices[self.ties.indptr[i]:self.ties.indptr[i + 1]].tolist()
        return MappingProxyType(view)

    @property
    def tracks_wages(self) -> bool:
        """Whether wages are kept apart: only where a tax on them can fund a UBI (they are zero
        otherwise), a pass less per payment. Read from the configuration, which a run that goes
        on under another one (``CommonsModel.adopt``) changes."""
        ubi = self.model.config.ubi
        return ubi.level > 0 and ubi.funding != "outside"

    @property
    def employed(self) -> np.ndarray:
        return self.status <= PART_TIME

    @property
    def sanctioned(self) -> np.ndarray:
        return self.sanction_left > 0

    def chance(self, who: np.ndarray, probability: float | np.ndarray) -> np.ndarray:
        """Which of the residents in a mask an event happens to, each with its probability.

        Draws only for the residents concerned, which is much cheaper than a draw for
        everyone when the mask is small (claimants, founders).
        """
        happened = np.zeros(self.n, dtype=bool)
        happened[self.happen(np.flatnonzero(who), probability)] = True
        return happened

    def happen(self, idx: np.ndarray, probability: float | np.ndarray) -> np.ndarray:
        """``chance`` for residents given by index (ascending), returning the indices it happens to;
        a probability array is per resident (full length) or per index (as long as ``idx``)."""
        p = probability if np.ndim(probability) == 0 or len(probability) == len(idx) else probability[idx]
        return idx[self.model.rng.random(len(idx)) < p]

    # ------------------------------------------------------------------ labour market
    def change_jobs(self, automation_hazard: float, ubi_on: bool) -> None:
        """Private jobs are lost (some to automation); claimants find work."""
        cfg, rng = self.model.config, self.model.rng
        private = self.employed & (self.employer <= OUTSIDE_FIRM)
        lose = self.happen(np.flatnonzero(private), cfg.place.job_loss_rate + automation_hazard)
        finding = cfg.place.job_finding_rate * (1 + (cfg.behaviour.ubi_job_finding if ubi_on else 0.0))
        find = self.happen(np.flatnonzero(self.status == UNEMPLOYED), min(finding, 1.0))
        self.status[lose] = UNEMPLOYED
        n_find = len(find)
        full_time = cfg.place.full_time_share / (cfg.place.full_time_share + cfg.place.part_time_share)
        self.status[find] = np.where(rng.random(n_find) < full_time, FULL_TIME, PART_TIME)
        self.employer[find] = np.where(rng.random(n_find) < cfg.economy.local_employer_share,
                                       LOCAL_PRIVATE, OUTSIDE_FIRM)
        # finding work ends a jobseeker's claim, and the sanction with it; a sanction served in
        # work (Universal Credit) runs its course, whatever the claimant's status
        self.sanction_left[find] = 0

    def staff(self, employer: int, headcount: int, hire_unemployed: bool = True, status: int = FULL_TIME) -> None:
        """Bring an employer's workforce to a headcount: hire claimants first, shed to the claimant pool."""
        rng = self.model.rng
        current = np.flatnonzero(self.employed & (self.employer == employer))
        gap = headcount - len(current)
        if gap < 0:
            leave = rng.choice(current, size=-gap, replace=False)
            self.status[leave] = UNEMPLOYED
        elif gap > 0:
            pools = [np.flatnonzero(self.status == UNEMPLOYED)] if hire_unemployed else []
            pools.append(np.flatnonzero(self.employed & (self.employer <= OUTSIDE_FIRM)))
            for pool in pools:
                take = rng.choice(pool, size=min(gap, len(pool)), replace=False)
                self.status[take[self.status[take] == UNEMPLOYED]] = status
                self.employer[take] = employer
                self.sanction_left[take] = 0
                gap -= len(take)
                if gap == 0:
                    break

    def hours_worked(self, ubi_level: float) -> np.ndarray:
        """Paid hours this month; a UBI trims workers' hours in proportion to its level against the
        jobseeker benefit, up to three times it (Mincome: -1% to -5% near the benefit; docs/ODD.md §7.3)."""
        cfg = self.model.config
        hours = np.take([cfg.time.full_time_hours, cfg.time.part_time_hours, 0.0, 0.0, 0.0], self.status)
        if ubi_level > 0:
            benefit = cfg.welfare.jobseeker_benefit
            # set against the benefit it stands in for; where there is none, it is as large as the cap
            relative = min(ubi_level / benefit, 3.0) if benefit > 0 else 3.0
            hours = hours * max(0.0, 1.0 - cfg.behaviour.ubi_hours_response * relative)
        return hours

    # ------------------------------------------------------------------ income
    def start_month(self) -> None:
        self.income[:] = 0.0
        if self.tracks_wages:
            self.wages[:] = 0.0
        self.income_by_source = {}

    def _credit(self, who: np.ndarray | None, amounts: np.ndarray | float, payer, channel: str) -> float:
        """Move money from a payer's account to residents' cash and income, booked in the ledger.

        ``who`` is a boolean mask over residents (None: everyone); ``amounts`` a scalar or a
        full-length array. Whole-array arithmetic is several times faster than indexed
        updates. A payer of None means the money was already taken and booked (pooled wages).
        """
        if who is None:
            add = np.broadcast_to(np.asarray(amounts, dtype=float), (self.n,))
        else:
            add = only(who, amounts) if np.ndim(amounts) == 0 and 0 <= amounts < np.inf else np.where(who, amounts, 0.0)
        self._add(add, channel == "wages")
        return self._book(float(add.sum()), payer, channel)

    def credit_apart(self, payments: list[tuple[np.ndarray, object, str]]) -> list[float]:
        """Credit several full-length payments (amounts, payer, channel), no resident receiving
        from more than one, in one pass over the balances; returns each one's total.

        Adding nothing is exact (x + 0 = x), so this gives the same balances as crediting them
        one by one.
        """
        combined = payments[0][0]
        for amounts, _, _ in payments[1:]:
            combined = combined + amounts
        wages = [channel == "wages" for _, _, channel in payments]
        self._add(combined, all(wages))
        if any(wages) and not all(wages) and self.tracks_wages:  # only the wage payments are taxable wages
            for (amounts, _, _), is_wage in zip(payments, wages):
                if is_wage:
                    self.wages += amounts
        return [self._book(float(amounts.sum()), payer, channel) for amounts, payer, channel in payments]

    def _add(self, add: np.ndarray, wages: bool) -> None:
        self.cash += add
        self.income += add
        if wages and self.tracks_wages:
            self.wages += add

    def _book(self, total: float, payer, channel: str) -> float:
        if payer is not None:
            payer.cash -= total
            self.model.ledger.record(payer.sector, "citizens", total, channel)
        self.income_by_source[channel] = self.income_by_source.get(channel, 0.0) + total
        return total

    def earn(self, employer: int, payer, pool: float) -> float:
        """Share an employer's wage pool equally among its staff."""
        if pool <= 0:
            return 0.0
        workers = self.employed & (self.employer == employer)
        count = np.count_nonzero(workers)
        if count == 0:  # a pool with nobody on the payroll goes to the claimants it would hire
            workers = self.status == UNEMPLOYED
            count = np.count_nonzero(workers)
            if count == 0:
                workers, count = None, self.n
        return self._credit(workers, pool / count, payer, "wages")

    def earn_wages(self, bill: np.ndarray, payer) -> float:
        """Pay individual wages: a full-length bill, zero for everyone the payer does not employ."""
        return self._credit(None, bill, payer, "wages")

    def receive_from_organisations(self, orgs: list, amounts: list[float], channel: str) -> None:
        """Share amounts paid out by organisations equally among each one's members, in one pass.

        An organisation with no members shares its amount among all residents.
        """
        if not orgs:
            return
        size = len(self.model.organisations) + 1
        slot = self.org + 1
        # only the payers' members are counted and paid: a lookup finds them, in index order
        paying = np.zeros(size, dtype=bool)
        paying[[org.index + 1 for org in orgs]] = True
        paid = np.flatnonzero(paying[slot])
        paid_slot = slot[paid]
        members = np.bincount(paid_slot, minlength=size)
        per_member = np.zeros(size)
        everyone = 0.0
        for org, amount in zip(orgs, amounts):
            org.cash -= amount
            if members[org.index + 1]:
                per_member[org.index + 1] = amount / members[org.index + 1]
            else:
                everyone += amount
        shares = np.zeros(self.n)
        shares[paid] = per_member[paid_slot]
        if everyone:  # adding a share of nothing changes nothing: skip the pass
            shares += everyone / self.n
        self._credit(None, shares, None, channel)
        self.model.ledger.record("commons", "citizens", float(sum(amounts)), channel)

    def credit_in_proportion(self, weights: np.ndarray, amount: float, payer, channel: str) -> None:
        """Pay an amount out in proportion to weights (profits to owners by wealth)."""
        total = weights.sum()
        if amount > 0 and total > 0:
            self._credit(None, amount * weights / total, payer, channel)

    def wage_bill(self, employer: int, hours: np.ndarray) -> np.ndarray:
        """Individual wages owed by an employer that pays by the hour (zero for everyone else)."""
        return only(self.employed & (self.employer == employer), self.wage_rate * hours)

    def in_work_claimants(self, reach: float) -> np.ndarray:
        """Part-time workers on Universal Credit with work-search requirements: those paid in the lowest
        ``reach`` share of wage rates (means-tested; wages do not depend on status, so about ``reach`` of them)."""
        cut = int(round(reach * self.n))
        low_paid = self.wage_rate < self.wage_ladder[cut] if cut < self.n else True
        return (self.status == PART_TIME) & low_paid  # none at cut 0: nobody is paid below the lowest wage

    def claim_benefits(self, ubi_level: float, in_work_reach: float = 0.0, ubi_payer=None) -> None:
        """Benefits from outside; an unconditional UBI replaces that much conditional benefit. The
        unemployed and in-work claimants are conditional: asked job search hours, open to sanctions."""
        cfg = self.model.config
        welfare = cfg.welfare
        unemployed = self.status == UNEMPLOYED
        claimants = unemployed | self.in_work_claimants(in_work_reach)
        replaced = ubi_level if cfg.ubi.unconditional else 0.0
        jobseeker = max(welfare.jobseeker_benefit - replaced, 0.0)
        # without a jobseeker benefit there is nothing to make conditional, or to sanction
        conditional = jobseeker / welfare.jobseeker_benefit if welfare.jobseeker_benefit > 0 else 0.0
        self.conditional_share = only(claimants, conditional)
        self.sanction()
        outside = self.model.economy.outside
        # one lookup by status instead of a masked pass per benefit
        by_status = np.array([0.0, 0.0, jobseeker, max(welfare.carer_benefit - replaced, 0.0), 0.0])
        benefits = np.take(by_status, self.status)
        benefits[self.sanctioned] = 0.0
        pensions = only(self.status == RETIRED, welfare.pension)  # nobody retired draws a benefit
        self.credit_apart([(benefits, outside, "benefits"), (pensions, outside, "pensions")])
        if ubi_level > 0:  # paid by the council when a local tax funds it (ubi.funding)
            self._credit(None, ubi_level, outside if ubi_payer is None else ubi_payer, "ubi")

    def sanction(self) -> None:
        """Conditional claimants face a monthly sanction hazard (lower in work); a sanction stops
        benefit for months and takes time and bandwidth while it lasts."""
        rules = self.model.national.sanction_rules(self.model.month)
        left = self.sanction_left
        left -= left > 0
        at_risk = np.flatnonzero((self.conditional_share > 0) & (left == 0))
        unemployed = self.status[at_risk] == UNEMPLOYED
        hazard = np.where(unemployed, rules.monthly_rate, rules.in_work_rate) * self.conditional_share[at_risk]
        new = self.model.rng.random(len(at_risk)) < hazard  # as ``happen``, over the at-risk residents
        left[at_risk[new]] = rules.duration_months
        self.sanctions_this_month = int(new.sum())
        self.jobseeker_sanctions_this_month = int((new & unemployed).sum())

    def pay_income_tax(self, rate: float, payee) -> float:
        """A flat tax at `rate` on this month's wages, capped at each one's cash, paid to `payee`."""
        tax = np.minimum(self.wages * rate, np.maximum(self.cash, 0.0))
        return -self._credit(None, -tax, payee, "ubi_tax")

    # ------------------------------------------------------------------ time and bandwidth
    def budget_time(self, paid_hours: np.ndarray) -> None:
        """Free hours = discretionary hours - paid work - conditionality - a sanction's process - care.
        Conditionality asks the commitment's hours less paid hours (Universal Credit's expected hours)."""
        model = self.model
        cfg = model.config
        asked = model.national.conditionality_rules(model.month).commitment_hours * WEEKS_PER_MONTH
        conditionality = np.subtract(asked, paid_hours)
        np.maximum(conditionality, 0.0, out=conditionality)
        conditionality *= self.conditional_share
        care = np.full(len(STATUSES), cfg.time.care_hours)
        care[INACTIVE] = cfg.time.carer_hours
        # in place, subtracting in the formula's order
        free = np.subtract(cfg.time.discretionary_hours, paid_hours)
        free -= conditionality
        free -= model.national.sanction_rules(model.month).process_hours * self.sanctioned
        free -= np.take(care, self.status)
        self.free_hours = np.maximum(free, 0, out=free)

    def feel_stress(self) -> None:
        """Stress follows the income shortfall, softened by savings; a sanction cuts income to nothing."""
        cfg = self.model.config
        line = cfg.welfare.poverty_line
        change = np.negative(self.stress)  # towards a target of 0 (no shortfall: exactly 0 below)
        if line > 0:  # clipped before dividing, so that even a line of next to nothing cannot overflow
            short = np.flatnonzero(self.income < line)  # only they have a shortfall
            shortfall = 1.0 - np.clip(self.income[short], 0.0, line) / line
            buffer = np.clip(self.cash[short], 0.0, 3 * line) / (3 * line)
            change[short] += shortfall * (1.0 - 0.5 * buffer)
        change *= cfg.behaviour.stress_adjustment
        self.stress += change

    @property
    def bandwidth(self) -> np.ndarray:
        """Cognitive space left for commoning after financial stress and sanctions."""
        beh = self.model.config.behaviour
        # in place, in the formula's order: 1 - stress's share - the sanction's share, where the
        # sanction's is subtracted only where one runs (elsewhere it is 0, and x - 0 = x)
        bandwidth = np.multiply(beh.stress_bandwidth, self.stress)
        np.subtract(1.0, bandwidth, out=bandwidth)
        bandwidth[self.sanctioned] -= beh.sanction_bandwidth
        return np.clip(bandwidth, 0.0, 1.0, out=bandwidth)

    # ------------------------------------------------------------------ commoning
    def volunteer(self, org_index: np.ndarray, org_nbhd: np.ndarray, room: np.ndarray,
                  wear: np.ndarray | float = 0.0, wear_by_slot: np.ndarray | None = None) -> np.ndarray:
        """Decide who gives hours to the commons this month, and how many.

        Propensity rises with motivation, free time, bandwidth and active peers; a newcomer
        also needs an organisation within reach with room. ``wear`` is each resident's
        further chance of stopping because their organisation's volunteers are worn out;
        ``wear_by_slot`` gives it by organisation instead (``CommonsModel.wear_by_slot``),
        looked up for this month's volunteers only. The hours set are those offered; the
        model then bounds them (``volunteering.absorb``). Returns the volunteers' indices
        (ascending): nobody else has any hours.
        """
        return decide(self, org_index, org_nbhd, room, wear, wear_by_slot)

    def join(self, seekers: np.ndarray, org_index: np.ndarray, org_nbhd: np.ndarray,
             room: np.ndarray) -> np.ndarray:
        """Match seekers to organisations within reach that have room; -1 where none does.

        The organisations are given as arrays (register index, neighbourhood, room); the
        result holds register indices.
        """
        return match(self.model.rng, self.nbhd, self.n_nbhd, self.model.config.network.reach,
                     seekers, org_index, org_nbhd, room)

    def founders(self, demonstration: np.ndarray, prospects: float = 1.0) -> np.ndarray:
        """Residents who found an organisation this month (before checking their start-up
        money); ``prospects`` scales the odds (1 at 2010's prospects, ``Founding.weights``)."""
        beh = self.model.config.behaviour
        who = np.flatnonzero(self.active)  # only volunteers found: a tenth of the passes over everyone
        who = who[(self.motivation[who] >= beh.founding_motivation) & (self.skills[who] >= beh.founding_skills)
                  & (self.stress[who] <= beh.founding_stress)]
        odds = prospects * beh.founding_rate * (1 + beh.demonstration_effect * demonstration[self.nbhd[who]])
        return self.happen(who, odds)

    # ------------------------------------------------------------------ spending
    def pay_council_tax(self, total: float) -> np.ndarray:
        """Council tax falls on residents not on benefits (council tax support covers claimants)."""
        liable = np.ones(len(STATUSES), dtype=bool)
        liable[[UNEMPLOYED, INACTIVE]] = False
        liable = np.take(liable, self.status)
        count = max(int(np.count_nonzero(liable)), 1)
        due = np.minimum(total / count, self.cash)
        due *= liable  # x 1 or x 0: the same as choosing, in a pass fewer
        self.cash -= due
        return due

    def spend(self) -> np.ndarray:
        """Spend this month's income, saving above the poverty line, drawing savings below it; per resident."""
        cfg = self.model.config
        line = cfg.welfare.poverty_line
        income = self.income
        saving = np.subtract(income, line)
        np.maximum(saving, 0.0, out=saving)
        saving *= cfg.welfare.saving_rate
        below = np.flatnonzero(income < line)  # only they draw on savings
        spending = np.subtract(income, saving, out=saving)
        spending[below] += np.minimum(line - income[below], 0.1 * self.cash[below])
        np.clip(spending, 0.0, self.cash, out=spending)
        self.cash -= spending
        return spending
