"""The newest run or sweep on disk, for the notebooks in experiments/ when they are given none.

A run is a directory ``outputs/<scenario>/<date_time>/`` holding ``manifest.json`` (written
last, so a run still going is not picked); a sweep is a directory ``multirun/<scenario>/<date_time>/``
with at least one job (a subdirectory holding ``status.json``), a ``debate`` sweep first. Both
are looked for under the working directory and the one above it: Jupyter starts a notebook's
kernel in the notebook's own folder, ``experiments/``, while the command line writes into the
checkout. Newest means the most recently written ``manifest.json`` or job ``status.json``.
"""

from __future__ import annotations

import os
from pathlib import Path

from commonsabm.runs.jobs import STATUS_FILE

RUN_ENV, SWEEP_ENV = "COMMONSABM_RUN", "COMMONSABM_SWEEP"


def _roots(roots: tuple[str | os.PathLike, ...]) -> list[Path]:
    here = Path.cwd()
    return list(dict.fromkeys(Path(r).resolve() for r in (roots or (here, here.parent))))


def _newest(stamped: list[tuple[float, Path]]) -> Path | None:
    return max(stamped, key=lambda item: (item[0], str(item[1])))[1] if stamped else None


def latest_run(*roots: str | os.PathLike) -> Path:
    """The newest ``outputs/*/*`` run directory (one with ``manifest.json``) under the roots."""
    found = [(manifest.stat().st_mtime, manifest.parent)
             for root in _roots(roots) for manifest in root.glob("outputs/*/*/manifest.json")]
    newest = _newest(found)
    if newest is None:
        raise FileNotFoundError(
            f"no run found under {' or '.join(str(r) for r in _roots(roots))} (looked for outputs/*/*/manifest.json); "
            f"run one with `python -m commonsabm`, or set {RUN_ENV}=/path/to/a/run/directory")
    return newest


def _sweep_stamp(sweep: Path) -> float | None:
    """When the sweep's last job wrote its status, or None if it has no job yet."""
    stamps = [status.stat().st_mtime for status in sweep.glob(f"*/{STATUS_FILE}")]
    return max(stamps) if stamps else None


def latest_sweep(*roots: str | os.PathLike, scenario: str = "debate") -> Path:
    """The newest sweep of ``scenario`` under the roots' ``multirun/``, else the newest sweep of any scenario."""
    for pattern in (f"multirun/{scenario}/*", "multirun/*/*"):
        found = [(stamp, sweep) for root in _roots(roots) for sweep in root.glob(pattern)
                 if sweep.is_dir() and (stamp := _sweep_stamp(sweep)) is not None]
        newest = _newest(found)
        if newest is not None:
            return newest
    raise FileNotFoundError(
        f"no sweep found under {' or '.join(str(r) for r in _roots(roots))} (looked for multirun/*/*/ with a job's "
        f"{STATUS_FILE}); run one with `python -m commonsabm +experiment={scenario}`, "
        f"or set {SWEEP_ENV}=/path/to/the/sweep/directory")
