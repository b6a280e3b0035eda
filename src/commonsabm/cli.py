"""The command line: ``python -m commonsabm [+experiment=NAME] [key=value ...]``.

Hydra composes the configuration from ``conf/``; the typed schema rejects unknown keys
and wrong types, and ``ValidateBeforeRun`` checks ranges and contradictions, and that no
job would write over the results of another configuration, before Hydra creates or
writes into any output directory. Errors reach the user as one line and a non-zero
exit; set COMMONSABM_DEBUG=1 (or HYDRA_FULL_ERROR=1) for the traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

from commonsabm.analysis.sensitivity import check_settings as check_sensitivity
from commonsabm.params.app import MODES, AppConfig
from commonsabm.params.checks import check, check_one, check_values, checked, conf_dir, presets
from commonsabm.params.errors import describe, reject_unknown_keys, unknown_key
from commonsabm.params.schema import SECTIONS, ConfigError, ModelConfig
from commonsabm.runs.jobs import RunExists, Stopped, check_target
from commonsabm.runs.stopping import exit_stopped, guard_command, note_sweep, received, watch_from_the_start

ConfigStore.instance().store(name="schema", node=AppConfig)
# the environment of the Python running this command, for the cluster launcher's set-up lines
OmegaConf.register_new_resolver("commonsabm.venv", lambda: sys.prefix, replace=True)


def check_app(cfg: DictConfig) -> AppConfig:
    """Check everything a job reads: the model, the run, the mode and its section."""
    reject_unknown_keys(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))
    app: AppConfig = OmegaConf.to_object(cfg)
    check(ModelConfig.of(app), app.run)
    check_values(app, "", skip=SECTIONS + ("run",))
    if app.mode == "sensitivity":
        check_sensitivity(app)
    return app


class ValidateBeforeRun(Callback):
    """Reject out-of-range or contradictory settings before any output is created.

    Also refuse a job whose directory holds the results of another configuration, unless
    ``run.overwrite=true`` (``jobs.check_target``): here, because Hydra writes its
    ``.hydra/`` files into the directory before the job starts. Hydra turns exceptions
    raised in callbacks into warnings, so a bad config ends the process here with
    SystemExit, which Hydra lets through.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_or_exit(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check every job of the sweep, so a bad value fails the sweep before any job runs;
        then plan which months the `run` mode's jobs share (``runs.branches``)."""
        apps = _check_or_exit(config, sweep=True)
        if _is_basic(config) and config.get("mode", "run") == "run":
            from commonsabm.runs.branches import write_plan

            write_plan(Path(str(config.hydra.sweep.dir)),
                       [(label, checked(ModelConfig.of(app), app.run)) for label, app in apps])


class AggregateSweep(Callback):
    """At the end of a multirun, gather its jobs into sweep_summary.parquet and sweep_monthly.parquet.

    A convenience only: Hydra skips this callback when a job raises, so nothing may depend
    on it (``python -m commonsabm.runs.sweep DIR`` does the same at any time). Jobs of the `run`
    mode record their failures in status.json and return, so the callback does run; it
    then ends the command with exit status 1 if any job failed. When the multirun starts it
    notes the sweep, so that a command stopped part-way can record its jobs and say how to resume.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from hydra.core.global_hydra import GlobalHydra

        from commonsabm.runs.sweep import sweep_plan

        # only Hydra's basic sweeper plans every job in advance; another (Optuna) decides as it goes
        basic = str(config.hydra.sweeper.get("_target_", "")).endswith(".BasicSweeper")
        planned = len(sweep_plan(config.hydra.overrides.task, config.hydra.sweeper.get("params"),
                                 GlobalHydra.instance().config_loader())) if basic else None
        note_sweep(Path(str(config.hydra.sweep.dir)), planned)
        if str(config.hydra.launcher.get("_target_", "")).endswith(".JoblibLauncher"):
            watch_from_the_start()

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
        if results.states["completed"] == sum(results.states.values()):
            from commonsabm.runs.branches import remove

            remove(sweep_dir)  # the shared states: kept while a rerun may still take them up
        if config.get("verdict"):
            from commonsabm.analysis.verdict import write_verdict
            try:
                print(f"verdict: {write_verdict(sweep_dir)}")
            except Exception as exc:  # noqa: BLE001 - the sweep tables are written; say how to retry
                print(f"commonsabm: could not write the verdict ({describe(exc)}); "
                      f"run `python -m commonsabm.analysis.verdict {sweep_dir}`", file=sys.stderr)
        if results.states["failed"]:
            raise SystemExit(1)


# The jobs (their overrides) whose configs this command composed and checked before the sweep
# started. Hydra's basic sweeper composes every job once more, in this process, before launching
# it (validate_batch_is_legal), only to see that it composes: at ~0.2 s a job that doubled the
# checking of a 96-job sweep. It now composes only jobs not in this set (none, after the check).
_composed: set[tuple[str, ...]] = set()


def _validate_unchecked(validate):
    @functools.wraps(validate)
    def validate_batch_is_legal(self, batch):
        rest = [job for job in batch if tuple(job) not in _composed]
        if rest:
            validate(self, rest)

    validate_batch_is_legal._skips_checked = True
    return validate_batch_is_legal


if not getattr(BasicSweeper.validate_batch_is_legal, "_skips_checked", False):
    BasicSweeper.validate_batch_is_legal = _validate_unchecked(BasicSweeper.validate_batch_is_legal)


def _sweep_configs(config: DictConfig):
    """(number, config) of each job the basic sweeper will launch, composed as Hydra's launchers compose them.

    Another sweeper (Optuna) decides its jobs as it goes: then the one config checked is the
    sweep's fixed part, after each of its search-space overrides is checked unexpanded
    (``search_space``).
    """
    from hydra.core.global_hydra import GlobalHydra

    from commonsabm.runs.sweep import sweep_plan

    loader = GlobalHydra.instance().config_loader()
    params = config.hydra.sweeper.get("params")
    if _is_basic(config):
        plan = sweep_plan(config.hydra.overrides.task, params, loader)  # the loader expands a glob over a group
    else:
        plan = [search_space(config.hydra.overrides.task, params)]
    for num, overrides in enumerate(plan):
        job = loader.load_sweep_config(config, overrides)
        _composed.add(tuple(overrides))
        with open_dict(job):
            job.hydra.job.num = num  # as every launcher numbers its jobs
        yield str(num), job


def _is_basic(config: DictConfig) -> bool:
    return "BasicSweeper" in str(config.hydra.sweeper.get("_target_", ""))


def search_space(overrides: Sequence[str], params: Mapping[str, Any] | None = None) -> list[str]:
    """Check each search-space override (interval, range, choice, tagged) without expanding it; the rest.

    For a sweeper that samples its jobs (Optuna): each swept key must be in the schema, and
    each bound (an interval's ends, a range's first and last values, every choice) must be a
    value of the key's type inside its allowed range, or, for a config group, one of its
    presets. Raises ConfigError naming the key and what is allowed. Returns the fixed
    overrides (``hydra.sweeper.params`` first, as the sweepers put them), which every job shares.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    swept = [f"{key}={value}" for key, value in (params or {}).items()]
    parsed = OverridesParser.create().parse_overrides([*swept, *overrides])
    for override in parsed:
        if override.is_sweep_override() and not override.key_or_group.startswith("hydra."):
            _check_bounds(override.key_or_group, _bounds(override.value()))
    return [override.input_line for override in parsed if not override.is_sweep_override()]


def _bounds(sweep: Any) -> list[Any]:
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    if isinstance(sweep, IntervalSweep):
        return [sweep.start, sweep.end]
    if isinstance(sweep, RangeSweep):
        values = sweep.range()
        if isinstance(values, range):  # its ends only: a range may be long
            return [values[0], values[-1]] if len(values) else []
        return list(values)
    if isinstance(sweep, ChoiceSweep):
        return list(sweep.list)
    raise ConfigError(f"{sweep} is not a search space commonsabm knows; allowed: interval, range, choice")


def _check_bounds(key: str, bounds: list[Any]) -> None:
    parent, _, name = key.rpartition(".")
    node: Any = AppConfig()
    for part in [p for p in parent.split(".") if p]:
        node = getattr(node, part, None) if dataclasses.is_dataclass(node) else None
    fields = {f.name for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else set()
    if name in fields and not dataclasses.is_dataclass(getattr(node, name)):
        for bound in bounds:
            check_one(node, name, bound, key)
        return
    if not parent and presets(name):  # a config group: each choice one of its presets
        options = presets(name)
        for choice in bounds:
            if choice not in options:
                raise ConfigError(f"{key}={choice!r} is not a preset of {key}; allowed: one of {', '.join(options)}")
        return
    raise ConfigError(unknown_key(key))


def _output_dir(config: DictConfig, sweep_dir: str | None) -> Path | None:
    """The job's directory, resolved as Hydra's run_job resolves it; None if only the launcher can name it."""
    from hydra.core.hydra_config import HydraConfig

    hydra_config = HydraConfig.instance()
    before = hydra_config.cfg
    try:
        hydra_config.set_config(config)  # for ${hydra:...} in the directory's name
        if sweep_dir is None:
            return Path(str(config.hydra.run.dir))
        return Path(sweep_dir) / str(config.hydra.sweep.subdir)
    except Exception:  # noqa: BLE001 - e.g. a subdirectory named by a SLURM job id, not known yet
        return None
    finally:
        hydra_config.cfg = before


# run settings that say how to run a job, not what it computes: a job is the same job with
# them or without them (``job_yaml``)
RUN_NOT_JOB = ("overwrite", "share_history")


def job_yaml(cfg: DictConfig) -> str:
    """The job's config.yaml, whose SHA-256 says whether two jobs are the same (``jobs.config_digest``).

    The configuration without Hydra's node, and without ``run.overwrite`` (what to do with an
    earlier run in the directory) and ``run.share_history`` (whether to take up months another
    job simulated), which say how to run it, not what it is: with them or without, a job is
    the same job, and its config.yaml the same bytes.
    """
    run = OmegaConf.masked_copy(cfg.run, [k for k in cfg.run if k not in RUN_NOT_JOB])
    items = {k: (run if k == "run" else v) for k, v in cfg.items_ex(resolve=False) if k != "hydra"}
    return OmegaConf.to_yaml(OmegaConf.create(items))


def _check_or_exit(config: DictConfig, sweep: bool = False) -> list[tuple[str | None, AppConfig]]:
    """Each job's checked configuration, (label, app); a bad one ends the process (exit 2)."""
    # the sweep's directory first: it fixes the ${now:...} in its name for the launcher too
    sweep_dir = str(config.hydra.sweep.dir) if sweep else None
    basic = _is_basic(config)
    apps = []
    try:
        for label, job in (_sweep_configs(config) if sweep else [(None, config)]):
            app = check_app(_task_part(job))
            out = _output_dir(job, sweep_dir) if basic or not sweep else None
            if out is not None:
                check_target(out, job_yaml(job), app.run.overwrite, label)
            apps.append((label, app))
    except RunExists as exc:
        print(f"commonsabm: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as exc:  # noqa: BLE001 - any failure here is a bad config
        if received() is not None:
            raise  # a follow-on of a stopping signal, not a bad config: main says what stopped
        if os.environ.get("COMMONSABM_DEBUG"):
            raise SystemExit(f"commonsabm: error: {describe(exc)}") from exc
        print(f"commonsabm: error: {describe(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    return apps


def _task_part(config: DictConfig) -> DictConfig:
    cfg = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    return OmegaConf.merge(OmegaConf.structured(AppConfig), cfg)


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    import importlib

    from hydra.core.hydra_config import HydraConfig

    # ValidateBeforeRun has checked this config before Hydra made the job's directory; the
    # job's mode turns it into checked Settings once more on its way to the model
    # (params.checks.checked), so a check skipped by a changed callback still runs once
    app: AppConfig = OmegaConf.to_object(cfg)
    module, _, function = MODES[app.mode].partition(":")
    job = getattr(importlib.import_module(module), function)
    return job(app, Path(HydraConfig.get().runtime.output_dir), job_yaml(cfg))


def main() -> None:
    debug = bool(os.environ.get("COMMONSABM_DEBUG")) or bool(os.environ.get("HYDRA_FULL_ERROR"))
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let exceptions reach us, so we can say them in one line
    guard_command()
    # a signal decides the ending, whatever it was turned into on its way here (runs.stopping)
    stopped_by = None
    try:
        _hydra_main()
    except KeyboardInterrupt:
        stopped_by = signal.SIGINT
    except Stopped:
        stopped_by = signal.SIGTERM
    except SystemExit:
        if received() is None:
            raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one clear line
        if received() is None:
            if debug:
                raise
            print(f"commonsabm: error: {describe(exc)}", file=sys.stderr)
            sys.exit(2)
    signum = received() or stopped_by
    if signum is not None:
        exit_stopped(signum)
