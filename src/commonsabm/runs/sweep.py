"""Gather a sweep's jobs into two tables, whether or not every job finished.

In a notebook::

    from commonsabm.runs.sweep import load_sweep
    results = load_sweep("multirun/debate/2026-11-22_10-51-33")
    results.summary   # one row per job x replicate: overrides, state, error, X_start, X_final
    results.monthly   # one row per job x replicate x month: every metric of timeseries.parquet

From the shell, ``python -m commonsabm.runs.sweep DIR`` writes ``DIR/sweep_summary.parquet`` and
``DIR/sweep_monthly.parquet`` and prints how many jobs completed and failed; a multirun
does the same when it ends (``AggregateSweep`` in ``cli.py``), but nothing depends on that:
Hydra skips its end-of-sweep callback when a job raises, so run the command yourself then.

Each job's state comes from its ``status.json`` (see ``jobs.py``): ``completed``,
``failed``, ``running`` (started and not finished, or killed), or ``missing`` (the sweep
planned it, but it has no status: it never started). A job with outputs but no
``status.json`` is ``completed`` only if its files match the SHA-256 its ``manifest.json``
records, and ``unknown`` otherwise (``jobs.job_record``): never counted as a result. A job
whose files cannot be read is ``failed`` with the reason; no job is ever dropped. The command refuses (exit 2, nothing
written) when a job that completed has lost or damaged files: rerun the sweep to redo it.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import yaml

from commonsabm.runs.jobs import STATUS_FILE, atomic_write, damaged_files, job_record, read_status

SUMMARY_FILE = "sweep_summary.parquet"
MONTHLY_FILE = "sweep_monthly.parquet"
SERIES = "timeseries.parquet"
KEYS = ("job", "replicate", "seed", "state", "error")  # the first columns of .summary
INDEX = ("replicate", "month", "date")  # columns of timeseries.parquet that are not metrics
FINAL_MONTHS = 12  # X_final is the mean of the last twelve months
STATES = ("completed", "failed", "running", "missing", "unknown")  # a job's state in .summary


class SweepResults(NamedTuple):
    """A sweep's results.

    ``summary``: one row per job x replicate with ``job`` (the job's directory, relative to
    the sweep), ``replicate``, ``seed`` (the job's ``run.seed``; replicate k ran with
    ``numpy.random.SeedSequence(seed, spawn_key=(k,))``), ``state``, ``error``, one column per
    key the job overrode (as written on the command line, e.g. ``ubi``, ``ubi.level``), and
    for every metric X of timeseries.parquet ``X_start`` (first month) and ``X_final``
    (mean of the last 12 months; NaN unless the job completed).

    ``monthly``: one row per job x replicate x month of the completed jobs: ``job``,
    ``replicate``, ``month``, ``date`` and every metric. Join it to ``summary`` on ``job``
    (and ``replicate``) for the overrides.
    """
    summary: pd.DataFrame
    monthly: pd.DataFrame

    @property
    def states(self) -> dict[str, int]:
        """Jobs by state: {"completed": n, "failed": n, ...}."""
        return job_states(self.summary)


# ---------------------------------------------------------------- finding the jobs
def _job_dirs(root: Path) -> list[Path]:
    """Directories under root (root included) that hold a job; hidden ones (.hydra, .submitit) skipped."""
    found = []
    for here, dirs, files in os.walk(root):
        path = Path(here)
        if (path / ".hydra" / "overrides.yaml").is_file() or STATUS_FILE in files or SERIES in files:
            found.append(path)
            dirs[:] = []  # a job holds no other jobs
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return found


def _job_name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _sort_key(name: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in name.split("/"))


# libyaml's loader where PyYAML has it: the same objects, ten times faster on a job's config
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError):
        return None


def _planned_jobs(root: Path) -> dict[str, list[str]]:
    """The jobs Hydra's basic sweeper planned (from multirun.yaml), by subdirectory: their overrides.

    Only known when the sweep used the basic sweeper and the default subdirectory
    (``${hydra.job.num}``); otherwise only the jobs that created a directory are listed.
    """
    config = _yaml(root / "multirun.yaml")
    try:
        hydra = config["hydra"]
        if "BasicSweeper" not in str(hydra["sweeper"]["_target_"]) or hydra["sweep"]["subdir"] != "${hydra.job.num}":
            return {}
        overrides = list(hydra["overrides"]["task"])
        params = hydra["sweeper"].get("params") or {}
    except (TypeError, KeyError, AttributeError):
        return {}
    try:
        jobs = sweep_plan(overrides, params, _conf_loader())
    except Exception:  # noqa: BLE001 - an unreadable plan only means missing jobs are not listed
        return {}
    return {str(num): job for num, job in enumerate(jobs)}


def _conf_loader() -> Any:
    """Hydra's config loader over the project's conf/: what a sweep over a config group's options
    (``+world=glob(*)``) expands against, as the sweep did, and as running it again would."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path

    from commonsabm.params.checks import conf_dir

    return ConfigLoaderImpl(config_search_path=create_config_search_path(str(conf_dir())))


def sweep_plan(overrides: list[str], params: Mapping[str, Any] | None = None, loader: Any = None) -> list[list[str]]:
    """Each job's overrides, in job-number order, as Hydra's basic sweeper expands a sweep.

    ``params`` is ``hydra.sweeper.params`` (an experiment's sweep, ``+experiment=debate``):
    the sweeper puts them before the command line's overrides, as here. The one reading of
    Hydra's plan: the command line checks every job's config with it before the sweep
    starts, and ``load_sweep`` lists the jobs that never started. ``loader`` (Hydra's config
    loader) expands a sweep over a config group's options, ``+world=glob(*)``: without it
    only listed values can be planned.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    swept = [f"{key}={value}" for key, value in (params or {}).items()]  # as BasicSweeper._parse_config
    parsed = OverridesParser.create(config_loader=loader).parse_overrides([*swept, *overrides])
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, max_batch_size=None) for job in batch]


def _override_columns(overrides: list[str]) -> dict[str, Any]:
    """{key as written: value} for each override (``+experiment=x`` gives key ``experiment``)."""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:  # noqa: BLE001 - fall back to the text on either side of '='
        return {o.split("=", 1)[0].lstrip("+~"): (o.split("=", 1)[1] if "=" in o else None) for o in overrides}
    columns = {}
    for o in parsed:
        if o.is_delete():
            continue
        value = o.value()
        if isinstance(value, (list, dict)) or not isinstance(value, (str, int, float, bool, type(None))):
            value = o.get_value_element_as_str()
        columns[o.key_or_group] = value
    return columns


def _run_settings(job: Path | None, overrides: dict[str, Any], base: Any) -> tuple[int | None, int]:
    """The job's run.seed and run.replications: from its config, else its overrides, else the sweep's."""
    for source in ((job / ".hydra" / "config.yaml", job / "config.yaml") if job else ()):
        config = _yaml(source)
        run = config.get("run") if isinstance(config, dict) else None
        if isinstance(run, dict) and "seed" in run:
            return int(run["seed"]), int(run.get("replications", 1))
    run = base.get("run", {}) if isinstance(base, dict) else {}
    seed = overrides.get("run.seed", run.get("seed"))
    replications = overrides.get("run.replications", run.get("replications", 1))
    try:
        return (int(seed) if seed is not None else None), max(int(replications), 1)
    except (TypeError, ValueError):
        return None, 1


# ---------------------------------------------------------------- reading one job
def _read_series(job: Path) -> pd.DataFrame:
    series = pd.read_parquet(job / SERIES)
    if "replicate" not in series.columns:  # written before jobs had replicates: one replicate
        series.insert(0, "replicate", 0)
    if series.empty:
        raise ValueError("it has no rows")
    return series


def _metrics(series: pd.DataFrame) -> list[str]:
    return [c for c, dtype in series.dtypes.items() if c not in INDEX and pd.api.types.is_numeric_dtype(dtype)]


def _replicate_rows(series: pd.DataFrame) -> list[tuple[int, dict[str, float]]]:
    """For each replicate: every metric's first month (X_start) and mean of its last 12 (X_final)."""
    metrics = _metrics(series)
    ordered = series.sort_values(["replicate", "month"] if "month" in series.columns else ["replicate"],
                                 kind="stable")
    start = ordered.drop_duplicates("replicate", keep="first").set_index("replicate")[metrics].astype(float)
    final = ordered.groupby("replicate").tail(FINAL_MONTHS).groupby("replicate")[metrics].mean()
    both = start.add_suffix("_start").join(final.astype(float).add_suffix("_final"))
    # the floats as to_dict("index") gives them, without its row-by-row indexing (most of a job's reading)
    columns = list(both.columns)
    return [(int(replicate), dict(zip(columns, row))) for replicate, row in zip(both.index, both.to_numpy().tolist())]


def _load_job(path: Path | None, name: str, planned: list[str] | None,
              base: Any) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """The summary rows of one job and, if it completed, its monthly table."""
    overrides = planned or []
    if path is not None and (path / ".hydra" / "overrides.yaml").is_file():
        overrides = _yaml(path / ".hydra" / "overrides.yaml") or overrides
    columns = _override_columns(overrides)
    seed, replications = _run_settings(path, columns, base)
    status = job_record(path, (SERIES,)) if path is not None else None
    state = status["state"] if status else "missing"
    error = None
    if status and state == "failed":
        kind = status.get("exception")
        error = f"{kind}: {status.get('error')}" if kind else str(status.get("error"))
    elif state == "unknown":
        error = status["error"]
    monthly = None
    metric_rows: list[tuple[int, dict[str, float]]] = []
    if state == "completed":
        lost = list(dict.fromkeys(f for f in (*status.get("files", ()), SERIES) if not (path / f).is_file()))
        changed = [f for f in damaged_files(path, status) if f not in lost]
        if lost:
            state, error = "failed", f"completed, but {', '.join(lost)} {'is' if len(lost) == 1 else 'are'} missing"
        elif changed:
            state, error = "failed", (f"completed, but {', '.join(changed)} changed since it was written "
                                      "(truncated or corrupt: its SHA-256 differs from status.json)")
        else:
            try:
                monthly = _read_series(path)
                metric_rows = _replicate_rows(monthly)
            except Exception as exc:  # noqa: BLE001 - a damaged job is a failed row, not a crash
                state, monthly, metric_rows = "failed", None, []
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                error = f"cannot read {SERIES}: {type(exc).__name__}: {text}"
    if not metric_rows:
        metric_rows = [(k, {}) for k in range(replications)]
    rows = [{"job": name, "replicate": k, "seed": seed, "state": state, "error": error, **columns, **metrics}
            for k, metrics in metric_rows]
    if monthly is not None:
        monthly.insert(0, "job", name)
    return rows, monthly


# ---------------------------------------------------------------- the sweep
def load_sweep(path: str | os.PathLike) -> SweepResults:
    """Read every job of a sweep directory (or one run's directory) into ``SweepResults``.

    Jobs are the subdirectories Hydra made (each with ``.hydra/overrides.yaml``), plus
    the jobs ``multirun.yaml`` planned that never made one (state ``missing``).
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no sweep directory at {root}")
    base = _yaml(root / "multirun.yaml")
    planned = _planned_jobs(root)
    found = {_job_name(root, p): p for p in _job_dirs(root)}
    names = sorted(set(found) | set(planned), key=_sort_key)
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    for name in names:
        job_rows, monthly = _load_job(found.get(name), name, planned.get(name), base)
        rows += job_rows
        if monthly is not None:
            frames.append(monthly)
    if frames:
        monthly = pd.concat(frames, ignore_index=True)
        metrics = _metrics(monthly)
    else:
        metrics = _reporter_metrics()
        monthly = pd.DataFrame(columns=["job", *INDEX, *metrics])
    return SweepResults(_summary_frame(rows, metrics), monthly)


def _summary_frame(rows: list[dict[str, Any]], metrics: list[str]) -> pd.DataFrame:
    """Columns in a fixed order: keys, overrides in order of appearance, then each metric's start and final."""
    metric_columns = [f"{m}_{end}" for m in metrics for end in ("start", "final")]
    overrides = list(dict.fromkeys(k for row in rows for k in row if k not in KEYS and k not in metric_columns))
    frame = pd.DataFrame(rows, columns=[*KEYS, *overrides, *metric_columns])
    frame["replicate"] = frame["replicate"].astype("Int64")
    frame["seed"] = frame["seed"].astype("Int64")
    frame[metric_columns] = frame[metric_columns].astype(float)
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    return frame


def _reporter_metrics() -> list[str]:
    """The metric columns a run writes, for a sweep none of whose jobs could be read."""
    from commonsabm.sim.reporters import REPORTERS

    return [name for name in REPORTERS if name not in INDEX]


def job_states(summary: pd.DataFrame) -> dict[str, int]:
    """How many jobs are in each state (a job counts once, whatever its replicates)."""
    jobs = summary.drop_duplicates("job")
    counts = jobs["state"].value_counts()
    return {state: int(counts.get(state, 0)) for state in STATES}


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing types (an override that is a number in one job and text in another) become text."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        kinds = {type(v) for v in frame[column] if v is not None and not (isinstance(v, float) and math.isnan(v))}
        if len(kinds - {int, float}) and len(kinds) > 1:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame


def write_sweep(path: str | os.PathLike, results: SweepResults | None = None) -> SweepResults:
    """Write ``sweep_summary.parquet`` and ``sweep_monthly.parquet`` into the sweep directory, atomically."""
    root = Path(path)
    results = results if results is not None else load_sweep(root)
    atomic_write(root / SUMMARY_FILE, lambda p: _arrow_safe(results.summary).to_parquet(p, index=False))
    atomic_write(root / MONTHLY_FILE, lambda p: results.monthly.to_parquet(p, index=False))
    return results


def report(path: str | os.PathLike, results: SweepResults, file=sys.stdout) -> None:
    """Print the counts of jobs by state, and each failure and unknown job."""
    states = results.states
    total = sum(states.values())
    counts = ", ".join(f"{n} {state}" for state, n in states.items() if n or state in ("completed", "failed"))
    print(f"sweep {path}: {total} jobs: {counts}", file=file)
    listed = results.summary[results.summary["state"].isin(("failed", "unknown"))].drop_duplicates("job")
    for _, row in listed.iterrows():
        print(f"  job {row['job']} {row['state']}: {row['error']}", file=file)
    print(f"tables: {Path(path) / SUMMARY_FILE}, {Path(path) / MONTHLY_FILE}", file=file)


def damaged_results(path: str | os.PathLike, results: SweepResults) -> dict[str, str]:
    """Jobs that completed but whose files are now unreadable, changed or gone: {job: why}."""
    failed = results.summary[results.summary["state"] == "failed"].drop_duplicates("job")
    return {row["job"]: row["error"] for _, row in failed.iterrows()
            if (read_status(Path(path) / row["job"]) or {}).get("state") == "completed"}


def main(argv: list[str] | None = None) -> int:
    """``python -m commonsabm.runs.sweep DIR``: aggregate; exit 0 only if every job completed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m commonsabm.runs.sweep", description=(
        f"Gather a sweep's jobs into {SUMMARY_FILE} and {MONTHLY_FILE}; exit 1 unless every job "
        "completed; exit 2, writing nothing, if a completed job's files are damaged or lost."))
    parser.add_argument("directory", help="the sweep directory (hydra.sweep.dir)")
    args = parser.parse_args(argv)
    try:
        results = load_sweep(args.directory)
    except FileNotFoundError as exc:
        print(f"commonsabm.runs.sweep: error: {exc}", file=sys.stderr)
        return 2
    if results.summary.empty:
        print(f"commonsabm.runs.sweep: error: no jobs in {args.directory} (a sweep directory holds one "
              "subdirectory per job, each with .hydra/ and status.json)", file=sys.stderr)
        return 2
    damaged = damaged_results(args.directory, results)
    if damaged:  # tables gathered now would silently lack finished work
        listed = "; ".join(f"job {job}: {error}" for job, error in damaged.items())
        print(f"commonsabm.runs.sweep: error: results of completed jobs are damaged or missing ({listed}); "
              f"nothing was written: run the sweep again with hydra.sweep.dir={args.directory} to redo "
              "those jobs, or delete their directories", file=sys.stderr)
        return 2
    write_sweep(args.directory, results)
    report(args.directory, results)
    states = results.states
    return 0 if states["completed"] == sum(states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
