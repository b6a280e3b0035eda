"""The wording of configuration errors: one line that names the key and what is allowed.

Hydra, OmegaConf and the schema's own checks each fail in their own way; ``describe``
turns any of them into the one line the command line prints, and ``unknown_key`` words a
key the schema does not have, with the keys allowed beside it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from hydra.errors import MissingConfigException
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from commonsabm.params.app import AppConfig
from commonsabm.params.checks import allowed, conf_dir
from commonsabm.params.schema import ConfigError


def reject_unknown_keys(node: DictConfig, prefix: str = "") -> None:
    """Every key must be a field of the schema.

    Hydra's ``+key=value`` adds a key even to a typed section, and OmegaConf then keeps it
    silently: a misspelt ``+ubi.levle=300`` would run the default, and ``+ubi._target_=...``
    would sit in the saved config as if it meant something.
    """
    names = _schema_fields(prefix)
    if names is None:
        return
    for key in node.keys():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise ConfigError(unknown_key(dotted))
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            reject_unknown_keys(child, dotted)



def _schema_fields(dotted: str) -> list[str] | None:
    """The keys allowed at a dotted path of the schema, or None if the path is not a section."""
    node: Any = AppConfig
    for part in [p for p in dotted.split(".") if p]:
        fields = {f.name: f for f in dataclasses.fields(node)}
        if part not in fields:
            return None
        default = fields[part].default_factory() if fields[part].default_factory is not dataclasses.MISSING else None
        if not dataclasses.is_dataclass(default):
            return None
        node = type(default)
    return [f.name for f in dataclasses.fields(node)]


def _leaf_field(dotted: str) -> dataclasses.Field | None:
    parent, _, name = dotted.rpartition(".")
    node: Any = AppConfig()
    for part in [p for p in parent.split(".") if p]:
        node = getattr(node, part, None)
    if node is None or not dataclasses.is_dataclass(node):
        return None
    return {f.name: f for f in dataclasses.fields(node)}.get(name)


def unknown_key(key: str) -> str:
    """The one line for a key the schema does not have, with the keys allowed beside it."""
    parent = key.rpartition(".")[0]
    names = _schema_fields(parent)
    where = f"in '{parent}'" if parent else "at the top level"
    allowed_keys = ", ".join(names) if names else "see `python -m commonsabm --cfg job`"
    return f"unknown key '{key}'; allowed keys {where}: {allowed_keys}"


def describe(exc: BaseException) -> str:
    """Turn what Hydra, OmegaConf or the model raised into one line for the user."""
    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, MissingConfigException):
        match = re.search(r"Could not find '([^']+)'", str(exc))
        what = match.group(1) if match else (exc.missing_cfg_file or "config")
        group, _, name = what.rpartition("/")
        options = exc.options or []
        if not options and group:
            options = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
        return f"unknown {group or 'config'} '{name}'; allowed: {', '.join(options) or 'none'}"
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    for err in chain:
        if isinstance(err, ConfigError):
            return str(err)
        if isinstance(err, (ConfigKeyError, ConfigAttributeError)):
            return unknown_key(getattr(err, "full_key", None) or re.search(r"Key '([^']+)'", str(err)).group(1))
        if isinstance(err, ValidationError):
            key = getattr(err, "full_key", "") or "?"
            f = _leaf_field(key)
            kind = f.type if f is not None else "another type"
            detail = allowed(f) if f is not None else ""
            value = re.search(r"Value '([^']*)'", str(err))
            got = f" got {value.group(1)!r}" if value else ""
            return f"{key} has the wrong type ({got.strip() or 'invalid value'}); allowed: {kind} {detail}".rstrip()
        if isinstance(err, OmegaConfBaseException) and getattr(err, "full_key", None):
            return f"{err.full_key}: {str(err).splitlines()[0]}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{first} (set COMMONSABM_DEBUG=1 for details)"
