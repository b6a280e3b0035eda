"""Checking a configuration before anything runs, and moving between its nested and flat forms.

Hydra and OmegaConf already reject unknown keys and wrong types; this module adds what
they cannot: ranges, choices, month formats and settings that contradict each other.
Every failure is a ConfigError whose message is one line naming the key and what is
allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
import math
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from commonsabm.params.months import month_index, parse_month
from commonsabm.params.schema import SECTIONS, ConfigError, ModelConfig, ProcurementConfig, RunConfig

LEAST_BUDGET = 1.0  # GBP per resident per month of central grant and council tax in 2010


def walk(node: Any, prefix: str = "") -> Iterator[tuple[str, Any, dataclasses.Field]]:
    """Every leaf parameter as (dotted key, value, dataclass field)."""
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from walk(value, key + ".")
        else:
            yield key, value, f


def allowed(f: dataclasses.Field) -> str:
    """What a field accepts, in words, for error messages and the ODD table."""
    meta = f.metadata
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    if f.name in ("start", "end") or f.name.endswith("_start"):
        return "a month, YYYY-MM"
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}" if max(abs(lo), abs(hi)) < 1e6 else f"{lo:,} to {hi:,}"
    if lo is not None:
        return f">= {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    if f.default is dataclasses.MISSING:  # a list of numbers, such as austerity.years
        return "any finite numbers"
    return f"a {type(f.default).__name__}"


def _check_value(key: str, value: Any, f: dataclasses.Field) -> None:
    meta = f.metadata
    values = value if isinstance(value, list) else [value]
    for item in values:
        if meta.get("choices") and item not in meta["choices"]:
            raise ConfigError(f"{key}={item!r} is not allowed; allowed: {allowed(f)}")
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            continue
        # NaN compares false with everything, so a range alone would let it through; no
        # parameter means anything at infinity either (every number has a finite range, and
        # austerity.years are years), so neither is allowed anywhere
        if not math.isfinite(item):
            raise ConfigError(f"{key}={item!r} is not a finite number; allowed: {allowed(f)}")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and item < lo) or (hi is not None and item > hi):
            raise ConfigError(f"{key}={item!r} is out of range; allowed: {allowed(f)}")
    if isinstance(value, str) and (key.endswith(".start") or key.endswith("_start")
                                   or key.endswith(".end")):
        try:
            parse_month(value)
        except ValueError:
            raise ConfigError(f"{key}={value!r} is not a month; allowed: YYYY-MM, e.g. 2010-01") from None


def check_one(node: Any, name: str, value: Any, key: str) -> Any:
    """One value for the field `name` of a config dataclass, as the field takes it, or ConfigError.

    For options that are not written as config keys (the explorer's ``--population``):
    ``key`` is how the message names the value.
    """
    f = {f.name: f for f in dataclasses.fields(node)}[name]
    value = _coerce(value, f, key)
    _check_value(key, value, f)
    return value


class Settings(NamedTuple):
    """A model config and a run that passed ``check``; ``checked`` is what makes one.

    ``CommonsModel`` runs a ``Settings`` as it is and checks anything else, so a config
    is checked once on its way to the model, however many replicates it runs.
    """
    model: ModelConfig
    run: RunConfig


def checked(model: ModelConfig, run: RunConfig) -> Settings:
    check(model, run)
    return Settings(model, run)


def settings_for(config: Any, run: RunConfig | None, keywords: dict[str, Any]) -> Settings:
    """The one route from what ``CommonsModel`` is given to checked settings.

    ``config`` is a ``Settings`` (used as it is), a ``ModelConfig`` (checked with ``run``),
    a mapping of sections to fields such as a manifest's ``config`` (``from_mapping``), or
    None: then the model is composed from ``keywords`` as the command line composes it
    (``from_keywords``), with ``run``'s fields as ``run_*`` keywords.
    """
    if isinstance(config, Settings):
        if keywords or run is not None:
            raise TypeError("pass checked Settings alone, without run= or keyword parameters")
        return config
    if config is not None:
        if keywords:
            raise TypeError("pass either config= or keyword parameters, not both")
        run = run if run is not None else RunConfig()
        if isinstance(config, ModelConfig):
            return checked(config, run)
        if isinstance(config, Mapping):
            return from_mapping(config, run)
        raise TypeError("config= takes a ModelConfig, Settings or a dict of sections (a manifest's config), "
                        f"not {type(config).__name__}")
    if run is not None:
        keywords = {**{f"run_{f.name}": getattr(run, f.name) for f in dataclasses.fields(run)}, **keywords}
    return from_keywords(**keywords)


def check(model: ModelConfig, run: RunConfig) -> None:
    """Raise ConfigError on the first value the model cannot run with."""
    check_values(run, "run.")
    check_values(model)
    _check_consistency(model, run)


def check_values(node: Any, prefix: str = "", skip: tuple[str, ...] = ()) -> None:
    """Check every leaf of a config dataclass against its declared range and choices."""
    for key, value, f in walk(node, prefix):
        if key.split(".")[0] not in skip:
            _check_value(key, value, f)


def _close_to_one(total: float) -> bool:
    return abs(total - 1.0) <= 1e-6


def _check_consistency(m: ModelConfig, run: RunConfig) -> None:
    start, end = month_index(run.start), month_index(run.end)
    if end < start:
        raise ConfigError(f"run.end={run.end} is before run.start={run.start}; allowed: an end on or after the start")
    if m.ubi.level > 0 and month_index(m.ubi.start) > end:
        raise ConfigError(f"ubi.start={m.ubi.start} is after run.end={run.end}, so the UBI would never be paid; "
                          "allowed: a start on or before the end, or ubi.level=0")
    if m.investment_fund.enabled and month_index(m.investment_fund.start) > end:
        raise ConfigError(f"investment_fund.start={m.investment_fund.start} is after run.end={run.end}; "
                          "allowed: a start on or before the end, or investment_fund.enabled=false")
    rules = dataclasses.replace(m.procurement, start=ProcurementConfig().start)
    if month_index(m.procurement.start) > end and rules != ProcurementConfig():
        raise ConfigError(f"procurement.start={m.procurement.start} is after run.end={run.end}, so the "
                          "configured procurement rules would never apply; allowed: a start on or before the end")
    place = m.place
    shares = (place.full_time_share + place.part_time_share + place.unemployed_share
              + place.inactive_share + place.retired_share)
    if not _close_to_one(shares):
        raise ConfigError(f"place.*_share (employment shares) sum to {shares:.4f}; allowed: a sum of 1")
    if place.full_time_share + place.part_time_share <= 0:  # new jobs take their hours from 2010's mix
        raise ConfigError("place.full_time_share + place.part_time_share is 0, so nobody works in 2010; "
                          "allowed: a sum above 0")
    budget = place.central_grant + place.council_tax
    if budget < LEAST_BUDGET:
        raise ConfigError(f"place.central_grant + place.council_tax is {budget:g}, but the council's 2010 budget "
                          "is the base every later budget and cut is measured against; "
                          f"allowed: a sum of at least {LEAST_BUDGET:g}")
    weights = m.procurement.weight_price + m.procurement.weight_quality + m.procurement.weight_social_value
    if not _close_to_one(weights):
        raise ConfigError(f"procurement.weight_* sum to {weights:.4f}; allowed: a sum of 1")
    fund = m.investment_fund
    say = fund.public_weight + fund.private_weight + fund.commons_weight
    if not _close_to_one(say):
        raise ConfigError(f"investment_fund.*_weight (governance mix) sum to {say:.4f}; allowed: a sum of 1")
    years, index = m.austerity.years, m.austerity.grant_index
    if len(years) != len(index) or not years:
        raise ConfigError(f"austerity.years has {len(years)} entries and austerity.grant_index {len(index)}; "
                          "allowed: two non-empty lists of equal length")
    if any(b <= a for a, b in zip(years, years[1:])):
        raise ConfigError(f"austerity.years={years} is not increasing; allowed: strictly increasing years")
    if m.network.min_ties > m.network.max_ties:
        raise ConfigError(f"network.min_ties={m.network.min_ties} exceeds network.max_ties={m.network.max_ties}; "
                          "allowed: min_ties <= max_ties")
    if m.council.contracted_share + m.council.commissioning_share > 1:
        raise ConfigError("council.contracted_share + council.commissioning_share exceed 1; allowed: a sum <= 1")


# ---------------------------------------------------------------- flat keyword form
def _section_of(key: str) -> tuple[str, str]:
    """'investment_fund_loan_size' -> ('investment_fund', 'loan_size'), longest section first."""
    for section in sorted(SECTIONS + ("run",), key=len, reverse=True):
        if key.startswith(section + "_"):
            return section, key[len(section) + 1:]
    raise ConfigError(f"unknown parameter '{key}'; allowed: a section name ({', '.join(SECTIONS)}) "
                      "with a preset, or <section>_<field> such as ubi_level")


def _set_leaf(node: Any, section: str, name: str, value: Any, flat_key: str) -> None:
    """Set name inside node, where name may reach into a nested section (commons_coop_overheads)."""
    fields = {f.name: f for f in dataclasses.fields(node)}
    if name in fields and not dataclasses.is_dataclass(getattr(node, name)):
        setattr(node, name, _coerce(value, fields[name], flat_key))
        return
    for child in fields:
        if name.startswith(child + "_") and dataclasses.is_dataclass(getattr(node, child)):
            _set_leaf(getattr(node, child), child, name[len(child) + 1:], value, flat_key)
            return
    names = [f for f in fields if not dataclasses.is_dataclass(getattr(node, f))]
    raise ConfigError(f"unknown parameter '{flat_key}'; allowed in '{section}': {', '.join(names)}")


def _coerce(value: Any, f: dataclasses.Field, key: str) -> Any:
    kind = type(f.default) if f.default is not dataclasses.MISSING else list
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is list and isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{key}={value!r} has the wrong type; allowed: {allowed(f)} ({kind.__name__})")
    return value


def conf_dir() -> Path:
    """The config tree: inside the installed package, or the checkout's top-level conf/."""
    packaged = Path(__file__).resolve().parents[1] / "conf"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "conf"


def presets(section: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir() / section).glob("*.yaml"))


def apply_preset(model: ModelConfig, section: str, name: str) -> None:
    """Merge conf/<section>/<name>.yaml over a section, as Hydra's config group would."""
    from omegaconf import OmegaConf

    path = conf_dir() / section / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown {section} '{name}'; allowed: {', '.join(presets(section)) or 'none'}")
    data = OmegaConf.to_container(OmegaConf.load(path))
    data.pop("defaults", None)
    _merge(model, section, data)


def _merge(model: ModelConfig, section: str, values: dict[str, Any]) -> None:
    """Set a section's values from a (possibly nested) mapping, as Hydra would merge it."""
    for key, value in values.items():
        if isinstance(value, dict):  # a nested section, such as commons.coop
            for inner, item in value.items():
                _set_leaf(getattr(model, section), section, f"{key}_{inner}", item, f"{section}.{key}.{inner}")
        else:
            _set_leaf(getattr(model, section), section, key, value, f"{section}.{key}")


def primary_config() -> tuple[dict[str, str], dict[str, Any]]:
    """conf/config.yaml: its default preset per section, and the values it sets itself."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(OmegaConf.load(conf_dir() / "config.yaml"))
    choices = {k: v for entry in data.pop("defaults", []) if isinstance(entry, dict) for k, v in entry.items()}
    own = {k: v for k, v in data.items() if k in SECTIONS}
    return choices, own


def _compose(chosen: dict[str, str]) -> ModelConfig:
    """What the command line composes before any override: each section's default preset from
    conf/config.yaml (or the one chosen), then the values conf/config.yaml sets itself (the calibrated ones)."""
    model = ModelConfig()
    choices, own = primary_config()
    for section in SECTIONS:
        preset = chosen.get(section, choices.get(section))
        if preset is not None:
            apply_preset(model, section, preset)
    for section, values in own.items():
        _merge(model, section, values)
    return model


def from_keywords(**kwargs: Any) -> Settings:
    """Build and check a config from plain keywords: presets by section name, fields as section_field.

    It composes as the command line does (``_compose``), then sets the keywords.
    """
    run = RunConfig()
    model = _compose({s: kwargs.pop(s) for s in SECTIONS if isinstance(kwargs.get(s), str)})
    for key, value in kwargs.items():
        section, name = _section_of(key)
        target = run if section == "run" else getattr(model, section)
        _set_leaf(target, section, name, value, key)
    return checked(model, run)


def from_mapping(config: Mapping[str, Any], run: RunConfig) -> Settings:
    """Build and check a config given in its nested form, sections to fields, as manifest.json records it.

    Each value is set as a keyword would be (typed, then range-checked), over the command
    line's composition, so a manifest's whole ``config`` gives back exactly the config that
    ran, and a partial one changes only what it names. Errors name the dotted key.
    """
    model = _compose({})
    for section, values in config.items():
        if section not in SECTIONS:
            raise ConfigError(f"unknown section '{section}' in config=; allowed: {', '.join(SECTIONS)}")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{section}={values!r} in config= is not a mapping of its fields; "
                              f"allowed: a dict such as {{'{section}': {{field: value}}}}, as manifest.json holds")
        _merge(model, section, {k: dict(v) if isinstance(v, Mapping) else v for k, v in values.items()})
    return checked(model, run)


def to_keywords(model: ModelConfig) -> dict[str, Any]:
    """The flat form of a config: what CommonsModel(**kwargs) takes back."""
    return {key.replace(".", "_"): value for key, value, _ in walk(model)}
