"""The ensemble's shared contract: what is uncertain, what the debate decides, and their names.

The uncertain parameters and their ranges are the sensitivity analysis's (``sensitivity.UNCERTAIN``,
docs/validation.md §2), so one list serves the screening, the calibrated ensemble and the
scenario discovery. The levers and their levels are the debate sweep's (conf/experiment/debate.yaml,
``hydra.sweeper.params``), read from that file so that the ensemble argues over the cells the
sweep runs, and the settings that file fixes for every cell (a UBI paid from outside, levers
starting in 2020) come with them.

EMA Workbench (3.0) names every parameter with a Python identifier, so a dotted config key
(``behaviour.motivation_alpha``) appears there in its keyword form (``behaviour_motivation_alpha``,
as ``params.checks.from_keywords`` takes it); ``KEYS`` maps one to the other.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

with warnings.catch_warnings():
    # EMA warns on import that ipyparallel is absent; the ensemble uses its multiprocessing
    # evaluator only, and a command's bad input must be one line
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter

from commonsabm.analysis.sensitivity import UNCERTAIN, Uncertain, check_bounds, configured
from commonsabm.analysis.sensitivity import problem as salib_problem
from commonsabm.params.checks import conf_dir
from commonsabm.params.schema import SECTIONS, ModelConfig

DEBATE = "experiment/debate.yaml"


def name_of(key: str) -> str:
    """A dotted config key in its keyword form, the identifier EMA names the parameter by."""
    return key.replace(".", "_")


@lru_cache(maxsize=1)
def _debate() -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(conf_dir() / DEBATE))


def lever_keys() -> frozenset[str]:
    """Every parameter a debate lever's presets or the debate's fixed settings set (dotted keys).

    Such a parameter is policy, not an unknown of the world: the `reformed` preset sets the
    social-value weight and primes' payment days, so a world drawing them would override the
    lever it is argued over (and bundle two changes into one cell)."""
    from omegaconf import OmegaConf

    keys = set(debate_settings())
    for lever in debate_levels():
        for preset in sorted((conf_dir() / lever).glob("*.yaml")):
            values = OmegaConf.to_container(OmegaConf.load(preset))
            keys.update(f"{lever}.{name}" for name in values if not str(name).startswith("_"))
    return frozenset(keys)


def debate_levels() -> dict[str, tuple[str, ...]]:
    """Each lever the debate sweep crosses and its levels, in the sweep's order."""
    params = _debate()["hydra"]["sweeper"]["params"]
    return {lever: tuple(level.strip() for level in str(levels).split(",")) for lever, levels in params.items()}


def debate_settings() -> dict[str, Any]:
    """What debate.yaml sets for every cell of the sweep, as dotted keys (``ubi.funding``, ``ubi.start``, ...)."""
    out: dict[str, Any] = {}
    for section, values in _debate().items():
        if section in SECTIONS and isinstance(values, dict):
            out.update({f"{section}.{name}": value for name, value in values.items()})
    return out


def levers() -> list[CategoricalParameter]:
    """The debate's levers as EMA categorical parameters over the sweep's levels."""
    return [CategoricalParameter(lever, list(levels)) for lever, levels in debate_levels().items()]


# the worlds' unknowns: the sensitivity list less what the debate's levers set
WORLD: tuple[Uncertain, ...] = tuple(u for u in UNCERTAIN if u.key not in lever_keys())
KEYS: dict[str, str] = {name_of(u.key): u.key for u in WORLD}

# the SALib form of the same problem (names are the dotted keys), for samplers outside EMA
PROBLEM: dict[str, Any] = salib_problem(WORLD)


def uncertainties(table: tuple[Uncertain, ...] = WORLD) -> list[RealParameter | IntegerParameter]:
    """Each uncertain parameter over its explored range; whole-number fields (months) as integers."""
    check_bounds(table)
    defaults = ModelConfig()
    out = []
    for u in table:
        if isinstance(configured(defaults, u.key), int):
            out.append(IntegerParameter(name_of(u.key), int(u.lo), int(u.hi)))
        else:
            out.append(RealParameter(name_of(u.key), float(u.lo), float(u.hi)))
    return out


__all__ = ["DEBATE", "KEYS", "PROBLEM", "WORLD", "lever_keys", "debate_levels", "debate_settings", "levers", "name_of", "uncertainties"]
