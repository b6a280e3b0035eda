"""Faults: a run killed part-way leaves nothing that looks finished, and a resumed sweep redoes only that job.

Every output is written to a temporary name (``.NAME.<random>.part``) and renamed when whole;
``status.json`` says ``completed`` only after every file is in place, with each file's
SHA-256, so a file damaged later is noticed too.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import user_env

from commonsabm.runs.jobs import atomic_write, is_complete, read_status, write_status
from commonsabm.runs.outputs import OUTPUT_FILES, SWEEP_JOB_FILES
from commonsabm.runs.sweep import load_sweep

# jobs 0 and 1 take a second; job 2 runs long enough to be killed in the middle
SWEEP = ["-m", "run.end=2010-06,2010-12,2030-12", "run.population=50000", "run.replications=1"]


def sweep_command(sweep: Path) -> list[str]:
    return [sys.executable, "-m", "commonsabm", *SWEEP, f"hydra.sweep.dir={sweep}"]


def state(job: Path) -> str | None:
    status = read_status(job)
    return status and status["state"]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def kill_part_way(sweep: Path, how: signal.Signals, cwd: Path) -> subprocess.CompletedProcess:
    """Start the sweep, wait until its last job is running, then stop it: SIGTERM, or SIGKILL at once."""
    process = subprocess.Popen(sweep_command(sweep), cwd=cwd, env=user_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: state(sweep / "2") == "running" or process.poll() is not None, 180, "job 2 to start")
    assert process.poll() is None, process.communicate()[1]
    time.sleep(1.0)  # into the simulation of job 2
    process.send_signal(how)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # SIGTERM ignored: what a scheduler does next
        process.kill()
        out, err = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def files_of(job: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in job.iterdir() if p.is_file() and p.name != "status.json"}


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_sweep_keeps_finished_jobs_and_resumes_only_the_killed_one(how, tmp_path):
    sweep = tmp_path / "sweep"
    killed = kill_part_way(sweep, how, tmp_path)

    if how == signal.SIGTERM:  # told to stop: it says so in one line, and the record says why
        assert killed.returncode == 128 + signal.SIGTERM, killed.stderr
        assert "stopped by SIGTERM; finished jobs are kept" in killed.stderr
        assert "Traceback" not in killed.stderr
        assert read_status(sweep / "2")["error"] == "stopped by SIGTERM before it finished"
    else:  # no chance to say anything: the record still says running, which is not complete
        assert killed.returncode == -signal.SIGKILL
        assert state(sweep / "2") == "running"

    # nothing partial looks finished: the killed job is not complete, and any output it has is whole
    assert [state(sweep / job) for job in "012"] == ["completed", "completed", state(sweep / "2")]
    assert not is_complete(sweep / "2", SWEEP_JOB_FILES)
    for path in (sweep / "2").iterdir():
        if path.name.endswith(".parquet"):
            pd.read_parquet(path)
        elif path.name.endswith(".json"):
            json.loads(path.read_text())
    assert load_sweep(sweep).states["completed"] == 2

    finished = {job: (read_status(sweep / job)["started"], files_of(sweep / job)) for job in "01"}
    resumed = subprocess.run(sweep_command(sweep), cwd=tmp_path, env=user_env(), capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "job 0 already complete" in resumed.stderr and "job 1 already complete" in resumed.stderr
    assert "job 2 already complete" not in resumed.stderr
    for job in "01":  # not run again: same record, same files, untouched
        assert (read_status(sweep / job)["started"], files_of(sweep / job)) == finished[job]
    assert is_complete(sweep / "2", SWEEP_JOB_FILES)
    assert not list((sweep / "2").glob(".*.part")), "leftovers of the killed write were not cleared"
    assert load_sweep(sweep).states == {"completed": 3, "failed": 0, "running": 0, "missing": 0, "unknown": 0}
    frame = pd.read_parquet(sweep / "2" / "timeseries.parquet")
    assert frame["date"].iloc[-1] == "2030-12"


def test_a_write_killed_half_way_leaves_no_file_under_the_real_name(tmp_path):
    """SIGKILL in the middle of writing: the target never appears; only a .part file can be left."""
    target = tmp_path / "timeseries.parquet"
    script = f"""
import os, signal
from pathlib import Path
from commonsabm.runs.jobs import atomic_write
def half_then_die(path):
    path.write_bytes(b"PAR1" + b"x" * 1000)
    os.kill(os.getpid(), signal.SIGKILL)
atomic_write(Path({str(target)!r}), half_then_die)
"""
    result = subprocess.run([sys.executable, "-c", script], env=user_env(), capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] and all(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_a_write_that_raises_leaves_neither_the_file_nor_a_part(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("the previous, whole version")

    def fail_half_way(path: Path) -> None:
        path.write_text("{ half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail_half_way)
    assert target.read_text() == "the previous, whole version"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_a_file_damaged_after_completion_makes_the_job_incomplete(tmp_path):
    job = tmp_path / "0"
    job.mkdir()
    for name in OUTPUT_FILES:
        (job / name).write_bytes(name.encode() * 100)
    from commonsabm.runs.jobs import file_digest

    write_status(job, "completed", files=list(OUTPUT_FILES),
                 checksums={name: file_digest(job / name) for name in OUTPUT_FILES})
    assert is_complete(job, OUTPUT_FILES)
    data = (job / "timeseries.parquet").read_bytes()
    (job / "timeseries.parquet").write_bytes(data[: len(data) // 2])  # truncated, same name
    assert not is_complete(job, OUTPUT_FILES)
