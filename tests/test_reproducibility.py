"""A seed reproduces a run exactly; all randomness comes from model.rng (docs/ODD.md §6.3).

In Python, through the command line, whichever launcher runs a sweep, and from nothing
but what a run's manifest.json records.
"""

from __future__ import annotations

import json
import random
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_clean_run, commonsabm, user_env
from omegaconf import OmegaConf

from commonsabm import CommonsModel
from commonsabm.runs.outputs import FIGURE, OUTPUT_FILES, from_manifest, timeseries
from commonsabm.runs.sweep import load_sweep

RICH = {"ubi": "modest", "ubi_start": "2011-01", "investment_fund": "present", "investment_fund_start": "2011-01",
        "procurement": "reformed", "commissioning": "scale_what_works", "automation": "rapid",
        "automation_start": "2010-01"}


def series(seed, **keywords):
    model = CommonsModel(population=3000, end="2013-12", rng=seed, **keywords)
    model.run()
    return model, model.datacollector.get_model_vars_dataframe()


def register(model):
    return [(o.kind, o.nbhd, o.born, o.died, o.cause, round(o.cash, 6)) for o in model.organisations]


@pytest.mark.parametrize("keywords", [{}, RICH], ids=["default", "rich"])
def test_same_seed_gives_identical_runs(keywords):
    model_a, a = series(11, **keywords)
    model_b, b = series(11, **keywords)
    assert a.equals(b)
    assert register(model_a) == register(model_b)
    assert np.array_equal(model_a.citizens.cash, model_b.citizens.cash)


@pytest.mark.parametrize("keywords", [{}, RICH], ids=["default", "rich"])
def test_different_seeds_give_different_runs(keywords):
    _, a = series(11, **keywords)
    _, b = series(12, **keywords)
    assert not a.equals(b)
    assert len(differing_columns(a, b)) >= 5  # not a single stray column: the place itself differs


def differing_columns(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """The numeric columns whose values are not (nearly) the same in both tables."""
    numeric = a.select_dtypes("number").columns
    return [c for c in numeric if not np.allclose(a[c].to_numpy(), b[c].to_numpy(), equal_nan=True)]


def test_global_random_state_does_not_matter():
    np.random.seed(1)
    random.seed(1)
    _, a = series(5)
    np.random.seed(99)
    random.seed(99)
    np.random.random(1000)
    _, b = series(5)
    assert a.equals(b)


def test_a_generator_seed_works_like_an_integer_seed():
    _, a = series(np.random.default_rng(21))
    _, b = series(np.random.default_rng(21))
    assert a.equals(b)


# ---------------------------------------------------------------- through the command line
# Two replicates, so that each replicate's seed must be recorded and rerun; the UBI starts
# inside the three years, so the run goes through the scenario's switch.
CLI_RUN = ["+experiment=ubi", "run.population=2000", "run.end=2012-12", "ubi.start=2011-01", "run.replications=2"]
SEED, OTHER_SEED = 7, 8
TABLES = ("timeseries.parquet", "organisations.parquet")
# What a run writes from its configuration and seeds alone, so byte for byte the same when
# it runs again. Left out: overview.png (a picture of the table) and manifest.json (below).
DETERMINISTIC = (*TABLES, "summary.json", "config.yaml")
# What the manifests of two runs of the same job may differ in: when it ran, for how long,
# the command as typed, which names the output directory and the launcher, and which of its
# replicates went on from another job's saved months (which job got there first: runs.branches;
# the outputs are the same bytes either way, as the tables' comparison here shows)
VOLATILE = ("command", "wall_time_seconds", "finished", "shared_history")


def run_cli(args: list[str], out: Path, cwd: Path) -> Path:
    assert_clean_run(commonsabm([*args, f"hydra.run.dir={out}"], cwd=cwd), out, OUTPUT_FILES)
    return out


def read_manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def stable(manifest: dict) -> dict:
    # the figure is left out as above: a sweep's job draws none, and its rerun (a single run) does
    checksums = {k: v for k, v in manifest.get("checksums", {}).items() if k != FIGURE}
    return {k: (checksums if k == "checksums" else v) for k, v in manifest.items() if k not in VOLATILE}


def assert_same_outputs(a: Path, b: Path) -> None:
    """The same tables (values, dtypes, column order), the same bytes, the same manifest bar VOLATILE."""
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name), check_exact=True)
    for name in DETERMINISTIC:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"
    assert stable(read_manifest(a)) == stable(read_manifest(b))


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory) -> dict[str, Path]:
    """The same job twice, and once with another seed, each into its own directory."""
    work = tmp_path_factory.mktemp("cli_runs")
    return {name: run_cli([*CLI_RUN, f"run.seed={seed}"], work / name, cwd=work)
            for name, seed in (("first", SEED), ("again", SEED), ("other_seed", OTHER_SEED))}


def test_the_same_seed_through_the_command_line_gives_identical_outputs(cli_runs):
    assert_same_outputs(cli_runs["first"], cli_runs["again"])


def test_another_seed_through_the_command_line_gives_another_run(cli_runs):
    first, other = cli_runs["first"], cli_runs["other_seed"]
    # the seed is all that differs in what ran...
    config, other_config = (OmegaConf.load(run / "config.yaml") for run in (first, other))
    assert config.run.seed != other_config.run.seed
    other_config.run.seed = config.run.seed
    assert config == other_config
    # ...and it changes every replicate, month for month
    a, b = (pd.read_parquet(run / "timeseries.parquet") for run in (first, other))
    index = ["replicate", "month", "date"]
    pd.testing.assert_frame_equal(a[index], b[index])
    for k in a["replicate"].unique():
        assert len(differing_columns(a[a["replicate"] == k], b[b["replicate"] == k])) >= 5, f"replicate {k}"
    assert not pd.read_parquet(first / "organisations.parquet").equals(pd.read_parquet(other / "organisations.parquet"))


# ---------------------------------------------------------------- from the manifest alone
def rerun_from_manifest(run: Path, where: Path) -> Path:
    """Run again from nothing but the recipe in run/manifest.json, in another directory, word for word.

    The recipe names the interpreter that ran the job by its absolute path (a bare `python`
    may be another environment without commonsabm), so it is run exactly as recorded.
    """
    command = shlex.split(read_manifest(run)["rerun"])
    assert command[:3] == [sys.executable, "-m", "commonsabm"]
    out = where / "rerun"
    result = subprocess.run([*command, f"hydra.run.dir={out}"], cwd=where, env=user_env(),
                            capture_output=True, text=True, timeout=300)
    assert_clean_run(result, out, OUTPUT_FILES)
    return out


def test_the_manifest_alone_reruns_a_run(cli_runs, tmp_path):
    assert_same_outputs(cli_runs["first"], rerun_from_manifest(cli_runs["first"], tmp_path))


def test_the_manifest_reproduces_every_replicate_in_python(cli_runs):
    """docs/ODD.md §10.1, without Hydra: the manifest's `config`, as it is, and its seeds rebuild each replicate
    exactly, through `CommonsModel(config=manifest["config"])` and through `from_manifest`."""
    run = cli_runs["first"]
    manifest = read_manifest(run)
    written = pd.read_parquet(run / "timeseries.parquet")
    assert sorted(written["replicate"].unique()) == [seed["replicate"] for seed in manifest["seeds"]]
    for seed in manifest["seeds"]:
        rng = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]))
        by_hand = CommonsModel(population=manifest["population"], start=manifest["start"], end=manifest["end"],
                               rng=rng, config=manifest["config"])
        for model in (by_hand, from_manifest(run, replicate=seed["replicate"])):
            model.run()
            replicate = written[written["replicate"] == seed["replicate"]].drop(columns="replicate")
            pd.testing.assert_frame_equal(replicate.reset_index(drop=True), timeseries(model), check_exact=True)


def test_from_manifest_refuses_a_replicate_the_run_does_not_have(cli_runs):
    with pytest.raises(ValueError, match=r"replicate=5 is not in this run; allowed: 0, 1"):
        from_manifest(cli_runs["first"] / "manifest.json", replicate=5)


# ---------------------------------------------------------------- a sweep, whatever the launcher
# two seeds x two UBI presets, two replicates each: four jobs, so the joblib launcher's two
# processes share them out
SWEEP = ["run.seed=1,2", "ubi=none,full", "ubi.start=2011-01", "run.replications=2",
         "run.population=1500", "run.end=2011-12"]
LAUNCHERS = {"serial": [], "laptop": ["hydra/launcher=laptop"]}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    """The same sweep run by Hydra's basic launcher (one job after another) and by the laptop preset."""
    work = tmp_path_factory.mktemp("sweeps")
    dirs = {}
    for name, launcher in LAUNCHERS.items():
        dirs[name] = work / name
        result = commonsabm(["-m", *launcher, *SWEEP, f"hydra.sweep.dir={dirs[name]}"], cwd=work)
        assert_clean_run(result, dirs[name], ("sweep_summary.parquet", "sweep_monthly.parquet"))
    return dirs


def test_a_sweep_gives_the_same_tables_serially_and_in_parallel(sweeps):
    launchers = {name: OmegaConf.load(d / "multirun.yaml").hydra.launcher._target_ for name, d in sweeps.items()}
    assert launchers["serial"].endswith("BasicLauncher") and launchers["laptop"].endswith("JoblibLauncher")
    serial, laptop = load_sweep(sweeps["serial"]), load_sweep(sweeps["laptop"])
    assert set(serial.summary["state"]) == {"completed"} and serial.summary["job"].nunique() > 1
    # Columns that may differ with the launcher: none. `job` is the job's directory relative
    # to the sweep; what does depend on the launcher (wall time, host, pid, the command as
    # typed) is kept in each job's status.json and manifest.json, not in these tables.
    pd.testing.assert_frame_equal(serial.summary, laptop.summary, check_exact=True)
    pd.testing.assert_frame_equal(serial.monthly, laptop.monthly, check_exact=True)
    for job in serial.summary["job"].unique():
        assert stable(read_manifest(sweeps["serial"] / job)) == stable(read_manifest(sweeps["laptop"] / job)), job


def test_the_manifest_alone_reruns_one_job_of_a_sweep(sweeps, tmp_path):
    """A job's recipe holds its own values, not the sweep's lists, so it runs without --multirun."""
    sweep = sweeps["laptop"]
    job = sweep / load_sweep(sweep).summary["job"].iloc[-1]
    assert_same_outputs(job, rerun_from_manifest(job, tmp_path))
