"""Cells of a sweep share their past (issue 16): a month simulated once, not once per cell.

The debate's 96 cells differ mostly in levers that start in 2020 (the UBI, the fund,
procurement reform); the austerity paths part in 2018, and sanctions take effect at the
first reported month. Until a lever acts, cells that differ only in it are the same run:
``sim.national.history`` says what of a configuration has acted before a month, and two
jobs whose histories are equal there (same place, seed and calendar) have computed the same
numbers so far. So the first job to reach such a month saves its model there, and the others
go on from that state under their own configuration (``CommonsModel.adopt``). The outputs are
the same bytes as running every month again (tests/test_branches.py runs every dated lever
both ways); a sweep of the debate simulates about half the months.

- Before the jobs start, ``write_plan`` takes every job's checked settings and lists, for
  each job, the months at which it shares its history with another job of the sweep: the
  starts of dated levers, the first reported month, and the knots of the austerity paths,
  kept where the group of jobs sharing it is larger than at the next such month.
- A job (``SharedHistory.for_job``) goes on from the latest of its months whose state is
  saved, and saves the later ones that are not. Nothing depends on a state being there: a
  job that finds none runs from the start, so a stopped sweep, two jobs racing to save the
  same state, or a missing plan cost time, never a different result.
- States are pickles of the model (zlib level 1: about 7.5 MB at 90,000 residents), written
  atomically under ``<sweep dir>/.shared_history/`` and named by a digest of the history,
  the seed and the model's source code; the directory is removed when every job of the sweep
  has completed. They are read only from the sweep's own directory.

``run.share_history=false`` turns it off (every month of every job simulated, as before).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from commonsabm.params.checks import Settings
from commonsabm.params.months import month_index
from commonsabm.runs.jobs import atomic_write
from commonsabm.sim.model import CommonsModel
from commonsabm.sim.national import GATED, history

DIRECTORY = ".shared_history"
PLAN = "plan.json"


def _code_digest() -> str:
    """The model's source, so that a state saved by other code is never taken up."""
    import commonsabm.params
    import commonsabm.sim

    digest = hashlib.sha256()
    for package in (commonsabm.params, commonsabm.sim):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


CODE = _code_digest()


def first_month(settings: Settings) -> int:
    return month_index(settings.run.start) - settings.run.spin_up


def branch_months(settings: Settings) -> set[int]:
    """Months at which this configuration may part from another: the first reported month
    (levers without a date), each dated lever's start, and each knot of the austerity path;
    those after the first simulated month and not after the last."""
    model, run = settings
    months = {month_index(run.start)}
    months |= {month_index(getattr(getattr(model, section), start)) for section, (start, _) in GATED.items()}
    months |= {round(year * 12) for year in model.austerity.years}
    return {m for m in months if first_month(settings) < m <= month_index(run.end)}


def history_key(settings: Settings, month: int) -> str:
    """A digest of everything that has made this run what it is at the start of ``month``
    (the replicate's seed apart: ``state_path`` adds it)."""
    model, run = settings
    material = {"history": history(model, month_index(run.start), first_month(settings), month),
                "run": [run.population, run.start, run.end, run.spin_up, run.seed],
                "month": month, "code": CODE}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()[:40]


def plan(jobs: Iterable[tuple[str, Settings]]) -> dict[str, list[int]]:
    """For each job (label, settings), the months at which to save or take up a shared state."""
    jobs = [(label, settings) for label, settings in jobs if settings.run.share_history]
    months = sorted(set().union(*(branch_months(s) for _, s in jobs))) if jobs else []
    # every job's history at each of the sweep's branch months that falls within its run
    keys = {label: {m: history_key(settings, m) for m in months
                    if first_month(settings) < m <= month_index(settings.run.end)}
            for label, settings in jobs}
    sharing = {m: Counter(k[m] for k in keys.values() if m in k) for m in months}
    kept: dict[str, list[int]] = {}
    for label, by_month in keys.items():
        mine = [m for m in months if m in by_month]
        sizes = [sharing[m][by_month[m]] for m in mine]
        # a month is worth a state if more jobs share it than share the next one (which then
        # saves them more months); a group of one shares nothing
        kept[label] = [m for i, (m, size) in enumerate(zip(mine, sizes))
                       if size >= 2 and (i + 1 == len(sizes) or size > sizes[i + 1])]
    return kept


def write_plan(sweep_dir: Path, jobs: Iterable[tuple[str, Settings]]) -> dict[str, list[int]]:
    """Write the sweep's plan (``plan``) for its jobs to read; nothing if no job shares a month."""
    kept = plan(jobs)
    if any(kept.values()):
        directory = Path(sweep_dir) / DIRECTORY
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / PLAN, lambda p: p.write_text(json.dumps(kept)))
    return kept


def remove(sweep_dir: Path) -> None:
    """Remove the sweep's saved states (when every job has completed)."""
    shutil.rmtree(Path(sweep_dir) / DIRECTORY, ignore_errors=True)


class SharedHistory:
    """One job's side: take up the latest saved state of its history, save the others."""

    def __init__(self, directory: Path, settings: Settings, months: Iterable[int]):
        self.directory = Path(directory)
        self.settings = settings
        self.months = sorted(months)

    @classmethod
    def for_job(cls, settings: Settings) -> SharedHistory | None:
        """The running Hydra job's shared history, or None (not in a sweep, turned off, or
        nothing planned for this job)."""
        if not settings.run.share_history:
            return None
        try:
            from hydra.core.hydra_config import HydraConfig

            hydra = HydraConfig.get()
            directory = Path(str(hydra.sweep.dir)) / DIRECTORY
            label = str(hydra.job.num)
        except (ImportError, ValueError, AttributeError):
            return None
        try:
            months = json.loads((directory / PLAN).read_text()).get(label, [])
        except (OSError, ValueError):
            return None
        return cls(directory, settings, months) if months else None

    def state_path(self, month: int, replicate: int) -> Path:
        return self.directory / f"{history_key(self.settings, month)}-r{replicate}.pickle"

    def restore(self, replicate: int) -> CommonsModel | None:
        """This replicate's model at the latest planned month whose state is saved, gone on
        under this job's configuration; None if there is none (or it cannot be read)."""
        for month in reversed(self.months):
            path = self.state_path(month, replicate)
            if not path.exists():
                continue
            try:
                key, model = pickle.loads(zlib.decompress(path.read_bytes()))
            except Exception:  # noqa: BLE001 - a state that cannot be read is not there
                continue
            if key == path.stem and model.month == month:
                model.adopt(self.settings.model)
                model.run_config = self.settings.run
                return model
        return None

    def save(self, model: CommonsModel, replicate: int) -> None:
        """Save the model if this is a planned month and no job has saved it yet."""
        if model.month not in self.months:
            return
        path = self.state_path(model.month, replicate)
        if path.exists():
            return
        state = zlib.compress(pickle.dumps((path.stem, model), protocol=pickle.HIGHEST_PROTOCOL), 1)
        atomic_write(path, lambda p: p.write_bytes(state))


def run_replicate(settings: Settings, seed: Any, replicate: int, shared: SharedHistory | None,
                  progress=None) -> tuple[CommonsModel, str | None]:
    """One replicate to its end, taking up and saving shared states where the plan says;
    returns the model and the month it was taken up at (None: it ran every month)."""
    model = shared.restore(replicate) if shared is not None else None
    taken_up = None
    if model is None:
        model = CommonsModel(config=settings, rng=seed)
    else:
        taken_up = model.date
        if progress is not None:
            progress(model.month - model.start_month)  # the months another job simulated
    while model.running:
        if shared is not None:
            shared.save(model, replicate)
        model.step()
        if progress is not None:
            progress(1)
    return model, taken_up
