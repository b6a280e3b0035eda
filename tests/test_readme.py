"""Every code block of README.md runs as written, against a small real sweep (issue 13, point 6).

How the blocks are made to run here, and nothing else changed in them:

- SUBSTITUTIONS replaces the README's example paths with the paths of a tiny sweep made in
  a temporary directory (a sweep job's directory holds the same files as a run's), and
  shrinks two sizes: ``mesa.batch_run``'s population 5,000 to 1,000, its 3 seeds to 2 and
  its 252 steps to 12. Each replaced text must still be in the README, so a changed example
  fails here instead of running unsubstituted.
- Python blocks run in a fresh namespace each, in this process, with matplotlib's Agg backend.
- Shell blocks run in bash with a user's ``PATH`` that holds no ``python`` of the project's
  (``/usr/bin:/bin``), so a command that starts with a bare ``python`` fails as it would for
  a user; SKIPPED_SHELL names the ones not run, each with the reason.
- The YAML block (an experiment of one's own) is put in a config folder of its own and
  composed with ``--config-dir``, as the README says, and printed with ``--cfg job``.
"""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest
from conftest import ROOT, commonsabm, user_env

README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)

SKIPPED_SHELL = {
    "make run": "sets up .venv and installs the package; tests/test_packaging.py installs the wheel in a fresh "
                "environment instead",
    "make app": "serves the explorer until stopped; tests/test_app.py starts it and reads the page",
    "hydra/launcher=laptop ubi=none,modest,full": "full-size sweeps (100,000 residents, 20 replicates per job) "
                                                  "take many minutes; tests/test_reproducibility.py runs the "
                                                  "laptop launcher on a small sweep",
    "hydra/launcher=cluster": "needs a SLURM cluster",
}


def blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(text) if lang == language]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two jobs (UBI none and full) of two replicates, 1,000 residents to 2011-12."""
    work = tmp_path_factory.mktemp("readme")
    out = work / "ubi_sweep"
    result = commonsabm(["-m", "ubi=none,full", "austerity=continued", "ubi.start=2011-01", "run.population=1000",
                         "run.end=2011-12", "run.replications=2", f"hydra.sweep.dir={out}"], cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def readme(sweep) -> str:
    substitutions = {
        "outputs/ubi/2026-11-22_10-51-33": str(sweep / "1"),
        "outputs/ubi/rerun": str(sweep.parent / "rerun"),
        "/scratch/me/ubi_sweep": str(sweep),
        '"population": 5000': '"population": 1000',
        "rng=[1, 2, 3]": "rng=[1, 2]",
        "max_steps=252": "max_steps=12",
    }
    text = README.read_text()
    for old, new in substitutions.items():
        assert old in text, f"README no longer has {old!r}: update SUBSTITUTIONS"
        text = text.replace(old, new)
    return text


def python_blocks() -> list[str]:
    return blocks(README.read_text(), "python")


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_python_block_runs(readme, index):
    import matplotlib

    matplotlib.use("Agg")
    code = blocks(readme, "python")[index]
    namespace: dict = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md python block {index + 1}", "exec"), namespace)
    if "from_manifest" in code:  # the README says the two ways give the same model
        namespace["same"].run()
        frame = namespace["model"].datacollector.get_model_vars_dataframe()
        pd.testing.assert_frame_equal(frame, namespace["same"].datacollector.get_model_vars_dataframe())


def test_every_shell_block_runs_or_is_skipped_with_a_reason(readme, sweep):
    ran = 0
    for code in blocks(readme, "bash"):
        if any(marker in code for marker in SKIPPED_SHELL):
            continue
        env = {**user_env(), "PATH": "/usr/bin:/bin"}  # a user's PATH: no project python on it
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=sweep.parent, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{code}\n{result.stderr[-3000:]}"
        ran += 1
    assert ran >= 1
    # the rerun block: the same tables as the job it reran
    for name in ("timeseries.parquet", "organisations.parquet"):
        assert (sweep.parent / "rerun" / name).read_bytes() == (sweep / "1" / name).read_bytes(), name


def test_the_skipped_shell_blocks_are_still_in_the_readme():
    text = "\n".join(blocks(README.read_text(), "bash"))
    for marker in SKIPPED_SHELL:
        assert marker in text, f"README has no shell block with {marker!r} any more: update SKIPPED_SHELL"


def test_the_experiment_of_ones_own_composes(tmp_path):
    (yaml_block,) = blocks(README.read_text(), "yaml")
    name = re.search(r"conf/experiment/(\w+)\.yaml", README.read_text()).group(1)
    (tmp_path / "conf" / "experiment").mkdir(parents=True)
    (tmp_path / "conf" / "experiment" / f"{name}.yaml").write_text(yaml_block)
    result = commonsabm([f"--config-dir={tmp_path / 'conf'}", f"+experiment={name}", "--cfg", "job"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"scenario: {name}" in result.stdout
    assert re.search(r"^ubi:\n  level: 150\.0\n  start: '?2022-01'?$", result.stdout, re.M)  # modest, from 2022
    assert re.search(r"^place:\n  name: deprived_northern$", result.stdout, re.M)
