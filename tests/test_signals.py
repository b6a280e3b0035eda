"""Stopping a parallel sweep: SIGTERM, SIGINT (Ctrl-C) or SIGKILL leaves no worker behind or unfinished job marked done.

Each test runs a real sweep with the `laptop` launcher (joblib, two loky workers), stops the
command while two jobs are running, and then reads the process table (/proc): the workers
and the launcher's resource trackers, recorded as the command's children before the signal,
must all be gone within a few seconds. The time each took is written to
``test-artifacts/signals/`` for docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, user_env
from test_faults import files_of, state, wait_for

from commonsabm.runs.jobs import COMMAND_ENDED, STOPPED_BY, read_status
from commonsabm.runs.sweep import load_sweep

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process table in /proc")]

# two workers; job 0 ends in a moment, jobs 1 and 2 run for several seconds each even on a quiet
# machine (twelve replicates: with six, a fresh clone once saw both finish before the SIGINT), so both are stopped in the middle, not in the half-second a worker
# takes to see its command gone
SWEEP = ["-m", "hydra/launcher=laptop", "run.end=2010-03,2030-12,2030-12", "run.population=2000",
         "run.replications=12"]
# the command as a terminal's foreground job starts it: SIGINT at its default, whatever this test
# process inherited. A suite started in the background of a script (`pytest &` without job control)
# inherits SIGINT ignored, and so would the command (Python keeps an inherited ignore): that, not
# load, is why fresh-clone runs once saw the SIGINT case run its sweep to the end and exit 0
FOREGROUND = ["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
              "os.execv(sys.executable, [sys.executable, '-m', 'commonsabm', *sys.argv[1:]])"]
IGNORING_SIGINT = ["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                   "os.execv(sys.executable, [sys.executable, '-m', 'commonsabm', *sys.argv[1:]])"]
GONE_WITHIN = 5.0  # seconds after the signal by which no worker may be left
ARTIFACTS = ROOT / "test-artifacts" / "signals"


def ppid_and_state(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) from /proc, or None if there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), fields[0]


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is pid: their command lines, by pid."""
    found = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and (ppid_and_state(int(proc.name)) or (0, ""))[0] == pid:
            try:
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (FileNotFoundError, ProcessLookupError):
                pass
    return found


def alive(pid: int) -> bool:
    """A process that still runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    found = ppid_and_state(pid)
    return found is not None and found[1] != "Z"


class Sweep:
    """The sweep command, started in its own process group (as a terminal's job is), its output in files."""

    def __init__(self, tmp_path: Path, extra: tuple[str, ...] = (), workers: int = 2, start=FOREGROUND):
        self.dir, self.cwd, self.n_workers = tmp_path / "sweep", tmp_path, workers
        self.command = [sys.executable, *start, *SWEEP, f"hydra.launcher.n_jobs={workers}", *extra,
                        f"hydra.sweep.dir={self.dir}"]
        # files, not pipes: a worker left running would hold a pipe open and hang the test
        self.out, self.err = (tmp_path / "stdout.txt").open("w+"), (tmp_path / "stderr.txt").open("w+")
        self.process = subprocess.Popen(self.command, cwd=tmp_path, env=user_env(), stdout=self.out,
                                        stderr=self.err, start_new_session=True)
        self.workers: dict[int, str] = {}

    def wait_until_jobs_1_and_2_run(self) -> None:
        wait_for(lambda: [state(self.dir / job) for job in "012"] == ["completed", "running", "running"]
                 or self.process.poll() is not None, 180, "job 0 to complete and jobs 1 and 2 to run")
        assert self.process.poll() is None, f"the sweep ended before it could be stopped: {self.stderr()}"
        self.workers = children(self.process.pid)
        loky = [cmd for cmd in self.workers.values() if "popen_loky" in cmd]
        assert len(loky) == self.n_workers, self.workers

    def stop(self, how: signal.Signals) -> dict[str, float]:
        """Send the signal (SIGINT to the whole process group, as Ctrl-C does); time the command and its workers."""
        sent = time.monotonic()
        if how == signal.SIGINT:
            os.killpg(self.process.pid, how)
        else:
            self.process.send_signal(how)
        self.process.wait(timeout=60)
        exited = time.monotonic() - sent
        deadline = sent + GONE_WITHIN
        while any(alive(pid) for pid in self.workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        return {"command_exited_after_s": round(exited, 2), "workers_gone_after_s": round(time.monotonic() - sent, 2)}

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def clean_up(self) -> None:
        """Kill whatever this test started that is still there (the recorded workers), so no test leaks processes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid, cmd in self.workers.items():
            if alive(pid) and Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() == cmd:
                os.kill(pid, signal.SIGKILL)
        self.out.close()
        self.err.close()


@pytest.fixture
def sweep(tmp_path):
    started: list[Sweep] = []
    yield lambda *extra, workers=2, start=FOREGROUND: started.append(Sweep(tmp_path, extra, workers, start)) or started[-1]
    for one in started:
        one.clean_up()


def record(case: str, figures: dict) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{case}.json").write_text(json.dumps(figures, indent=2))


def resume_completes(sweep: Sweep) -> dict[str, float]:
    """The same command again: it skips job 0, untouched, and completes the sweep."""
    finished = (read_status(sweep.dir / "0")["started"], files_of(sweep.dir / "0"))
    clock = time.monotonic()
    resumed = subprocess.run(sweep.command, cwd=sweep.cwd, env=user_env(), capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "job 0 already complete" in resumed.stderr
    assert "job 1 already complete" not in resumed.stderr and "job 2 already complete" not in resumed.stderr
    assert (read_status(sweep.dir / "0")["started"], files_of(sweep.dir / "0")) == finished
    assert load_sweep(sweep.dir).states == {"completed": 3, "failed": 0, "running": 0, "missing": 0, "unknown": 0}
    return {"resume_s": round(time.monotonic() - clock, 1)}


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_parallel_sweep_stops_its_workers_records_its_jobs_and_resumes(how, sweep):
    running = sweep()
    running.wait_until_jobs_1_and_2_run()
    figures = running.stop(how)

    assert not [pid for pid in running.workers if alive(pid)], \
        f"left running {GONE_WITHIN} s after {how.name}: {running.workers}"
    err = running.stderr()
    assert running.process.returncode == 128 + how, err
    assert "Traceback" not in err, err  # the workers leave Ctrl-C to the command: no traceback from each
    assert (f"commonsabm: {STOPPED_BY[how]}; finished jobs are kept (1 of 3 jobs completed): "
            f"run the same command with hydra.sweep.dir={running.dir} to resume") in err
    assert state(running.dir / "0") == "completed"
    for job in "12":  # stopped where they were, and the record says by what
        status = read_status(running.dir / job)
        assert (status["state"], status["error"]) == ("failed", f"{STOPPED_BY[how]} before it finished")
    # SIGINT's record is written by the same code as SIGTERM's: one resume of the two is enough
    record(how.name, {"workers_and_trackers": len(running.workers), **figures,
                      **(resume_completes(running) if how == signal.SIGTERM else {})})


@pytest.mark.parametrize("after", [0.3, 1.0, 2.5])
def test_ctrl_c_at_any_moment_of_the_start_is_a_clean_stop(after, sweep, tmp_path):
    """Ctrl-C while the command imports, composes, checks the sweep or starts its workers: exit 130, one line.

    Each moment once went wrong on its own: a traceback and death by SIGINT during the
    imports, `error: 'NoneType' object has no attribute ...` and exit 2 when the interrupt
    landed in Hydra's composition, and a worker's own traceback while it was still importing.
    """
    running = sweep()
    time.sleep(after)
    running.workers = children(running.process.pid)
    running.stop(signal.SIGINT)

    err = running.stderr()
    assert running.process.returncode == 128 + signal.SIGINT, err
    assert "Traceback" not in err and "error:" not in err, err
    assert f"commonsabm: {STOPPED_BY[signal.SIGINT]}; finished jobs are kept" in err, err
    assert not [pid for pid in children(running.process.pid) | running.workers if alive(pid)]
    jobs = [state(running.dir / job) for job in "012"] if running.dir.is_dir() else []
    assert "running" not in jobs, jobs  # every job it started is recorded as stopped


def test_a_command_started_ignoring_sigint_keeps_ignoring_it(sweep):
    """As a shell's background command of a script is: Ctrl-C is not for it; SIGTERM still stops it cleanly."""
    running = sweep(start=IGNORING_SIGINT)
    running.wait_until_jobs_1_and_2_run()
    os.killpg(running.process.pid, signal.SIGINT)
    time.sleep(2)
    assert running.process.poll() is None, running.stderr()
    assert [state(running.dir / job) for job in "12"] == ["running", "running"]
    running.stop(signal.SIGTERM)
    assert running.process.returncode == 128 + signal.SIGTERM, running.stderr()
    assert "finished jobs are kept (1 of 3 jobs completed)" in running.stderr()


def test_a_killed_parallel_sweep_leaves_no_worker_running(sweep):
    """SIGKILL gives the command no chance: each worker sees its parent go, records its job and exits.

    Four workers for three jobs: the one that never gets a job must not outlive the command
    either. The resume is checked here too, since here the workers wrote the records, not the command.
    """
    running = sweep(workers=4)
    running.wait_until_jobs_1_and_2_run()
    figures = running.stop(signal.SIGKILL)

    assert running.process.returncode == -signal.SIGKILL
    assert not [pid for pid in running.workers if alive(pid)], \
        f"left running {GONE_WITHIN} s after SIGKILL: {running.workers}"
    assert state(running.dir / "0") == "completed"
    for job in "12":
        status = read_status(running.dir / job)
        assert (status["state"], status.get("error")) == ("failed", f"{COMMAND_ENDED} before it finished"), status
    record("SIGKILL", {"workers_and_trackers": len(running.workers), **figures, **resume_completes(running)})


PAUSE = '''
import time
from pathlib import Path
from hydra.experimental.callback import Callback

class Pause(Callback):
    """Hold the command after every job has returned, as a long gathering would."""
    def on_multirun_end(self, config, **kwargs):
        Path("all-jobs-returned").touch()
        time.sleep(60)
'''


def test_sigterm_after_every_job_completed_exits_0(sweep, tmp_path):
    """A stop that comes once every job is done loses nothing: exit status 0, and how to gather the tables.

    Hydra calls end-of-sweep callbacks in reverse order, so a callback added on the command line
    holds the command after the last job returned and before the sweep's tables are gathered:
    the signal arrives there every time, not by luck of timing.
    """
    (tmp_path / "pause_at_end.py").write_text(PAUSE)  # `python -m` puts the working directory on the path
    running = sweep("run.end=2010-03,2010-04,2010-05", "+hydra.callbacks.pause._target_=pause_at_end.Pause")
    wait_for(lambda: (tmp_path / "all-jobs-returned").exists() or running.process.poll() is not None, 180,
             "every job to return")
    running.workers = children(running.process.pid)
    running.stop(signal.SIGTERM)

    err = running.stderr()
    assert running.process.returncode == 0, err
    assert f"stopped by SIGTERM after every job had completed; if {running.dir} has no sweep_summary.parquet" in err
    assert [state(running.dir / job) for job in "012"] == ["completed"] * 3
    assert not [pid for pid in running.workers if alive(pid)], running.workers
