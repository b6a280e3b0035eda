"""commonsabm as an EMA Workbench model: uncertainties, levers, constants and outcomes.

``model()`` builds an ``ema_workbench.Model`` whose function, ``run_world``, runs commonsabm
once per experiment: the uncertain parameters (``problem.uncertainties``) set over the command
line's composition, the debate's levers (``problem.levers``) picked as presets with the settings
the debate fixes for every cell, and the constants (population, end, seed, seeds) as the run's.
EMA's own ``perform_experiments`` then samples and drives it, with its sequential or
multiprocessing evaluator:

    from ema_workbench import MultiprocessingEvaluator, perform_experiments
    with MultiprocessingEvaluator(model(population=10_000), n_processes=2) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=100, evaluator=evaluator)

One experiment runs the place over ``seeds`` replicates seeded by the children of ``seed``
(``runs.outputs.replicate_seeds``): every experiment shares them, so two worlds differ by their
parameters and not by their random draws (common random numbers). Its outcomes are each
calibration target's value, measured over the replicates as the calibration measures it
(``calibration.measure``), with its standard deviation over them, and the metrics the debate's claims are about (``claims.CLAIMS``),
as means over the replicates.

``run_world`` is a module-level function of plain values, so EMA's worker processes can
unpickle the model and run it.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from commonsabm.analysis.calibration import TARGETS, measure
from commonsabm.analysis.ensemble.problem import KEYS, debate_levels, debate_settings, levers, uncertainties
from commonsabm.analysis.sensitivity import with_values
from commonsabm.params.checks import Settings, checked, from_keywords

FINAL_MONTHS = 12  # the final-year metrics are means over the run's last twelve months, as the sweep's X_final
# the claims' change metrics (analysis.claims P3): final year minus first month of these columns summed
GROWTH: dict[str, tuple[str, ...]] = {"trading_growth": ("orgs_coop", "orgs_community_business"),
                                      "vcs_growth": ("orgs_vcs",)}
FINAL = ("volunteering_rate", "orgs_total", "commons_share_total", "local_multiplier", "claimant_commoning_hours")
METRICS: tuple[str, ...] = tuple(f"{column}_final" for column in FINAL) + tuple(GROWTH)
OUTCOMES: tuple[str, ...] = tuple(t.name for t in TARGETS) + METRICS
# each target's standard deviation over the replicates (0 with one replicate): what history
# matching's implausibility measures a world's distance from a band in (worlds.judge)
SPREAD = "_sd"
SPREADS: tuple[str, ...] = tuple(f"{t.name}{SPREAD}" for t in TARGETS)
NAME = "commonsabm"


def settings(values: Mapping[str, float], levels: Mapping[str, str], population: int, end: str,
             overrides: Mapping[str, Any] | None = None) -> Settings:
    """The checked settings of one experiment, through the project's one route to the model.

    Presets and, when any lever is picked, the debate's fixed settings are composed as the
    command line composes them (``from_keywords``); ``overrides`` (dotted keys) come last.
    With no lever picked the run is the calibrated baseline itself, whatever its horizon:
    the debate's levers start in 2020, which a run of the calibration years alone never reaches. The uncertain values are set
    on top with ``sensitivity.with_values``, which keeps the tender weights summing to 1,
    and the result is checked again.
    """
    dotted = {**(debate_settings() if levels else {}), **(overrides or {})}
    keywords = {key.replace(".", "_"): value for key, value in dotted.items()}
    base = from_keywords(**dict(levels), **keywords, run_population=population, run_end=end)
    return checked(with_values(base.model, dict(values)), base.run)


def outcomes(frames: list[pd.DataFrame]) -> dict[str, float]:
    """Each target's value (pooled over the replicates, as ``calibration.measure``) and its
    standard deviation over them, and each claim metric's mean."""
    fit = measure(frames)
    out = {row.target: float(row.model) for row in fit.itertuples()}
    out.update({f"{row.target}{SPREAD}": float(row.seed_sd) for row in fit.itertuples()})
    tails = [frame.iloc[-FINAL_MONTHS:] for frame in frames]
    for column in FINAL:
        out[f"{column}_final"] = float(np.mean([tail[column].mean() for tail in tails]))
    for name, columns in GROWTH.items():
        out[name] = float(np.mean([sum(tail[c].mean() - frame[c].iloc[0] for c in columns)
                                   for frame, tail in zip(frames, tails)]))
    return out


def run_world(population: int, end: str, seed: int, seeds: int, overrides: tuple = (), **given: Any) -> dict[str, float]:
    """One experiment: the uncertain values and lever levels EMA passes (by name), over ``seeds`` replicates.

    A lever EMA does not pass stays at the baseline's level; a run of scenarios alone (no
    policies) is the calibrated baseline.
    """
    from commonsabm.runs.outputs import replicate_seeds
    from commonsabm.sim.model import CommonsModel

    lever_names = debate_levels()
    unknown = [name for name in given if name not in KEYS and name not in lever_names]
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; allowed: an uncertainty or a lever of the debate")
    values = {KEYS[name]: float(value) for name, value in given.items() if name in KEYS}
    levels = {name: str(value) for name, value in given.items() if name in lever_names}
    arm = settings(values, levels, population, end, dict(overrides))
    frames = []
    for child in replicate_seeds(seed, seeds):
        sim = CommonsModel(config=arm, rng=child)
        sim.run()
        frames.append(sim.datacollector.get_model_vars_dataframe())
    return outcomes(frames)


def model(population: int = 10_000, end: str = "2030-12", seed: int = 42, seeds: int = 1,
          overrides: Mapping[str, Any] | None = None, with_levers: bool = True):
    """commonsabm as an EMA model: uncertainties, the debate's levers (unless ``with_levers`` is
    False), the run's constants and one scalar outcome per target and claim metric.

    ``overrides`` (dotted keys) are set in every experiment after the debate's own settings,
    e.g. ``{"ubi.start": "2011-01"}`` for a lever to bite in a short run.
    """
    from ema_workbench import Constant, Model, ScalarOutcome  # after problem's quiet import of EMA
    ema = Model(NAME, function=run_world)
    ema.uncertainties = uncertainties()
    ema.levers = levers() if with_levers else []
    # a tuple of pairs, not a dict: EMA copies constants into every experiment as plain values
    ema.constants = [Constant("population", int(population)), Constant("end", str(end)),
                     Constant("seed", int(seed)), Constant("seeds", int(seeds)),
                     Constant("overrides", tuple(sorted((overrides or {}).items())))]
    ema.outcomes = [ScalarOutcome(name) for name in OUTCOMES + SPREADS]
    return ema


__all__ = ["GROWTH", "METRICS", "OUTCOMES", "SPREADS", "model", "outcomes", "run_world", "settings"]
