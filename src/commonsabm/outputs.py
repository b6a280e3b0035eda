"""What one run writes: tables, a summary, the manifest and a figure, each written atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .calendar import month_label
from .config import ModelConfig, RunConfig
from .model import CommonsModel
from .organisation import KINDS, SOURCES
from .reporters import REPORTERS

OUTPUT_FILES = ("timeseries.parquet", "organisations.parquet", "summary.json", "manifest.json",
                "config.yaml", "overview.png")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary name beside the target, then rename: a file either is whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def timeseries(model: CommonsModel) -> pd.DataFrame:
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame.insert(0, "month", np.arange(len(frame), dtype=np.int32))
    return frame


def organisations(model: CommonsModel) -> pd.DataFrame:
    rows = []
    for org in model.organisations:
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
    """The headline numbers: the start and the end of the run, and what happened between."""
    first, last = series.iloc[0], series.iloc[-1]
    tail = series.iloc[-12:]
    ended = orgs[orgs["died"].notna()]
    out = {
        "start": first["date"], "end": last["date"], "population": model.citizens.n,
        "orgs_per_100k_start": {k: float(first[f"orgs_{k}"]) for k in KINDS},
        "orgs_per_100k_end": {k: float(last[f"orgs_{k}"]) for k in KINDS},
        "orgs_total_change": float(last["orgs_total"] / first["orgs_total"] - 1) if first["orgs_total"] else None,
        "births": {k: int((orgs["founded_in_run"] & (orgs["kind"] == k)).sum()) for k in KINDS},
        "deaths_by_cause": {str(c): int(n) for c, n in ended["cause"].value_counts().items()},
    }
    for col in ("volunteering_rate", "commons_share_total", "unmet_need", "local_multiplier",
                "prime_contract_share", "employment_rate", "poverty_rate", "income_gini",
                "commissioning_capacity", "care_share"):
        out[f"{col}_start"] = float(first[col])
        out[f"{col}_final_year"] = float(tail[col].mean())
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


def manifest(run: RunConfig, scenario: str, wall: float) -> dict[str, Any]:
    import hydra
    import mesa

    return {
        "package": "commonsabm", "version": __version__, "git_commit": _git_commit(),
        "scenario": scenario, "seed": run.seed, "population": run.population,
        "start": run.start, "end": run.end,
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "python": sys.version.split()[0], "platform": platform.platform(),
        "libraries": {"mesa": mesa.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                      "hydra": hydra.__version__, "pyarrow": pa.__version__},
        "wall_time_seconds": round(wall, 3),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def run_and_write(model_cfg: ModelConfig, run: RunConfig, out: Path, scenario: str, resolved: str,
                  progress: bool = True) -> dict[str, Any]:
    """Run one simulation and write every output into `out`; return the summary."""
    from .plots import overview

    started = time.perf_counter()
    model = CommonsModel(population=run.population, start=run.start, end=run.end, rng=run.seed,
                         config=model_cfg)
    months = model.end_month - model.start_month + 1
    with _progress(months, scenario, progress) as bar:
        model.run(progress=lambda m: bar.update(1))
    series, orgs = timeseries(model), organisations(model)
    _write_parquet(series, out / "timeseries.parquet", REPORTERS)
    _write_parquet(orgs, out / "organisations.parquet")
    result = summary(model, series, orgs)
    atomic_write(out / "summary.json", lambda p: p.write_text(json.dumps(result, indent=2)))
    atomic_write(out / "config.yaml", lambda p: p.write_text(resolved))
    atomic_write(out / "overview.png", lambda p: overview(series, p, title=f"{scenario}, seed {run.seed}"))
    wall = time.perf_counter() - started
    atomic_write(out / "manifest.json", lambda p: p.write_text(json.dumps(
        {**manifest(run, scenario, wall), "config": dataclasses.asdict(model_cfg)}, indent=2)))
    if progress:
        print_summary(result, out)
    return result


def run_mode(app, out: Path, resolved: str) -> None:
    """The `run` mode: one simulation of the configured scenario, with all its outputs."""
    from .config import SECTIONS, ModelConfig

    model = ModelConfig(**{name: getattr(app, name) for name in SECTIONS})
    run_and_write(model, app.run, out, scenario=app.scenario, resolved=resolved)


def _progress(total: int, scenario: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=scenario, unit="month", disable=not enabled, leave=False, file=sys.stderr)


def print_summary(result: dict[str, Any], out: Path) -> None:
    rows = [("commons organisations /100k", sum(result["orgs_per_100k_start"].values()),
             sum(result["orgs_per_100k_end"].values()))]
    rows += [(f"  {k}", result["orgs_per_100k_start"][k], result["orgs_per_100k_end"][k]) for k in KINDS]
    for col, label in (("volunteering_rate", "monthly volunteering"), ("commons_share_total", "commons share of delivery"),
                       ("unmet_need", "unmet need"), ("local_multiplier", "local multiplier (LM3)"),
                       ("prime_contract_share", "primes' contract share")):
        rows.append((label, result[f"{col}_start"], result[f"{col}_final_year"]))
    print(f"\n{'':30s}{result['start']:>10s}{result['end'][:4] + ' avg':>12s}")
    for label, start, end in rows:
        print(f"{label:30s}{start:10.3f}{end:12.3f}")
    print(f"\noutputs: {out.resolve()}")
