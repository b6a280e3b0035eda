"""What an actor may use of the model it lives in: a ``Protocol``, not the model class.

Agents reach the world through ``self.model`` (as in Mesa's examples) and are typed
against this interface, so no actor module imports ``CommonsModel`` and the model and its
actors do not form an import loop. Money moves only through ``ledger``; anything else an
agent needs of the place is listed here, and ``CommonsModel`` provides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # the actors' own classes, for their types only; none imports the model
    from commonsabm.params.schema import ModelConfig
    from commonsabm.sim.citizens import Citizens
    from commonsabm.sim.council import Council
    from commonsabm.sim.investment_fund import SocialInvestmentFund
    from commonsabm.sim.ledger import Ledger
    from commonsabm.sim.local_economy import LocalEconomy
    from commonsabm.sim.national import NationalSetting
    from commonsabm.sim.organisation import CommonsOrganisation
    from commonsabm.sim.prime import PrimeContractor
    from commonsabm.sim.procurement import PaymentQueue
    from commonsabm.sim.register import Register


class World(Protocol):
    config: ModelConfig
    rng: np.random.Generator
    month: int  # months since year 0 (``params.months.month_index``)
    start_month: int  # the first reported month (run.start)
    first_month: int  # the first simulated month: run.start less the spin-up
    ledger: Ledger
    economy: LocalEconomy
    payments: PaymentQueue
    national: NationalSetting
    citizens: Citizens
    council: Council
    fund: SocialInvestmentFund
    primes: list[PrimeContractor]
    orgs: Register  # the organisations' numeric state, a row each
    organisations: list[CommonsOrganisation]  # every organisation that ever lived
    live_organisations: list[CommonsOrganisation]

    # a resident-length array kept for the run, for monthly passes written with ``out=``
    def scratch(self, key: str, dtype: Any) -> np.ndarray: ...

    # Mesa's agent registry, which every agent's constructor uses
    def register_agent(self, agent: Any) -> None: ...
