"""The speed bench's harness, run end to end at a tiny population so it cannot rot unnoticed.

Nothing here asserts on a timing (speed lives in benchmarks/ and the machine is shared):
only that every one of issue 16's targets is printed with what was measured, the target and
whether it holds, that the JSON carries every figure, and that bad input is refused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "bench.py"
SRC = ROOT / "src"
TINY = ["--quick", "--repeats", "1", "--population", "1000", "--sizes", "500,1000", "--end", "2010-06"]
# each target row of issue 16, as the table names it, and its target column
TARGETS = {"ratio": ("citizen-steps/s over Boltzmann agent-steps/s", ">= 15x"),
           "default_run": ("default run, model time", "<= 2.5 s or <= 50% of reference"),
           "million_seconds": ("1,000,000 residents, full horizon", "<= 40 s"),
           "million_memory": ("1,000,000 residents, peak resident memory", "<= 1.5 GiB"),
           "scaling": ("scaling exponent", "<= 1.05"),
           "sweep": ("debate sweep at its configured population", "<= 10 min")}
HOLDS = r"(yes|MISSED|not judged|not measured)"

pytestmark = pytest.mark.skipif(not BENCH.exists(), reason="benchmarks/ is not shipped in the sdist")


def bench(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(BENCH), *arguments, "--out", str(tmp_path / "bench.json")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def has_git() -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode == 0


def test_every_target_is_printed_and_recorded(tmp_path):
    done = bench(tmp_path, *TINY, "--reference", "HEAD")
    assert done.returncode == 0, done.stderr
    for name, target in TARGETS.values():
        line = next((line for line in done.stdout.splitlines() if line.startswith(name)), None)
        assert line is not None, f"no row for {name!r} in\n{done.stdout}"
        # measured, then the target, then (after the stretch) the verdict
        assert re.search(rf"^{re.escape(name)}.*\S+.*{re.escape(target)}.*\s{HOLDS}$", line), line
    assert "Boltzmann anchor, same run:" in done.stdout
    assert re.search(r"debate sweep.*not measured \(--quick\)", done.stdout)

    result = json.loads((tmp_path / "bench.json").read_text())
    assert {"commit", "python", "date", "machine", "load", "conditions", "anchor", "targets", "figures",
            "raw"} <= result.keys()
    assert result["anchor"]["agent_steps_per_second"] > 0
    assert [t["key"] for t in result["targets"]] == list(TARGETS)
    for t in result["targets"]:
        assert {"measure", "measured", "shown", "target", "stretch", "holds", "stretch_holds"} <= t.keys()
    measured = {t["key"]: t for t in result["targets"]}
    assert measured["ratio"]["measured"] > 0 and measured["default_run"]["measured"] > 0
    assert measured["sweep"]["measured"] is None  # --quick leaves the sweep out, and says so
    assert result["conditions"]["population"] == 1000 and result["conditions"]["sizes"] == [500, 1000]
    if has_git():
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
        assert result["commit"].removesuffix("-dirty") == head.stdout.strip()
        # today's code was unpacked from git and timed in its own process, paired with this one's
        runs = result["raw"]["model"]["runs"]
        assert len(runs["reference"]) == len(runs["current"]) == 1
        assert Path(runs["reference"][0]["module"]).parents[1] != Path(runs["current"][0]["module"]).parents[1]
        assert any(f["key"] == "reference_run" for f in result["figures"])


def test_an_unavailable_reference_is_skipped_with_a_message(tmp_path):
    done = bench(tmp_path, *TINY, "--reference", "no-such-commit-0000")
    assert done.returncode == 0, done.stderr
    assert "reference run skipped: commit 'no-such-commit-0000' is not available here" in done.stderr
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["raw"]["model"]["runs"]["reference"] == []
    assert "not available" in next(t for t in result["targets"] if t["key"] == "default_run")["note"]


def test_bad_arguments_are_refused_before_anything_runs(tmp_path):
    done = bench(tmp_path, "--sizes", "1000")
    assert done.returncode != 0
    assert "--sizes needs at least two populations" in done.stderr
    assert not (tmp_path / "bench.json").exists()
