"""The command line: ``python -m commonsabm [+experiment=NAME] [key=value ...]``.

Hydra composes the configuration from ``conf/``; the typed schema rejects unknown keys
and wrong types, and ``ValidateBeforeRun`` checks ranges and contradictions before
Hydra creates any output directory. Errors reach the user as one line and a non-zero
exit; set COMMONSABM_DEBUG=1 (or HYDRA_FULL_ERROR=1) for the traceback.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.errors import MissingConfigException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from commonsabm.analysis.calibration import CalibrationConfig
from commonsabm.analysis.sensitivity import SensitivityConfig
from commonsabm.analysis.sensitivity import check_settings as check_sensitivity
from commonsabm.params.checks import allowed, check, check_values, conf_dir
from commonsabm.params.schema import SECTIONS, ConfigError, ModelConfig, RunConfig, p
from commonsabm.runs.jobs import Stopped

# What a job can do: mode name -> "module:function" taking (app config, output dir,
# resolved YAML) and returning the number a Hydra sweeper optimises, if any.
MODES = {
    "run": "commonsabm.runs.outputs:run_mode",
    "sensitivity": "commonsabm.analysis.sensitivity:run_mode",
    "calibration": "commonsabm.analysis.calibration:run_mode",
}


@dataclass
class AppConfig(ModelConfig):
    """What the command line accepts: the model's sections, the run, and what the job does.

    ``mode`` picks the job: one simulation (``run``) or an analysis that runs the model
    many times. Each analysis keeps its own settings in a section of the same name.
    """
    run: RunConfig = field(default_factory=RunConfig)
    scenario: str = p("default", help="name of the scenario, used in output paths and reports")
    mode: str = p("run", help="what the job does", choices=tuple(MODES))
    verdict: bool = p(False, help="write the debate's verdict (verdict.md) into the sweep directory when a "
                      "multirun ends; the debate experiments set it")
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)


ConfigStore.instance().store(name="schema", node=AppConfig)
# the environment of the Python running this command, for the cluster launcher's set-up lines
OmegaConf.register_new_resolver("commonsabm.venv", lambda: sys.prefix, replace=True)


def split(cfg: DictConfig) -> tuple[ModelConfig, RunConfig]:
    """The composed Hydra config as the model's plain dataclasses."""
    app: AppConfig = OmegaConf.to_object(cfg)
    model = ModelConfig(**{name: getattr(app, name) for name in SECTIONS})
    return model, app.run


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


def check_app(cfg: DictConfig) -> AppConfig:
    """Check everything a job reads: the model, the run, the mode and its section."""
    reject_unknown_keys(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
    app: AppConfig = OmegaConf.to_object(cfg)
    check(*split(cfg))
    check_values(app, "", skip=SECTIONS + ("run",))
    if app.mode == "sensitivity":
        check_sensitivity(app)
    return app


class ValidateBeforeRun(Callback):
    """Reject out-of-range or contradictory settings before any output is created.

    Hydra turns exceptions raised in callbacks into warnings, so a bad config ends the
    process here with SystemExit, which Hydra lets through.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_or_exit(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check every job of the sweep, so a bad value fails the sweep before any job runs."""
        _check_or_exit(config, sweep=True)


class AggregateSweep(Callback):
    """At the end of a multirun, gather its jobs into sweep_summary.parquet and sweep_monthly.parquet.

    A convenience only: Hydra skips this callback when a job raises, so nothing may depend
    on it (``python -m commonsabm.runs.sweep DIR`` does the same at any time). Jobs of the `run`
    mode record their failures in status.json and return, so the callback does run; it
    then ends the command with exit status 1 if any job failed.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from commonsabm.runs.sweep import load_sweep, report, write_sweep

        sweep_dir = Path(str(config.hydra.sweep.dir))
        if not sweep_dir.is_dir() or config.get("mode", "run") != "run":
            return  # the analyses write their own tables, not a run's
        try:
            results = load_sweep(sweep_dir)
            if results.states["missing"] == len(results.summary.drop_duplicates("job")):
                return  # no job kept a status.json: a mode that writes no run outputs
            write_sweep(sweep_dir, results)
        except Exception as exc:  # noqa: BLE001 - the jobs' own files are what count
            print(f"commonsabm: could not gather the sweep ({describe(exc)}); "
                  f"run `python -m commonsabm.runs.sweep {sweep_dir}`", file=sys.stderr)
            return
        report(sweep_dir, results)
        if config.get("verdict"):
            from commonsabm.analysis.verdict import write_verdict
            try:
                print(f"verdict: {write_verdict(sweep_dir)}")
            except Exception as exc:  # noqa: BLE001 - the sweep tables are written; say how to retry
                print(f"commonsabm: could not write the verdict ({describe(exc)}); "
                      f"run `python -m commonsabm.analysis.verdict {sweep_dir}`", file=sys.stderr)
        if results.states["failed"]:
            raise SystemExit(1)


def _sweep_configs(config: DictConfig):
    """Compose the config of each job the sweep will launch (Hydra's basic sweep expansion)."""
    from hydra import compose

    from commonsabm.runs.sweep import sweep_plan

    for job in sweep_plan(config.hydra.overrides.task):
        yield compose(config_name=config.hydra.job.config_name, overrides=job)


def _check_or_exit(config: DictConfig, sweep: bool = False) -> None:
    try:
        for job in (_sweep_configs(config) if sweep else [config]):
            check_app(_task_part(job))
    except Exception as exc:  # noqa: BLE001 - any failure here is a bad config
        if os.environ.get("COMMONSABM_DEBUG"):
            raise SystemExit(f"commonsabm: error: {describe(exc)}") from exc
        print(f"commonsabm: error: {describe(exc)}", file=sys.stderr)
        raise SystemExit(2) from None


def _task_part(config: DictConfig) -> DictConfig:
    cfg = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    return OmegaConf.merge(OmegaConf.structured(AppConfig), cfg)


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    import importlib

    from hydra.core.hydra_config import HydraConfig

    app = check_app(cfg)
    module, _, function = MODES[app.mode].partition(":")
    job = getattr(importlib.import_module(module), function)
    return job(app, Path(HydraConfig.get().runtime.output_dir), OmegaConf.to_yaml(cfg))


# ---------------------------------------------------------------- one-line errors
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


def main() -> None:
    debug = bool(os.environ.get("COMMONSABM_DEBUG")) or bool(os.environ.get("HYDRA_FULL_ERROR"))
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let exceptions reach us, so we can say them in one line
    try:
        _hydra_main()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("commonsabm: interrupted; finished jobs are kept: run the same command to resume", file=sys.stderr)
        sys.exit(130)
    except Stopped:
        print("commonsabm: stopped by SIGTERM; finished jobs are kept: run the same command to resume",
              file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        if debug:
            raise
        print(f"commonsabm: error: {describe(exc)}", file=sys.stderr)
        sys.exit(2)
