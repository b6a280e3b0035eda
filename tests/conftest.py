"""Shared helpers for the commonsabm test suite.

Runs are small (a few thousand residents, a few years) and cached per test process, so
that tests comparing the same arms of an experiment do not re-simulate them. Mechanism
tests compare runs that differ in ONE lever, on the same seeds (common random numbers),
and average over several seeds.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
CONF = ROOT / "conf"
if str(SRC) not in sys.path:  # the suite also runs without `pip install -e .`
    sys.path.insert(0, str(SRC))

from commonsabm import CommonsModel  # noqa: E402

SEEDS = (1, 2, 3, 4, 5)
SMALL = {"population": 3000, "start": "2010-01", "end": "2014-12"}


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@functools.lru_cache(maxsize=256)
def _simulate(frozen: tuple) -> tuple[CommonsModel, pd.DataFrame]:
    model = CommonsModel(**dict(frozen))
    model.run()
    return model, model.datacollector.get_model_vars_dataframe()


def simulate(**keywords: Any) -> tuple[CommonsModel, pd.DataFrame]:
    """Run a model to its end (cached per process); returns (model, monthly metrics).

    Do not mutate what this returns: other tests may share it.
    """
    params = {**SMALL, **keywords}
    params.setdefault("rng", 1)
    return _simulate(tuple(sorted((k, _freeze(v)) for k, v in params.items())))


Metric = str | Callable[[CommonsModel, pd.DataFrame], float]


def measure(metric: Metric, model: CommonsModel, frame: pd.DataFrame) -> float:
    """A column name means the mean of that column over the run; a callable is applied."""
    if callable(metric):
        return float(metric(model, frame))
    return float(frame[metric].mean())


def per_seed(metric: Metric, seeds=SEEDS, **keywords: Any) -> np.ndarray:
    """The metric for each seed, in seed order (so two arms can be paired seed by seed)."""
    return np.array([measure(metric, *simulate(rng=seed, **keywords)) for seed in seeds])


def step_through(model: CommonsModel, each: Callable[[CommonsModel], None]) -> int:
    """Step a model by hand to its end, calling `each(model)` after every step; returns the steps."""
    steps = 0
    while model.running:
        model.step()
        steps += 1
        each(model)
    return steps


@pytest.fixture(scope="session")
def conf_dir() -> Path:
    return CONF


@pytest.fixture(scope="session")
def src_dir() -> Path:
    return SRC


def user_env() -> dict[str, str]:
    """A user's environment for a command on this checkout: no debugging switches left on."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("COMMONSABM_DEBUG", "HYDRA_FULL_ERROR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(SRC)
    return env


def commonsabm(args: list[str], cwd: Path, timeout: int = 300) -> "subprocess.CompletedProcess":
    """Run `python -m commonsabm ARGS` as a user would: from a directory, on this checkout."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "commonsabm", *args], cwd=cwd, env=user_env(),
                          capture_output=True, text=True, timeout=timeout)


def assert_clean_run(result, out: Path, files) -> None:
    """A command that succeeded without a traceback and wrote every named file, none half-written."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in files:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.part"))
