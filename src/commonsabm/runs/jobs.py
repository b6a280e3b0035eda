"""A job's status file, so that a sweep can be resumed and its failures listed.

Every job writes ``status.json`` into its own directory: ``running`` when it starts, then
``completed`` (with the files it wrote) or ``failed`` (with the error, one line, and the
exception type). Hydra's end-of-sweep callback does not fire when a job raises, so a job
that fails inside a multirun records its failure and returns; the other jobs go on. Run
again into the same sweep directory (``hydra.sweep.dir=...``), a job whose status is
``completed``, whose files are all there and whose configuration is unchanged is skipped.

A job's directory that holds finished results of another configuration is never written
over unless the user says so (``run.overwrite=true``): see ``check_target``. A job with no
``status.json`` is trusted only as far as its ``manifest.json`` proves: the manifest records
the SHA-256 of every other file the job wrote, so files that match it are a completed job,
and anything else is ``unknown`` (see ``job_record``).

Stopping: SIGTERM or SIGINT to the command stops it whole. Jobs running in the command's
own process (the serial launcher) record the signal themselves (``tracked``); how the
command and a parallel launcher's workers stop is in ``commonsabm.runs.stopping``.

This module imports nothing heavy, so that ``commonsabm.runs.sweep`` can read sweeps quickly.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

STATUS_FILE = "status.json"
STATES = ("running", "completed", "failed")
PARTIAL = ".part"  # the suffix of a file being written; never a name the outputs use
MANIFEST = "manifest.json"  # written last by a job; its "checksums" cover the job's other files
CONFIG = "config.yaml"  # the job's resolved configuration, the text config_digest identifies
# what a job's record says when a signal stopped it before it finished
STOPPED_BY = {signal.SIGTERM: "stopped by SIGTERM", signal.SIGINT: "interrupted by SIGINT (Ctrl-C)"}
COMMAND_ENDED = "stopped because the command running the sweep ended (killed?)"


class Stopped(BaseException):
    """The job was told to stop (SIGTERM: a scheduler's time limit, ``kill``, ``scancel``).

    A BaseException, like KeyboardInterrupt, so that a sweep does not record it as one
    job's failure and go on to the next job.
    """


class RunExists(Exception):
    """The job's directory holds finished results of another configuration; nothing was written."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary name beside the target, then rename: a file either is whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_part(path)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _new_part(path: Path) -> str:
    """Create an empty, new ``.NAME.<random>.part`` beside path, readable as the umask allows.

    ``tempfile.mkstemp`` creates mode 600, which keeps outputs from colleagues on a shared
    file system. Creating with mode 666 instead lets the kernel apply the umask (or a
    directory's default ACL, which replaces it) as for any file the user makes, atomically:
    the umask is never read. Reading it with os.umask(0) and setting it back would leave
    every thread with umask 0 for a moment, and /proc/self/status is Linux's alone and
    knows nothing of ACLs.
    """
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}{PARTIAL}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # a name another writer has: draw again
            continue
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


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


def checksums(out: Path, names: Sequence[str]) -> dict[str, str]:
    """{name: SHA-256} of the named files in out, as status.json and manifest.json record them."""
    return {name: file_digest(Path(out) / name) for name in names}


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


def job_record(out: Path, outputs: Sequence[str] = ()) -> dict[str, Any] | None:
    """The job's status; without status.json, what its manifest proves; None if it has neither.

    A job whose status.json was deleted (or that was written before jobs kept one) is
    ``completed`` only if its manifest.json names a SHA-256 for each of its other files and
    every file matches; then the record is what status.json would say. Otherwise, if the
    directory holds a manifest or any of ``outputs``, the job is ``unknown``, with the reason
    in ``error``: never counted, never skipped, and a rerun of its configuration redoes it.
    """
    out = Path(out)
    status = read_status(out)
    if status is not None:
        return status
    if not (out / MANIFEST).is_file():
        if any((out / name).is_file() for name in outputs):
            return {"state": "unknown", "error": f"no {STATUS_FILE}, and no {MANIFEST} to check its files against"}
        return None
    try:  # which configuration it was, as tracked would have recorded it
        config: str | None = config_digest((out / CONFIG).read_text())
    except (OSError, ValueError):
        config = None
    record: dict[str, Any] = {"state": "unknown", "config_sha256": config}
    try:
        sums = json.loads((out / MANIFEST).read_text()).get("checksums")
    except (OSError, ValueError, AttributeError) as exc:
        return {**record, "error": f"no {STATUS_FILE}, and {MANIFEST} is unreadable: {one_line(exc)}"}
    if not isinstance(sums, dict) or not sums:
        return {**record, "error": f"no {STATUS_FILE}, and {MANIFEST} records no checksums to check its files against"}
    proven = {**record, "state": "completed", "files": [*sums, MANIFEST], "checksums": sums}
    damaged = damaged_files(out, proven)
    if damaged:
        return {**record, "error": f"no {STATUS_FILE}, and {', '.join(damaged)} "
                                   f"{'does' if len(damaged) == 1 else 'do'} not match {MANIFEST} (missing or changed)"}
    return proven


def is_complete(out: Path, files: Sequence[str], resolved: str | None = None) -> bool:
    """True if the job finished, its files are all there and unchanged, and (if given) its config is the same."""
    status = job_record(out)
    if not status or status["state"] != "completed":
        return False
    if any(not (Path(out) / name).is_file() for name in files) or damaged_files(out, status):
        return False
    return resolved is None or status.get("config_sha256") == config_digest(resolved)


def check_target(out: Path, resolved: str, overwrite: bool = False, label: str | None = None) -> bool:
    """Refuse (RunExists) to run into a directory holding finished results of another configuration.

    Finished results are a completed job (status.json, or a manifest that proves its files)
    or an ``unknown`` one, whose configuration (its config.yaml) is not ``resolved``; a
    job of the same configuration is the usual resume, skipped or redone. With
    ``overwrite`` the results are replaced on purpose; returns True then, so the caller
    can say so. Checked before anything is written into the directory.
    """
    record = job_record(out)
    if not record or record["state"] not in ("completed", "unknown"):
        return False
    if record.get("config_sha256") == config_digest(resolved):
        return False
    if overwrite:
        return True
    what = ("a completed run of another configuration" if record["state"] == "completed"
            else "results of an unknown or another configuration")
    job = f"job {label} ({out})" if label else str(out)
    raise RunExists(f"{job} holds {what}; nothing was written: choose another output directory, "
                    "or add run.overwrite=true to replace it")


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


def where() -> dict[str, Any]:
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        if os.environ.get(name):
            where[name.lower()] = os.environ[name]
    return where


def tracked(out: Path, files: Sequence[str], resolved: str, work: Callable[[], Any],
            label: str | None = None, overwrite: bool = False) -> Any:
    """Run ``work()`` as one job of a sweep, keeping ``out/status.json`` up to date.

    Skips the work (returns None) if the job already completed with this configuration.
    Raises RunExists, writing nothing, if ``out`` holds finished results of another
    configuration, unless ``overwrite`` (``check_target``; the command line checks this
    before Hydra writes into the directory, this is for calls from Python).
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
    if check_target(out, resolved, overwrite, label):
        print(f"commonsabm: job {label}: replacing the results of another configuration in {out} "
              "(run.overwrite=true)", file=sys.stderr)
    elif (job_record(out) or {}).get("state") in ("completed", "unknown"):
        print(f"commonsabm: job {label} has lost, changed or unproven files; running it again", file=sys.stderr)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    clock = time.perf_counter()
    remove_partial_files(out)
    from commonsabm.runs.stopping import as_worker  # here: stopping reads and writes records with this module

    as_worker()
    write_status(out, "running", started=started, **where())
    _running = out
    try:
        with _StopOnSigterm():
            result = work()
    except (Stopped, KeyboardInterrupt) as exc:
        # the whole sweep stops, not just this job; the record says a rerun will redo it
        reason = STOPPED_BY[signal.SIGTERM if isinstance(exc, Stopped) else signal.SIGINT]
        write_status(out, "failed", error=f"{reason} before it finished", exception=type(exc).__name__,
                     started=started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **where())
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, then re-raised or reported
        write_status(out, "failed", error=one_line(exc), exception=type(exc).__name__,
                     traceback="".join(traceback.format_exception(exc)), started=started,
                     finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **where())
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
        write_status(out, "failed", error=error, exception=None, started=started, **where())
        if not in_multirun():
            raise RuntimeError(error)
        print(f"commonsabm: job {label} failed: {error}", file=sys.stderr)
        return None
    write_status(out, "completed", files=list(files), checksums=checksums(out, files),
                 config_sha256=config_digest(resolved),
                 started=started, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 wall_time_seconds=round(time.perf_counter() - clock, 3), **where())
    return result


# In a worker: the job it is running, for the watcher (``stopping``) to record if the command dies.
_running: Path | None = None
