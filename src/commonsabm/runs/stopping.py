"""Stopping a sweep: SIGTERM, SIGINT (Ctrl-C) or the command's death leaves every job recorded.

SIGTERM or SIGINT to the command stops it whole. Jobs running in the command's own process
(the serial launcher) record the signal themselves (``jobs.tracked``); for a parallel sweep
the launcher kills its workers and ``stop_command`` records each job they left ``running``
as stopped by the signal. A worker watches the command, and if the command dies without
stopping it (SIGKILL, out of memory) it records its job as stopped and exits.

The command notes each signal it is sent (``received``) as well as raising it, so that a
stop reaches ``stop_command`` even when the exception it raised was lost on the way: caught
by a library's ``except BaseException``, replaced by a follow-on error in a ``finally``
(OmegaConf's, when Ctrl-C lands in Hydra's composition), or printed and dropped by a finaliser.

A command started with SIGINT ignored keeps ignoring it. That is how POSIX shells protect a
script's background commands (``cmd &`` without job control) from the Ctrl-C meant for the
foreground, and Python honours it; SIGTERM still stops such a command.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from commonsabm.runs import jobs
from commonsabm.runs.jobs import COMMAND_ENDED, STATES, STATUS_FILE, STOPPED_BY, Stopped, read_status, write_status

# the command's pid, in its environment, so that a process it starts knows it is one of its workers
COMMAND_PID = "COMMONSABM_COMMAND_PID"
WATCH_SECONDS = 0.5  # how often a worker checks that its command is still there

_watching = False
# In the command: the sweep it is running ({"dir": Path, "planned": number of jobs or None}),
# and the first stopping signal it was sent
_sweep: dict[str, Any] = {}
_received: list[int] = []


def _on_signal(signum, frame):
    if not _received:
        _received.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(STOPPED_BY[signal.SIGTERM])


def received() -> int | None:
    """The first SIGTERM or SIGINT this command was sent, or None."""
    return _received[0] if _received else None


def guard_command() -> None:
    """In the command's own process, first: SIGTERM and SIGINT are noted and raised, and its workers know it.

    SIGTERM raises Stopped, SIGINT KeyboardInterrupt. Either, raised in the command while a
    parallel launcher waits for its jobs, makes the launcher stop its workers (joblib kills
    them) before it reaches ``cli.main``. A SIGINT the command was started ignoring stays
    ignored (see the module's docstring). Calling it again changes nothing.
    """
    os.environ[COMMAND_PID] = str(os.getpid())
    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _on_signal)


def note_sweep(sweep_dir: Path, planned: int | None) -> None:
    """Remember the sweep this command runs and how many jobs it planned (None if the sweeper does not say)."""
    _sweep.update(dir=Path(sweep_dir), planned=planned)


def watch_from_the_start() -> None:
    """Make the loky workers this command starts from now on ignore Ctrl-C and watch it, from their start.

    A sweep with fewer jobs than ``hydra.launcher.n_jobs`` has workers that never get a job;
    loky would keep them waiting for one for five minutes after a SIGKILL. loky runs an
    executor's ``initializer`` in each worker as it starts, and joblib builds the executor
    from its registered "loky" backend, so that backend is registered again with the
    initializer. If joblib ever changes this, workers still watch from their first job.

    A worker spends a second or more importing before its initializer runs; a Ctrl-C then
    would kill it with a traceback of its own. So each worker is started with SIGINT
    blocked (a blocked signal stays blocked across fork and exec, and one that arrives waits),
    and ``as_worker`` ignores it, which drops one waiting, before unblocking it.
    """
    import joblib.parallel

    loky = getattr(joblib.parallel, "LokyBackend", None)
    if loky is not None:
        joblib.parallel.register_parallel_backend("loky", functools.partial(loky, initializer=as_worker))
    try:
        from joblib.externals.loky.backend.popen_loky_posix import Popen
    except ImportError:  # not POSIX, or loky moved it: the workers start as before
        return
    if not getattr(Popen._launch, "_sigint_blocked", False):
        Popen._launch = _with_sigint_blocked(Popen._launch)


def _with_sigint_blocked(launch):
    @functools.wraps(launch)
    def launch_blocked(*args, **kwargs):
        # this thread only; a SIGINT sent meanwhile goes to another of the command's threads or waits
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return launch(*args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    launch_blocked._sigint_blocked = True
    return launch_blocked


def as_worker() -> None:
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
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # started blocked: watch_from_the_start
    threading.Thread(target=_watch_command, args=(int(command),), name="commonsabm-watch-command",
                     daemon=True).start()
    _watching = True


def _watch_command(command: int) -> None:
    while os.getppid() == command:  # a process whose parent dies is given another parent
        time.sleep(WATCH_SECONDS)
    job = jobs._running
    status = read_status(job) if job is not None else None
    if status and status["state"] == "running" and status.get("pid") == os.getpid():
        write_status(job, "failed", error=f"{COMMAND_ENDED} before it finished", exception=Stopped.__name__,
                     started=status.get("started"), finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     **jobs.where())
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


def exit_stopped(signum: int) -> None:
    """End the command stopped by signum: ``stop_command``, then exit with its status at once.

    A KeyboardInterrupt that passed through code run by ``exec`` (dataclasses build their
    methods so, and Hydra's composition makes dataclasses) leaves Python set to kill
    itself with SIGINT at exit whatever status ``sys.exit`` gives: the status 0 of a stop
    after every job completed would be lost. So the logs are flushed and the process ends
    with ``os._exit``; the launcher has already stopped its workers, and a worker left
    idle sees its command gone and exits (``as_worker``).
    """
    import logging

    code = stop_command(signum)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
