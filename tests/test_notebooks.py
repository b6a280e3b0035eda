"""The notebooks in experiments/ run against a tiny sweep (issue 5), so they cannot rot."""

from __future__ import annotations

import pytest
from conftest import ROOT, SRC

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = ROOT / "experiments"


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    from test_sweep import cli

    work = tmp_path_factory.mktemp("notebooks")
    sweep = work / "debate"
    result = cli(["+experiment=debate", "run.population=1000", "run.end=2020-12", "run.replications=2",
                  "ubi=none,full", "austerity=continued,reversed", "procurement=prime_biased",
                  "sanctions=punitive", "investment_fund=none", "place=deprived_northern",
                  f"hydra.sweep.dir={sweep}"], cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep


def execute(name: str, cwd, env: dict[str, str], monkeypatch) -> None:
    for key, value in {"PYTHONPATH": str(SRC), "MPLBACKEND": "Agg", **env}.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_single_run_notebook(tiny_sweep, monkeypatch):
    execute("single_run.ipynb", tiny_sweep, {"COMMONSABM_RUN": str(tiny_sweep / "0")}, monkeypatch)


def test_debate_notebook(tiny_sweep, monkeypatch):
    execute("debate.ipynb", tiny_sweep, {"COMMONSABM_SWEEP": str(tiny_sweep)}, monkeypatch)
