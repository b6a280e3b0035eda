"""A job's status file, so that a sweep can be resumed and its failures listed.

Every job writes ``status.json`` into its own directory: ``running`` when it starts, then
``completed`` (with the files it wrote) or ``failed`` (with the error, one line, and the
exception type). Hydra's end-of-sweep callback does not fire when a job raises, so a job
that fails inside a multirun records its failure and returns; the other jobs go on. Run
again into the same sweep directory (``hydra.sweep.dir=...``), a job whose status is
``completed``, whose files are all there and whose configuration is unchanged is skipped.

Stopping: SIGTERM or SIGINT to the command stops it whole. Jobs running in the command's
own process (the serial launcher) record the signal themselves; for a parallel sweep the
launcher kills its workers and ``stop_command`` records each job they left ``running`` as
stopped by the signal. A worker watches the command, and if the command dies without
stopping it (SIGKILL, out of memory) it records its job as stopped and exits.

This module imports nothing heavy, so that ``commonsabm.runs.sweep`` can read sweeps quickly.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

STATUS_FILE = "status.json"
STATES = ("running", "completed", "failed")
PARTIAL = ".part"  # the suffix of a file being written; never a name the outputs use
# what a job's record says when a signal stopped it before it finished
STOPPED_BY = {signal.SIGTERM: "stopped by SIGTERM", signal.SIGINT: "interrupted by SIGINT (Ctrl-C)"}
COMMAND_ENDED = "stopped because the command running the sweep ended (killed?)"
# the command's pid, in its environment, so that a process it starts knows it is one of its workers
COMMAND_PID = "COMMONSABM_COMMAND_PID"
WATCH_SECONDS = 0.5  # how often a worker checks that its command is still there


class Stopped(BaseException):
    """The job was told to stop (SIGTERM: a scheduler's time limit, ``kill``, ``scancel``).

    A BaseException, like KeyboardInterrupt, so that a sweep does not record it as one
    job's failure and go on to the next job.
    """


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary name beside the target, then rename: a file either is whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_status(out: Path) -> dict[str, Any] | None:
    """The job's status, or None if it has none (never started, or not a job directory)."""
    try:
        status = json.loads((Path(out) / STATUS_FILE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"state": "failed", "error": f"{STATUS_FILE} is unreadable: {one_line(exc)}",
                "exception": type(exc).__name__}
    if not isinstance(status, dict) or status.get("state") not in STATES:
        return {"state": "failed", "error": f"{STATUS_FILE} holds no known state", "exception": None}
    return status


def write_status(out: Path, state: str, **fields: Any) -> dict[str, Any]:
    status = {"state": state, **fields}
    atomic_write(Path(out) / STATUS_FILE, lambda p: p.write_text(json.dumps(status, indent=2, default=str)))
    return status


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def config_digest(resolved: str) -> str:
    """What identifies a job's configuration: the SHA-256 of its resolved YAML."""
    return hashlib.sha256(resolved.encode()).hexdigest()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def damaged_files(out: Path, status: dict[str, Any]) -> list[str]:
    """Files a completed job wrote that are gone or differ from what it wrote (truncated, corrupt, edited)."""
    checksums = status.get("checksums", {})
    damaged = []
    for name in status.get("files", ()):
        path = Path(out) / name
        if not path.is_file() or (name in checksums and file_digest(path) != checksums[name]):
            damaged.append(name)
    return damaged


def is_complete(out: Path, files: Sequence[str], resolved: str | None = None) -> bool:
    """True if the job finished, its files are all there and unchanged, and (if given) its config is the same."""
    status = read_status(out)
    if not status or status["state"] != "completed":
        return False
    if any(not (Path(out) / name).is_file() for name in files) or damaged_files(out, status):
        return False
    return resolved is None or status.get("config_sha256") == config_digest(resolved)


def remove_partial_files(out: Path) -> None:
    """Files a killed job was part-way through writing: never outputs, so safe to delete."""
    for leftover in Path(out).glob(f".*{PARTIAL}"):
        leftover.unlink(missing_ok=True)


class _StopOnSigterm:
    """While a job runs, SIGTERM raises Stopped, so the job can record that it did not finish."""

    def __enter__(self):
        self.previous = None
        try:
            self.previous = signal.signal(signal.SIGTERM, self._stop)
        except ValueError:  # not the main thread: the launcher's own handling applies
            pass
        return self

    @staticmethod
    def _stop(signum, frame):
        raise Stopped(STOPPED_BY[signal.SIGTERM])

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def in_multirun() -> bool:
    """True inside a Hydra multirun job; False for a single run or a call from Python."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except (ImportError, ValueError, AttributeError):
        return False


def _where() -> dict[str, Any]:
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        if os.environ.get(name):
            where[name.lower()] = os.environ[name]
    return where


def tracked(out: Path, files: Sequence[str], resolved: str, work: Callable[[], Any],
            label: str | None = None) -> Any:
    """Run ``work()`` as one job of a sweep, keeping ``out/status.json`` up to date.

    Skips the work (returns None) if the job already completed with this configuration.
    If the work raises, the failure is recorded; in a multirun it is then reported on
    stderr and None is returned so the sweep goes on; otherwise the exception is re-raised,
    so a single run still fails with a non-zero exit.
    """
    global _running
    out = Path(out)
    label = label or out.name
    if is_complete(out, files, resolved):
        print(f"commonsabm: job {label} already complete ({out}); skipping it", file=sys.stderr)
        return None
    previous = read_status(out)
    if previous and previous["state"] == "completed":
        print(f"commonsabm: job {label} completed earlier with another configuration or lost files; "
              "running it again", file=sys.stderr)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    clock = time.perf_counter()
    remove_partial_files(out)
    _as_worker()
    write_status(out, "running", started=started, **_where())
    _running = out
    try:
        with _StopOnSigterm():
            result = work()
    except (Stopped, KeyboardInterrupt) as exc:
        # the whole sweep stops, not just this job; the record says a rerun will redo it
        reason = STOPPED_BY[signal.SIGTERM if isinstance(exc, Stopped) else signal.SIGINT]
        write_status(out, "failed", error=f"{reason} before it finished", exception=type(exc).__name__,
                     started=started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **_where())
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, then re-raised or reported
        write_status(out, "failed", error=one_line(exc), exception=type(exc).__name__,
                     traceback="".join(traceback.format_exception(exc)), started=started,
                     finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **_where())
        if not in_multirun():
            raise
        print(f"commonsabm: job {label} failed: {type(exc).__name__}: {one_line(exc)} "
              f"(details in {out / STATUS_FILE})", file=sys.stderr)
        return None
    finally:
        _running = None
    missing = [name for name in files if not (out / name).is_file()]
    if missing:  # the work returned without writing what it promised: a bug, reported as a failure
        error = f"the job finished without writing {', '.join(missing)}"
        write_status(out, "failed", error=error, exception=None, started=started, **_where())
        if not in_multirun():
            raise RuntimeError(error)
        print(f"commonsabm: job {label} failed: {error}", file=sys.stderr)
        return None
    write_status(out, "completed", files=list(files), checksums={name: file_digest(out / name) for name in files},
                 config_sha256=config_digest(resolved),
                 started=started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 wall_time_seconds=round(time.perf_counter() - clock, 3), **_where())
    return result


# ---------------------------------------------------------------- stopping a sweep
# In a worker: the job it is running, for the watcher to record if the command dies.
_running: Path | None = None
_watching = False
# In the command: the sweep it is running ({"dir": Path, "planned": number of jobs or None}).
_sweep: dict[str, Any] = {}


def guard_command() -> None:
    """In the command's own process, first: SIGTERM raises Stopped, and its workers can tell it is their command.

    Stopped raised in the command while a parallel launcher waits for its jobs makes the
    launcher stop its workers (joblib kills them) before it reaches ``main``.
    """
    os.environ[COMMAND_PID] = str(os.getpid())
    signal.signal(signal.SIGTERM, _StopOnSigterm._stop)


def note_sweep(sweep_dir: Path, planned: int | None) -> None:
    """Remember the sweep this command runs and how many jobs it planned (None if the sweeper does not say)."""
    _sweep.update(dir=Path(sweep_dir), planned=planned)


def watch_from_the_start() -> None:
    """Make the loky workers this command starts from now on watch it from their start, not their first job.

    A sweep with fewer jobs than ``hydra.launcher.n_jobs`` has workers that never get a job;
    loky would keep them waiting for one for five minutes after a SIGKILL. loky runs an
    executor's ``initializer`` in each worker as it starts, and joblib builds the executor
    from its registered "loky" backend, so that backend is registered again with the
    initializer. If joblib ever changes this, workers still watch from their first job.
    """
    import functools

    import joblib.parallel

    loky = getattr(joblib.parallel, "LokyBackend", None)
    if loky is not None:
        joblib.parallel.register_parallel_backend("loky", functools.partial(loky, initializer=_as_worker))


def _as_worker() -> None:
    """In a process the command started (a parallel launcher's worker): leave signals to the command, end with it.

    Ctrl-C sends SIGINT to every process of the terminal's group; the command stops the
    workers itself, so a worker ignores it rather than print its own traceback. A worker
    whose command is gone (killed with SIGKILL, out of memory) would otherwise go on, and
    then wait idle for work that never comes: a thread watches the parent and ends it.
    """
    global _watching
    command = os.environ.get(COMMAND_PID, "")
    if _watching or not command.isdigit() or int(command) != os.getppid():
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_command, args=(int(command),), name="commonsabm-watch-command",
                     daemon=True).start()
    _watching = True


def _watch_command(command: int) -> None:
    while os.getppid() == command:  # a process whose parent dies is given another parent
        time.sleep(WATCH_SECONDS)
    job = _running
    status = read_status(job) if job is not None else None
    if status and status["state"] == "running" and status.get("pid") == os.getpid():
        write_status(job, "failed", error=f"{COMMAND_ENDED} before it finished", exception=Stopped.__name__,
                     started=status.get("started"), finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **_where())
    os._exit(1)  # at once: the job's work is abandoned, and the launcher's machinery has no one to report to


def _job_records(root: Path) -> list[Path]:
    """The directories under root that hold a job's status.json (hidden ones skipped)."""
    found = []
    for here, dirs, files in os.walk(root):
        if STATUS_FILE in files:
            found.append(Path(here))
            dirs[:] = []
        else:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
    return found


def _gone(pid: Any) -> bool:
    """True if no process has this pid (the launcher has killed and reaped its workers)."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process
        return False
    return False


def stop_command(signum: int) -> int:
    """After SIGTERM or SIGINT stopped the command: record what it left unfinished, say how to resume, exit status.

    Each job of its sweep whose record still says ``running`` on this host, in this process
    or in one that is gone (a worker the launcher killed), becomes ``failed`` with the
    signal. The status is 128 + the signal, or 0 if every planned job had completed.
    """
    for other in (signal.SIGTERM, signal.SIGINT):  # the clean-up is short; a second signal must not cut it
        signal.signal(other, signal.SIG_IGN)
    reason = STOPPED_BY[signum]
    sweep, planned = _sweep.get("dir"), _sweep.get("planned")
    if sweep is None:  # a single run records its own stop (``tracked``)
        print(f"commonsabm: {reason}; finished jobs are kept: run the same command to resume", file=sys.stderr)
        return 128 + signum
    states = dict.fromkeys(STATES, 0)
    host = socket.gethostname()
    for job in _job_records(sweep):
        status = read_status(job) or {}
        pid = status.get("pid")
        if (status.get("state") == "running" and status.get("host") == host
                and (pid == os.getpid() or _gone(pid))):
            status = write_status(job, **{**status, "state": "failed", "error": f"{reason} before it finished",
                                          "exception": "Stopped" if signum == signal.SIGTERM else "KeyboardInterrupt",
                                          "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        states[status.get("state", "failed")] += 1
    if planned is not None and states["completed"] == planned and not states["failed"] + states["running"]:
        print(f"commonsabm: {reason} after every job had completed; if {sweep} has no sweep_summary.parquet, "
              f"run `python -m commonsabm.runs.sweep {sweep}`", file=sys.stderr)
        return 0
    done = f"{states['completed']} of {planned} jobs completed" if planned else f"{states['completed']} jobs completed"
    print(f"commonsabm: {reason}; finished jobs are kept ({done}): run the same command with "
          f"hydra.sweep.dir={sweep} to resume", file=sys.stderr)
    return 128 + signum
