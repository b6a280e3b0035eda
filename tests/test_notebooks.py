"""The notebooks in experiments/ run against a tiny sweep (issue 5), so they cannot rot.

Given a run or sweep (COMMONSABM_RUN, COMMONSABM_SWEEP), they read it; given none, they read
the newest one in the working directory or the one above it (runs/latest.py), and with none
there they stop with one line saying how to point them at one.
"""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import ROOT, SRC

from commonsabm.runs.latest import latest_run, latest_sweep

NOTEBOOKS = ROOT / "experiments"
STAMP = "2026-01-01_00-00-00"


@pytest.fixture(scope="module")
def nb():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    return nbformat, nbclient


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    from test_sweep import cli

    work = tmp_path_factory.mktemp("notebooks")
    sweep = work / "multirun" / "debate" / STAMP  # where `+experiment=debate` puts a sweep by default
    result = cli(["+experiment=debate", "run.population=1000", "run.end=2020-12", "run.replications=2",
                  "ubi=none,full", "austerity=continued,reversed", "procurement=prime_biased",
                  "sanctions=punitive", "investment_fund=none", "place=deprived_northern",
                  f"hydra.sweep.dir={sweep}"], cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep


def execute(nb, name: str, cwd, env: dict[str, str], monkeypatch) -> list[str]:
    """Run the notebook in `cwd`; return the text it printed."""
    nbformat, nbclient = nb
    for key in ("COMMONSABM_RUN", "COMMONSABM_SWEEP"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {"PYTHONPATH": str(SRC), "MPLBACKEND": "Agg", **env}.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    return [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]


def test_single_run_notebook(nb, tiny_sweep, monkeypatch):
    execute(nb, "single_run.ipynb", tiny_sweep, {"COMMONSABM_RUN": str(tiny_sweep / "0")}, monkeypatch)


def test_debate_notebook(nb, tiny_sweep, monkeypatch):
    printed = execute(nb, "debate.ipynb", tiny_sweep, {"COMMONSABM_SWEEP": str(tiny_sweep)}, monkeypatch)
    # a sweep to 2020 cannot answer a claim about 2030, and the notebook says so
    assert any("warning: P1 cannot be answered by this sweep: horizon" in text for text in printed)


def _checkout_with_results(root, tiny_sweep):
    """A checkout as a user has it: outputs/ and multirun/ at its top, the notebooks in experiments/."""
    (root / "experiments").mkdir(parents=True)
    run = root / "outputs" / "ubi" / STAMP
    shutil.copytree(tiny_sweep / "0", run)
    sweep = root / "multirun" / "debate" / STAMP
    shutil.copytree(tiny_sweep, sweep)
    # older entries that must not be picked: a run and a sweep with no readable results
    for old in (root / "outputs" / "baseline" / "2025-01-01_00-00-00" / "manifest.json",
                root / "multirun" / "debate" / "2025-01-01_00-00-00" / "0" / "status.json"):
        old.parent.mkdir(parents=True)
        old.write_text("{}")
        os.utime(old, (0, 0))
    return run, sweep


def test_the_notebooks_read_the_newest_run_and_sweep_when_none_is_named(nb, tiny_sweep, tmp_path, monkeypatch):
    run, sweep = _checkout_with_results(tmp_path, tiny_sweep)
    printed = execute(nb, "single_run.ipynb", tmp_path / "experiments", {}, monkeypatch)
    assert f"run: {run}" in "".join(printed)
    printed = execute(nb, "debate.ipynb", tmp_path / "experiments", {}, monkeypatch)
    assert f"sweep: {sweep}" in "".join(printed)


@pytest.mark.parametrize("name, words", [
    ("single_run.ipynb", "no run found under {} (looked for outputs/*/*/manifest.json); run one with "
                         "`python -m commonsabm`, or set COMMONSABM_RUN=/path/to/a/run/directory"),
    ("debate.ipynb", "no sweep found under {}"),
])
def test_without_a_run_the_notebooks_say_how_to_point_them_at_one(nb, name, words, tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    cwd = tmp_path / "experiments"
    cwd.mkdir()
    with pytest.raises(CellExecutionError) as error:
        execute(nb, name, cwd, {}, monkeypatch)
    assert words.format(f"{cwd} or {tmp_path}") in str(error.value)
    assert "COMMONSABM_SWEEP=" in str(error.value) or name != "debate.ipynb"


def test_the_newest_sweep_of_the_scenario_comes_first(tmp_path):
    def job(path, when):
        path.mkdir(parents=True)
        (path / "status.json").write_text("{}")
        os.utime(path / "status.json", (when, when))

    job(tmp_path / "multirun" / "debate" / "a" / "0", 100)
    job(tmp_path / "multirun" / "debate" / "b" / "0", 200)
    job(tmp_path / "multirun" / "ubi" / "c" / "0", 300)  # newer, but another scenario
    (tmp_path / "multirun" / "debate" / "d").mkdir()  # no job yet
    assert latest_sweep(tmp_path) == tmp_path / "multirun" / "debate" / "b"
    assert latest_sweep(tmp_path, scenario="parker") == tmp_path / "multirun" / "ubi" / "c"
    with pytest.raises(FileNotFoundError, match="set COMMONSABM_RUN="):
        latest_run(tmp_path)
