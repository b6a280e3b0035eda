"""A job's status file, so that a sweep can be resumed and its failures listed.

Every job writes ``status.json`` into its own directory: ``running`` when it starts, then
``completed`` (with the files it wrote) or ``failed`` (with the error, one line, and the
exception type). Hydra's end-of-sweep callback does not fire when a job raises, so a job
that fails inside a multirun records its failure and returns; the other jobs go on. Run
again into the same sweep directory (``hydra.sweep.dir=...``), a job whose status is
``completed``, whose files are all there and whose configuration is unchanged is skipped.

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
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Sequence

STATUS_FILE = "status.json"
STATES = ("running", "completed", "failed")
PARTIAL = ".part"  # the suffix of a file being written; never a name the outputs use


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
        raise Stopped("stopped by SIGTERM")

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
    write_status(out, "running", started=started, **_where())
    try:
        with _StopOnSigterm():
            result = work()
    except (Stopped, KeyboardInterrupt) as exc:
        # the whole sweep stops, not just this job; the record says a rerun will redo it
        reason = "stopped by SIGTERM" if isinstance(exc, Stopped) else "interrupted (Ctrl-C)"
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
