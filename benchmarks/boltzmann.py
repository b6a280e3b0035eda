"""The side-by-side anchor: Mesa's Boltzmann wealth model in its idiomatic, non-spatial form.

Agents live in the model's AgentSet and are stepped with ``shuffle_do("step")``; each
agent with wealth gives one unit to another agent chosen at random. The random partner
is drawn from a list of the agents made once, since indexing an AgentSet is deprecated
in Mesa 3.5 and builds a new list on every call (which would make the anchor quadratic
and flatter this model's ratio).
"""

from __future__ import annotations

import mesa


class MoneyAgent(mesa.Agent):
    def __init__(self, model: BoltzmannWealth):
        super().__init__(model)
        self.wealth = 1

    def step(self) -> None:
        if self.wealth > 0:
            other = self.random.choice(self.model.everyone)
            other.wealth += 1
            self.wealth -= 1


class BoltzmannWealth(mesa.Model):
    def __init__(self, n: int = 100, rng=None):
        super().__init__(rng=rng)
        MoneyAgent.create_agents(self, n)
        self.everyone = list(self.agents)

    def step(self) -> None:
        self.agents.shuffle_do("step")
