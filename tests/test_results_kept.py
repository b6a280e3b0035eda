"""Finished results are kept, trusted only with proof, and readable by colleagues.

- A run into a directory holding a completed run of another configuration is refused with
  one line, before anything in the directory is touched (``.hydra/`` included), unless
  ``run.overwrite=true``; a sweep is refused before any job runs.
- A job without ``status.json`` is ``completed`` only if its files match the SHA-256 its
  ``manifest.json`` records; otherwise it is ``unknown``, and a rerun redoes it.
- Output files get the permissions the umask allows, not 600.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import user_env

from commonsabm.runs.jobs import MANIFEST, job_record
from commonsabm.runs.outputs import OUTPUT_FILES
from commonsabm.runs.sweep import load_sweep

TINY = ["run.population=2000", "run.end=2010-06"]


def cli(args: list[str], cwd: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "commonsabm", *args, *TINY], cwd=cwd, env=user_env(),
                          capture_output=True, text=True, timeout=300, umask=umask)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under root, hidden ones included: its bytes, modification time and mode."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    """A completed run of seed 1, written under umask 022."""
    work = tmp_path_factory.mktemp("kept")
    out = work / "first"
    result = cli(["run.seed=1", f"hydra.run.dir={out}"], cwd=work)
    assert result.returncode == 0, result.stderr
    return out


def copy_of(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)  # keeps modification times and modes
    return target


# ---------------------------------------------------------------- 4. no silent overwrite
def test_a_run_of_another_configuration_is_refused_and_nothing_is_touched(first, tmp_path):
    out = copy_of(first, tmp_path / "run")
    before = snapshot(out)
    result = cli(["run.seed=2", f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"commonsabm: error: {out} holds a completed run of another configuration; nothing was "
                     "written: choose another output directory, or add run.overwrite=true to replace it"]
    assert snapshot(out) == before, "the earlier run's files (.hydra/ included) were touched"


def test_the_same_configuration_is_skipped_with_or_without_the_flag(first, tmp_path):
    """run.overwrite is not part of the configuration: it changes neither config.yaml nor the digest."""
    out = copy_of(first, tmp_path / "run")
    kept = {name: value for name, value in snapshot(out).items() if not name.startswith(".hydra/")}
    for flag in ([], ["run.overwrite=true"]):
        result = cli(["run.seed=1", *flag, f"hydra.run.dir={out}"], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "already complete" in result.stderr
        assert {n: v for n, v in snapshot(out).items() if not n.startswith(".hydra/")} == kept


def test_run_overwrite_replaces_another_configuration_on_purpose(first, tmp_path):
    out = copy_of(first, tmp_path / "run")
    result = cli(["run.seed=2", "run.overwrite=true", f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "replacing the results of another configuration" in result.stderr
    assert job_record(out)["state"] == "completed"
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert "overwrite" not in (out / "config.yaml").read_text()
    rerun = json.loads((out / MANIFEST).read_text())["rerun"]
    assert "run.seed=2" in rerun and "overwrite" not in rerun, "a rerun from the manifest must not overwrite"


def test_a_sweep_with_a_job_of_another_configuration_is_refused_before_any_job_runs(first, tmp_path):
    sweep = tmp_path / "sweep"
    copy_of(first, sweep / "0")  # seed 1: the same configuration as job 0, which is complete
    copy_of(first, sweep / "1")  # seed 1 where job 1 (seed 2) would write
    before = snapshot(sweep)
    args = ["-m", "run.seed=1,2,3", f"hydra.sweep.dir={sweep}"]
    result = cli(args, cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"commonsabm: error: job 1 ({sweep / '1'}) holds a completed run of another configuration; "
                     "nothing was written: choose another output directory, or add run.overwrite=true to replace it"]
    assert snapshot(sweep) == before and sorted(p.name for p in sweep.iterdir()) == ["0", "1"], \
        "the sweep ran or wrote something before it was refused"
    # on purpose: job 0 is still skipped, job 1 is replaced, job 2 runs
    result = cli([*args, "run.overwrite=true"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "job 0 already complete" in result.stderr and "job 1: replacing" in result.stderr
    assert load_sweep(sweep).states["completed"] == 3
    assert json.loads((sweep / "1" / "summary.json").read_text())["seed"] == 2


# ---------------------------------------------------------------- 5. trust needs proof
def test_a_job_without_status_is_trusted_only_if_its_manifest_proves_its_files(first, tmp_path):
    job = copy_of(first, tmp_path / "sweep" / "0")
    (job / "status.json").unlink()
    sums = json.loads((job / MANIFEST).read_text())["checksums"]
    assert sorted(sums) == sorted(set(OUTPUT_FILES) - {MANIFEST})
    assert job_record(job)["state"] == "completed"  # every file matches the manifest
    assert load_sweep(job.parent).states["completed"] == 1

    data = (job / "organisations.parquet").read_bytes()
    (job / "organisations.parquet").write_bytes(data[: len(data) // 2])  # truncated, status.json gone
    summary = load_sweep(job.parent).summary
    assert summary["state"].tolist() == ["unknown"]
    assert summary["error"].tolist() == ["no status.json, and organisations.parquet does not match "
                                         "manifest.json (missing or changed)"]
    assert summary["orgs_total_final"].isna().all(), "an unproven job's numbers were counted"


@pytest.mark.parametrize("manifest", ["without checksums", "unreadable", "absent"])
def test_a_job_without_status_or_a_manifest_that_proves_it_is_unknown(first, tmp_path, manifest):
    job = copy_of(first, tmp_path / "sweep" / "0")
    (job / "status.json").unlink()
    record = json.loads((job / MANIFEST).read_text())
    if manifest == "without checksums":  # a run written before manifests recorded them
        del record["checksums"]
        (job / MANIFEST).write_text(json.dumps(record))
    elif manifest == "unreadable":
        (job / MANIFEST).write_text("{ half")
    else:
        (job / MANIFEST).unlink()
    results = load_sweep(job.parent)
    assert results.states == {"completed": 0, "failed": 0, "running": 0, "missing": 0, "unknown": 1}
    assert results.summary["error"].iloc[0].startswith("no status.json, and ")


def test_an_unknown_job_is_redone_and_a_proven_one_skipped(first, tmp_path):
    out = copy_of(first, tmp_path / "run")
    (out / "status.json").unlink()
    kept = snapshot(out)
    result = cli(["run.seed=1", f"hydra.run.dir={out}"], cwd=tmp_path)  # proven by its manifest
    assert result.returncode == 0 and "already complete" in result.stderr, result.stderr
    assert {n: v for n, v in snapshot(out).items() if not n.startswith(".hydra/")} == \
        {n: v for n, v in kept.items() if not n.startswith(".hydra/")}

    (out / "summary.json").write_text("{}")  # now unproven: unknown, and its own configuration
    result = cli(["run.seed=1", f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "already complete" not in result.stderr and "running it again" in result.stderr
    assert job_record(out)["state"] == "completed" and (out / "status.json").is_file()
    assert (out / "summary.json").read_bytes() == (first / "summary.json").read_bytes()


def test_the_sweep_command_reports_unknown_jobs_and_exits_1(first, tmp_path):
    sweep = tmp_path / "sweep"
    copy_of(first, sweep / "0")
    copy_of(first, sweep / "1")
    (sweep / "1" / "status.json").unlink()
    (sweep / "1" / "timeseries.parquet").write_bytes(b"PAR1 edited PAR1")
    result = subprocess.run([sys.executable, "-m", "commonsabm.runs.sweep", str(sweep)], env=user_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "2 jobs: 1 completed, 0 failed, 1 unknown" in out
    assert "job 1 unknown: no status.json, and timeseries.parquet does not match manifest.json (missing or changed)" in out


# ---------------------------------------------------------------- 7. readable outputs
def test_outputs_are_as_readable_as_the_umask_allows(first):
    modes = {p.relative_to(first).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in first.rglob("*") if p.is_file()}
    assert {*OUTPUT_FILES, "status.json"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o644), "written under umask 022"


@pytest.mark.parametrize("umask", [0o027, 0o002, 0o077])
def test_atomic_write_follows_the_umask(tmp_path, umask):
    target = tmp_path / "summary.json"
    script = ("from pathlib import Path; from commonsabm.runs.jobs import atomic_write; "
              f"atomic_write(Path({str(target)!r}), lambda p: p.write_text('{{}}'))")
    result = subprocess.run([sys.executable, "-c", script], env=user_env(), capture_output=True, text=True,
                            timeout=60, umask=umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
