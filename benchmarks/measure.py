"""What benchmarks/bench.py times: model runs in fresh processes (this checkout's code or a
reference commit's), the Boltzmann anchor in this process, and the debate sweep through the
command line. Each function returns plain numbers; bench.py judges them against the targets."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHILD = HERE / "child.py"


def current_src() -> Path:
    """The directory this process imports commonsabm from, so children time the same code."""
    import commonsabm

    return Path(commonsabm.__file__).resolve().parents[1]


def env_with(src: Path) -> dict:
    """This environment with ``src`` first on PYTHONPATH (ahead of any installed commonsabm)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}


def child(src: Path, *arguments: str) -> dict:
    """Run benchmarks/child.py with ``src`` first on PYTHONPATH; its one line of JSON."""
    out = subprocess.run([sys.executable, str(CHILD), *arguments], check=True, capture_output=True,
                         text=True, env=env_with(src), cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def model_run(src: Path, population: int, end: str) -> dict:
    return child(src, "run", str(population), end)


def heap_growth(src: Path, population: int, end: str, **keywords: float) -> dict:
    return child(src, "heap", str(population), end, *(f"{k}={v}" for k, v in keywords.items()))


def boltzmann_rate(agents: int, steps: int = 3) -> float:
    """Agent-steps per second of Mesa's Boltzmann wealth model, built and stepped here."""
    from boltzmann import BoltzmannWealth

    model = BoltzmannWealth(agents, rng=1)
    started = time.perf_counter()
    for _ in range(steps):
        model.step()
    return agents * steps / (time.perf_counter() - started)


def git(*arguments: str, binary: bool = False):
    out = subprocess.run(["git", "-C", str(REPO), *arguments], check=True, capture_output=True, text=not binary)
    return out.stdout if binary else out.stdout.strip()


def commit_here() -> str:
    """HEAD of this checkout, marked -dirty when tracked files differ from it; 'unknown' without git."""
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def default_reference() -> str:
    """The commit in benchmarks/reference.txt: the first line that is not a comment."""
    lines = (line.strip() for line in (HERE / "reference.txt").read_text().splitlines())
    return next(line for line in lines if line and not line.startswith("#"))


def unpack_reference(commit: str, into: Path) -> tuple[Path | None, str]:
    """The reference commit's src/ and conf/ unpacked (git archive) under ``into``.

    Returns (its src directory, the full commit), or (None, why not) when git or the commit
    is unavailable. git archive leaves the repository untouched (no worktree to clean up)."""
    try:
        full = git("rev-parse", "--verify", f"{commit}^{{commit}}")
        archive = git("archive", "--format=tar", full, "src", "conf", binary=True)
    except OSError:
        return None, "git is not available"
    except subprocess.CalledProcessError as e:
        return None, f"commit {commit!r} is not available here ({(e.stderr or '').strip()[:120]})"
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        tar.extractall(into, filter="data")
    return into / "src", full


def sweep_config(overrides: list[str]) -> dict:
    """The debate sweep's composed settings, as the command line composes them (`--cfg all`):
    population, horizon, replicates, jobs at once and the number of sweep cells."""
    out = subprocess.run([sys.executable, "-m", "commonsabm", "+experiment=debate", *overrides, "--cfg", "all"],
                         check=True, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                         env=env_with(current_src()))
    composed = yaml.safe_load(out.stdout)
    hydra = composed["hydra"]
    cells = math.prod(len(str(values).split(",")) for values in hydra["sweeper"]["params"].values())
    run = composed["run"]
    return {"population": run["population"], "replications": run["replications"], "start": str(run["start"]),
            "end": str(run["end"]), "spin_up": run.get("spin_up", 0), "cells": cells,
            "n_jobs": hydra.get("launcher", {}).get("n_jobs")}


def sweep_seconds(overrides: list[str]) -> dict:
    """Wall time of the whole debate sweep (jobs, gathering and verdict) in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "commonsabm", "+experiment=debate",
                               f"hydra.sweep.dir={tmp}/sweep", *overrides],
                              capture_output=True, text=True, cwd=tmp, env=env_with(current_src()))
        seconds = time.perf_counter() - started
        verdict = (Path(tmp) / "sweep" / "verdict.md").exists()
    if done.returncode != 0:
        tail = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][-3:]
        raise RuntimeError(f"the debate sweep exited {done.returncode}: " + " | ".join(tail))
    return {"seconds": seconds, "verdict_written": verdict}


def command_seconds(population: int, end: str) -> float:
    """The whole command, start-up to outputs written, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "commonsabm", "+experiment=baseline", f"run.population={population}",
                        f"run.end={end}", f"hydra.run.dir={tmp}/out"], check=True, capture_output=True, cwd=tmp,
                       env=env_with(current_src()))
        return time.perf_counter() - started
