"""What one job of the `run` mode writes: tables, a summary, the manifest and (a single run) a figure.

A job runs ``run.replications`` simulations (replicate k seeded by the k-th child of
``numpy.random.SeedSequence(run.seed)``) and writes them all into the same files, told
apart by a ``replicate`` column. Every file is written atomically, and ``status.json``
(see ``jobs.py``) records whether the job is running, completed or failed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from commonsabm import __version__
from commonsabm.params.months import month_index, month_label
from commonsabm.params.checks import Settings, checked
from commonsabm.params.schema import ModelConfig, RunConfig
from commonsabm.runs.branches import SharedHistory, run_replicate
from commonsabm.runs.jobs import MANIFEST, atomic_write, checksums, in_multirun, tracked
from commonsabm.runs.sweep import FINAL_MONTHS
from commonsabm.sim.model import CommonsModel
from commonsabm.sim.reporters import REPORTERS
from commonsabm.sim.terms import KINDS, SOURCES

FIGURE = "overview.png"
OUTPUT_FILES = ("timeseries.parquet", "organisations.parquet", "summary.json", "manifest.json",
                "config.yaml", FIGURE)
# A job of a sweep draws no figure: drawing one took most of a small job's time (about a
# second, against a few hundredths for the tables), and a sweep is read through its gathered
# tables and the verdict's figures. A single run keeps it.
SWEEP_JOB_FILES = tuple(name for name in OUTPUT_FILES if name != FIGURE)


def replicate_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The seed of each replicate: child k of SeedSequence(seed), whatever the number of replicates.

    Child k is ``SeedSequence(seed, spawn_key=(k,))``, so replicate k of a job is the same
    run whether the job has 1 replicate or 1,000: results never depend on how seeds are
    split between jobs. ``CommonsModel(rng=child)`` takes a child as it is.
    """
    return np.random.SeedSequence(seed).spawn(replications)


def seed_record(seed: int, k: int) -> dict[str, Any]:
    """How replicate k was seeded, enough to rebuild its SeedSequence."""
    return {"replicate": k, "entropy": seed, "spawn_key": [k]}


def timeseries(model: CommonsModel) -> pd.DataFrame:
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "month", np.arange(len(frame), dtype=np.int32))
    return frame


def organisations(model: CommonsModel) -> pd.DataFrame:
    rows = []
    for org in model.organisations:
        if org.died is not None and org.died < model.start_month:  # closed in the unreported spin-up
            continue
        rows.append({
            "id": org.unique_id, "kind": org.kind, "neighbourhood": org.nbhd,
            "born": month_label(org.born), "died": month_label(org.died) if org.died is not None else None,
            "cause": org.cause, "age_months": (org.died if org.died is not None else model.month) - org.born,
            "founded_in_run": org.born >= model.start_month,
            "members": org.members, "staff": org.staff, "capacity": org.capacity, "experience": org.experience,
            **{f"revenue_{s}": org.revenue_total[s] for s in SOURCES},
        })
    return pd.DataFrame(rows)


def _write_parquet(frame: pd.DataFrame, path: Path, units: dict[str, tuple[str, str]] | None = None) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if units:
        fields = [f.with_metadata({"unit": units[f.name][0], "description": units[f.name][1]})
                  if f.name in units else f for f in table.schema]
        table = table.cast(pa.schema(fields, metadata=table.schema.metadata))
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def summary(model: CommonsModel, series: pd.DataFrame, orgs: pd.DataFrame) -> dict[str, Any]:
    """The headline numbers: the start and the end of the run, and what happened between.

    ``*_final_year`` are means over the run's last ``final_months`` months: twelve, as the
    sweep's ``X_final`` columns, or every month of a shorter run.
    """
    first, last = series.iloc[0], series.iloc[-1]
    tail = series.iloc[-FINAL_MONTHS:]
    ended = orgs[orgs["died"].notna()]
    out = {
        "start": first["date"], "end": last["date"], "population": model.citizens.n,
        "final_months": len(tail),
        "orgs_per_100k_start": {k: float(first[f"orgs_{k}"]) for k in KINDS},
        "orgs_per_100k_end": {k: float(last[f"orgs_{k}"]) for k in KINDS},
        "orgs_per_100k_final_year": {k: float(tail[f"orgs_{k}"].mean()) for k in KINDS},
        "orgs_total_change": float(last["orgs_total"] / first["orgs_total"] - 1) if first["orgs_total"] else None,
        "births": {k: int((orgs["founded_in_run"] & (orgs["kind"] == k)).sum()) for k in KINDS},
        "deaths_by_cause": {str(c): int(n) for c, n in ended["cause"].value_counts().items()},
    }
    for col in ("volunteering_rate", "commons_share_total", "unmet_need", "local_multiplier",
                "prime_contract_share", "employment_rate", "poverty_rate", "income_gini",
                "commissioning_capacity", "care_share"):
        out[f"{col}_start"] = float(first[col])
        out[f"{col}_final_year"] = float(tail[col].mean())
    # the change in volunteering from the year before ubi.start to the last months, split into
    # time and income (sim.volunteering.TimeIncomeSplit; None when the run cannot split it)
    out["volunteering_decomposition"] = model.time_split.result(model.citizens.motivation)
    out["max_ledger_error"] = float(model.ledger.max_relative_error)
    return out


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return result.stdout.strip() + ("-dirty" if dirty else "")


def rerun() -> dict[str, Any]:
    """How to run this job again: its own overrides, and the command made of them.

    ``command`` in the manifest is what the user typed, which for a sweep holds every job's
    values (``ubi=none,full``) and the output directory; Hydra's task overrides are this
    job's alone, without the ``hydra.*`` settings that only say where and how it ran. A
    folder of configs given with ``--config-dir`` is part of the composition, so it is kept.
    Outside Hydra (a call from Python) there are none: the manifest's config and seeds are
    then the record. The command starts with the interpreter that ran the job, by its
    absolute path, not a bare ``python``, which on many machines is not the environment
    commonsabm is installed in.
    """
    try:
        from hydra.core.hydra_config import HydraConfig

        hydra_cfg = HydraConfig.get()
    except (ImportError, ValueError):
        return {"overrides": None, "rerun": None}
    options = [f"--config-dir={source.path}" for source in hydra_cfg.runtime.config_sources
               if source.provider == "command-line"]
    if hydra_cfg.job.config_name != "config":
        options.append(f"--config-name={hydra_cfg.job.config_name}")
    # run.overwrite says what to do with an earlier run in the directory, not what this run is:
    # a rerun into a new directory has no need of it, and must not replace a run by accident
    overrides = [o for o in hydra_cfg.overrides.task if o.split("=", 1)[0].lstrip("+~") != "run.overwrite"]
    python = os.path.abspath(sys.executable) if sys.executable else "python"
    return {"overrides": overrides, "rerun": shlex.join([python, "-m", "commonsabm", *options, *overrides])}


def manifest(run: RunConfig, scenario: str, wall: float) -> dict[str, Any]:
    import hydra
    import mesa

    return {
        "package": "commonsabm", "version": __version__, "git_commit": _git_commit(),
        "scenario": scenario, "seed": run.seed, "population": run.population,
        "start": run.start, "end": run.end,
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        **rerun(),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "libraries": {"mesa": mesa.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                      "hydra": hydra.__version__, "pyarrow": pa.__version__},
        "wall_time_seconds": round(wall, 3),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def from_manifest(manifest: str | os.PathLike | Mapping[str, Any], replicate: int = 0) -> CommonsModel:
    """Replicate ``replicate`` of a run, rebuilt from its manifest alone and ready to ``run()``.

    ``manifest`` is a run's directory, its ``manifest.json``, or the parsed dict. The model
    gets the manifest's population, months and ``config`` (``CommonsModel(config=dict)``,
    checked on the usual route) and the replicate's recorded seed, so its timeseries is the
    one the job wrote for that replicate, without Hydra.
    """
    if not isinstance(manifest, Mapping):
        path = Path(manifest)
        manifest = json.loads((path / "manifest.json" if path.is_dir() else path).read_text())
    seeds = {record["replicate"]: record for record in manifest["seeds"]}
    if replicate not in seeds:
        raise ValueError(f"replicate={replicate} is not in this run; allowed: {', '.join(map(str, sorted(seeds)))}")
    record = seeds[replicate]
    rng = np.random.SeedSequence(record["entropy"], spawn_key=tuple(record["spawn_key"]))
    return CommonsModel(population=manifest["population"], start=manifest["start"], end=manifest["end"],
                        rng=rng, config=manifest["config"])


SERIES_KEYS = {"replicate": ("index", "replicate of the job (0-based); its seed is in summary.json"),
               "month": ("index", "months since the start of the run (0-based)")}


def run_and_write(settings: Settings, out: Path, scenario: str, resolved: str,
                  progress: bool = True, figure: bool = True) -> dict[str, Any]:
    """Run the job's ``run.replications`` simulations and write every output into `out`.

    Writes ``OUTPUT_FILES``, or ``SWEEP_JOB_FILES`` (no overview.png) without ``figure``.
    Returns what summary.json holds: the master seed, the seed of each replicate and one
    summary per replicate (``replicates``, in replicate order).
    """
    model_cfg, run = settings
    files = OUTPUT_FILES if figure else SWEEP_JOB_FILES

    started = time.perf_counter()
    seeds = replicate_seeds(run.seed, run.replications)
    months = month_index(run.end) - month_index(run.start) + 1
    all_series, all_orgs, summaries = [], [], []
    shared = SharedHistory.for_job(settings) if in_multirun() else None
    shared_from = []  # replicates that went on from another job's state (runs.branches)
    with _progress(months * len(seeds), scenario, progress) as bar:
        for k, child in enumerate(seeds):
            model, taken_up = run_replicate(settings, child, k, shared, progress=bar.update)
            if taken_up is not None:
                shared_from.append({"replicate": k, "from": taken_up})
            series, orgs = timeseries(model), organisations(model)
            summaries.append({"replicate": k, "seed": {"entropy": run.seed, "spawn_key": [k]},
                              **summary(model, series, orgs)})
            series.insert(0, "replicate", np.int32(k))
            orgs.insert(0, "replicate", np.int32(k))
            all_series.append(series)
            all_orgs.append(orgs)
            del model  # one replicate's residents in memory at a time
    series = pd.concat(all_series, ignore_index=True)
    orgs = pd.concat(all_orgs, ignore_index=True)
    _write_parquet(series, out / "timeseries.parquet", {**REPORTERS, **SERIES_KEYS})
    _write_parquet(orgs, out / "organisations.parquet")
    result = {"seed": run.seed, "replications": run.replications,
              "seeds": [seed_record(run.seed, k) for k in range(run.replications)],
              "replicates": summaries}
    atomic_write(out / "summary.json", lambda p: p.write_text(json.dumps(result, indent=2)))
    atomic_write(out / "config.yaml", lambda p: p.write_text(resolved))
    if figure:
        from commonsabm.runs.plots import overview  # here: matplotlib takes a second to import

        title = f"{scenario}, seed {run.seed}"
        if run.replications > 1:
            title += f", mean of {run.replications} replicates"
        atomic_write(out / FIGURE, lambda p: overview(mean_over_replicates(series), p, title=title))
    wall = time.perf_counter() - started
    seeding = {"replications": run.replications, "seeds": result["seeds"],
               "seeding": "replicate k ran with CommonsModel(rng=numpy.random.SeedSequence(seed, spawn_key=(k,))), "
                          "the k-th child of numpy.random.SeedSequence(seed).spawn(replications)"}
    # the manifest, written last, records every other file's SHA-256: proof of the job's files
    # should its status.json be lost (jobs.job_record)
    sums = checksums(out, [name for name in files if name != MANIFEST])
    atomic_write(out / MANIFEST, lambda p: p.write_text(json.dumps(
        {**manifest(run, scenario, wall), **seeding, "config": dataclasses.asdict(model_cfg),
         "shared_history": shared_from, "checksums": sums},
        indent=2)))
    if progress:
        print_summary(summaries, out)
    return result


def mean_over_replicates(series: pd.DataFrame) -> pd.DataFrame:
    """Each month's mean over the replicates (the series itself when there is one)."""
    if series["replicate"].nunique() == 1:
        return series
    numeric = [c for c in series.select_dtypes("number").columns if c != "replicate"]
    return series.groupby("date", sort=False)[numeric].mean().reset_index()


def run_mode(app, out: Path, resolved: str) -> None:
    """The `run` mode: the job's replicates of the configured scenario, with all their outputs.

    The job's status.json says whether it is running, completed or failed; a completed job
    is skipped when a sweep is run again into the same directory, and a directory holding
    the results of another configuration is kept unless ``run.overwrite`` (see ``jobs.tracked``).
    """
    settings = checked(ModelConfig.of(app), app.run)
    figure = not in_multirun()  # a sweep's jobs draw no figure (SWEEP_JOB_FILES)
    tracked(out, OUTPUT_FILES if figure else SWEEP_JOB_FILES, resolved,
            lambda: run_and_write(settings, out, scenario=app.scenario, resolved=resolved, figure=figure),
            overwrite=app.run.overwrite)


def _progress(total: int, scenario: str, enabled: bool):
    """One bar over the months of every replicate."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=scenario, unit="month", disable=not enabled, leave=False, file=sys.stderr)


def _mean_summary(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The replicates' headline numbers averaged, key by key, for the printed table."""
    def mean(values: list[Any]) -> Any:
        if all(isinstance(v, dict) for v in values):
            keys = dict.fromkeys(k for v in values for k in v)
            return {k: mean([v.get(k) for v in values]) for k in keys}
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return float(np.mean(numbers)) if numbers else values[0]
    return {k: mean([s.get(k) for s in summaries]) for k in summaries[0]}


def print_summary(result: dict[str, Any] | list[dict[str, Any]], out: Path) -> None:
    """The headline table of one replicate's summary, or of the mean over a list of them."""
    count = len(result) if isinstance(result, list) else 1
    if isinstance(result, list):
        result = _mean_summary(result) if count > 1 else result[0]
    # counts per 100,000 as whole numbers, shares as percentages, the multiplier as a ratio;
    # the second column is the mean of the run's final months, as the sweep's `_final` columns,
    # and its heading says how many months that is
    count_fmt, share_fmt, ratio_fmt = "{:.0f}", "{:.1%}", "{:.2f}"
    rows = [("commons organisations /100k", sum(result["orgs_per_100k_start"].values()),
             sum(result["orgs_per_100k_final_year"].values()), count_fmt)]
    rows += [(f"  {k}", result["orgs_per_100k_start"][k], result["orgs_per_100k_final_year"][k], count_fmt)
             for k in KINDS]
    for col, label, fmt in (("volunteering_rate", "monthly volunteering", share_fmt),
                            ("commons_share_total", "commons share of delivery", share_fmt),
                            ("unmet_need", "unmet need", share_fmt),
                            ("local_multiplier", "local multiplier (LM3)", ratio_fmt),
                            ("prime_contract_share", "primes' contract share", share_fmt)):
        rows.append((label, result[f"{col}_start"], result[f"{col}_final_year"], fmt))
    header = f"mean of {count} replicates" if count > 1 else ""
    months = round(result["final_months"])
    final = f"last {months} months" if months > 1 else "last month"
    print(f"\n{header:30s}{result['start']:>10s}{final:>16s}")
    for label, start, end, fmt in rows:
        print(f"{label:30s}{fmt.format(start):>10s}{fmt.format(end):>16s}")
    print_decomposition(result.get("volunteering_decomposition"))
    print(f"\noutputs: {out.resolve()}")


def print_decomposition(split: dict[str, Any] | None) -> None:
    """The time-income split of the change in volunteering, as the summary records it."""
    if not split or split.get("time_share") is None:
        return
    print(f"\nchange in volunteering, {split['reference']} to {split['final']}:")
    print(f"{'  volunteer hours per resident':30s}{split['volunteer_hours_change']:>+10.2f}")
    print(f"{'  through time (free hours)':30s}{split['time_share']:>10.0%}{split['through_time']:>+16.4f}")
    print(f"{'  through income (bandwidth)':30s}{split['income_share']:>10.0%}{split['through_income']:>+16.4f}")
