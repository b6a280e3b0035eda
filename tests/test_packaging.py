"""The wheel works on its own: built from the checkout, installed with its dependencies into
a fresh virtual environment, and run from a directory that is not the checkout.

pip resolves the dependencies from the package index (and its cache), so the first run on a
machine downloads them; after that the install takes about half a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import CONF, ROOT
from omegaconf import OmegaConf

from commonsabm.params.months import months_between
from commonsabm.sim.reporters import REPORTERS
from commonsabm.sim.terms import KINDS

pytestmark = pytest.mark.slow

RUN = ["+experiment=ubi", "run.population=2000"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

# Read by the fresh environment's own pandas and pyarrow, as a user would, and handed back as JSON.
LOAD = """
import json, sys
import pandas as pd, pyarrow.parquet as pq
run = sys.argv[1]
series = pd.read_parquet(f"{run}/timeseries.parquet")
orgs = pd.read_parquet(f"{run}/organisations.parquet")
units = {f.name: f.metadata[b"unit"].decode() for f in pq.read_schema(f"{run}/timeseries.parquet") if f.metadata}
print(json.dumps({
    "columns": series.columns.tolist(), "dates": series["date"].tolist(),
    "replicates": sorted(int(r) for r in series["replicate"].unique()),
    "sanctions": dict(zip(series["date"], series["sanctions"].astype(float))),
    "ledger_error": float(series["ledger_error"].max()), "units": units,
    "org_rows": len(orgs), "org_kinds": sorted(orgs["kind"].unique().tolist()),
    "manifest": json.load(open(f"{run}/manifest.json")),
}))
"""


def run(command: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command outside the checkout: nothing of the test's environment points at src/."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COMMONSABM_DEBUG", "COMMONSABM_VENV", "HYDRA_FULL_ERROR")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> tuple[Path, Path]:
    """The fresh environment's Python, and an empty directory to work in."""
    work = tmp_path_factory.mktemp("packaging")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", ROOT], cwd=work)
    [wheel] = (work / "dist").glob("commonsabm-*.whl")
    run([sys.executable, "-m", "venv", work / "venv"], cwd=work)
    python = work / "venv" / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", wheel], cwd=work, timeout=1200)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return python, elsewhere


@pytest.fixture(scope="module")
def ubi_run(fresh) -> tuple[dict, dict]:
    """`--cfg job` and the run of the same command, and what pandas reads of the run's outputs."""
    python, cwd = fresh
    config = OmegaConf.to_container(OmegaConf.create(run([python, "-m", "commonsabm", "--cfg", "job", *RUN],
                                                         cwd=cwd).stdout))
    run([python, "-m", "commonsabm", *RUN], cwd=cwd)
    [out] = (cwd / "outputs" / config["scenario"]).iterdir()  # the default place, under the working directory
    return config, json.loads(run([python, "-c", LOAD, out], cwd=cwd).stdout)


def test_the_fresh_environment_imports_the_installed_wheel(fresh):
    python, cwd = fresh
    found = json.loads(run([python, "-c", "import commonsabm, json, sys; print(json.dumps("
                                   "[commonsabm.__file__, commonsabm.__version__, sys.prefix, sys.base_prefix]))"],
                           cwd=cwd).stdout)
    where, version, prefix, base = found
    venv = python.parent.parent
    assert Path(where).is_relative_to(venv), f"commonsabm imported from {where}"
    assert Path(prefix) == venv and prefix != base
    assert version == VERSION
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()


def test_help_lists_the_packaged_experiments(fresh):
    python, cwd = fresh
    text = run([python, "-m", "commonsabm", "--help"], cwd=cwd).stdout
    [line] = [line for line in text.splitlines() if line.startswith("experiment:")]
    assert line.split(":", 1)[1].strip().split(", ") == sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
    # the console script of [project.scripts] is the same command
    assert run([python.parent / "commonsabm", "--help"], cwd=cwd).stdout == text


def test_cfg_job_shows_the_composed_scenario(ubi_run):
    config, _ = ubi_run
    assert config["scenario"] == "ubi" and config["run"]["population"] == 2000
    assert config["ubi"]["level"] == OmegaConf.load(CONF / "ubi" / "full.yaml").level > 0


def test_the_run_writes_tables_pandas_reads(ubi_run):
    config, loaded = ubi_run
    start, end = config["run"]["start"], config["run"]["end"]
    assert loaded["dates"][0] == start and loaded["dates"][-1] == end
    assert len(loaded["dates"]) == months_between(start, end) * config["run"]["replications"]
    assert loaded["replicates"] == list(range(config["run"]["replications"]))
    assert set(REPORTERS) <= set(loaded["columns"]) and set(REPORTERS) <= set(loaded["units"])
    assert loaded["ledger_error"] <= 1e-9
    assert loaded["org_rows"] > 0 and set(loaded["org_kinds"]) <= set(KINDS)
    manifest = loaded["manifest"]
    assert manifest["scenario"] == "ubi" and manifest["population"] == 2000
    assert manifest["version"] == VERSION


def test_the_run_is_the_ubi_scenario(ubi_run):
    """The full UBI replaces conditional benefit, so sanctions stop the month it starts."""
    config, loaded = ubi_run
    ubi_start = config["ubi"]["start"]
    before = [n for date, n in loaded["sanctions"].items() if date < ubi_start]
    after = [n for date, n in loaded["sanctions"].items() if date >= ubi_start]
    assert before and after
    assert sum(before) > 0 and not any(after)
