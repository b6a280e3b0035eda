"""Sweeps (docs/ODD.md §6.3): replicate seeds inside a job, job status and resume, launchers, and gathering results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SRC

from commonsabm import CommonsModel
from commonsabm.params.months import months_between
from commonsabm.params.checks import checked
from commonsabm.params.schema import ModelConfig, RunConfig
from commonsabm.runs.outputs import FIGURE, OUTPUT_FILES, SWEEP_JOB_FILES, run_and_write, timeseries
from commonsabm.runs.sweep import load_sweep
from commonsabm.sim.reporters import REPORTERS

TINY = ["run.population=1500", "run.end=2011-06"]
MONTHS = months_between("2010-01", "2011-06")
METRICS = [name for name in REPORTERS if name != "date"]
# A real failure at run time, after validation (which every valid configuration passes and then
# runs): a directory sits where job 1 must write its first table, so its outputs cannot be written.
SWEPT = "welfare.jobseeker_benefit"
SWEEP = [f"{SWEPT}=280,250,300", "run.replications=2"]  # job 1 fails, jobs 0 and 2 complete
BLOCKED = "timeseries.parquet"


def block_outputs(job: Path) -> None:
    """Put a directory where the job's first table goes, before the job runs."""
    (job / BLOCKED).mkdir(parents=True)


def cli(args: list[str], cwd: Path, module: str = "commonsabm") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COMMONSABM_DEBUG", "HYDRA_FULL_ERROR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def status(job: Path) -> dict:
    return json.loads((job / "status.json").read_text())


def stamps(job: Path) -> dict[str, int]:
    """Modification times of a job's own files (Hydra rewrites .hydra/ and its log on every launch)."""
    return {name: (job / name).stat().st_mtime_ns for name in (*SWEEP_JOB_FILES, "status.json")}


# ---------------------------------------------------------------- replications inside a job
@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    """One job of three replicates and one of a single replicate, from the same master seed."""
    work = tmp_path_factory.mktemp("replicates")
    runs = {}
    for n in (3, 1):
        run = RunConfig(seed=5, population=1500, end="2011-06", replications=n)
        run_and_write(checked(ModelConfig(), run), work / str(n), scenario="test", resolved="", progress=False)
        runs[n] = work / str(n)
    return runs


def test_a_job_writes_every_replicate_into_its_tables(replicated):
    out = replicated[3]
    series = pd.read_parquet(out / "timeseries.parquet")
    assert series.columns[:3].tolist() == ["replicate", "month", "date"]
    assert series.groupby("replicate").size().to_dict() == {0: MONTHS, 1: MONTHS, 2: MONTHS}
    assert (series.groupby("replicate")["month"].apply(list) == [list(range(MONTHS))] * 3).all()
    orgs = pd.read_parquet(out / "organisations.parquet")
    assert set(orgs["replicate"]) == {0, 1, 2}
    assert not orgs.duplicated(["replicate", "id"]).any()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["replications"] == 3
    assert summary["seeds"] == [{"replicate": k, "entropy": 5, "spawn_key": [k]} for k in range(3)]
    assert [r["replicate"] for r in summary["replicates"]] == [0, 1, 2]
    for k, rep in enumerate(summary["replicates"]):
        final = series[series["replicate"] == k]["volunteering_rate"].iloc[-12:].mean()
        assert rep["volunteering_rate_final_year"] == pytest.approx(final)
        assert rep["max_ledger_error"] <= 1e-9


def test_replicate_k_is_the_kth_spawned_seed_whatever_the_job_size(replicated):
    """Replicate k never depends on how the replicates are split between jobs."""
    three = pd.read_parquet(replicated[3] / "timeseries.parquet")
    one = pd.read_parquet(replicated[1] / "timeseries.parquet")
    first = three[three["replicate"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, one)
    # replicate 2 is exactly a model seeded with the third child of SeedSequence(5)
    child = np.random.SeedSequence(5).spawn(3)[2]
    model = CommonsModel(population=1500, end="2011-06", rng=child, config=ModelConfig())
    model.run()
    direct = timeseries(model)
    third = three[three["replicate"] == 2].drop(columns="replicate").reset_index(drop=True)
    pd.testing.assert_frame_equal(third, direct[third.columns], check_dtype=False)


def test_replicates_differ(replicated):
    series = pd.read_parquet(replicated[3] / "timeseries.parquet")
    reps = [series[series["replicate"] == k][METRICS].to_numpy() for k in range(3)]
    for a, b in ((0, 1), (0, 2), (1, 2)):
        differing = ~np.isclose(reps[a], reps[b], equal_nan=True).all(axis=0)
        assert differing.sum() >= 5, f"replicates {a} and {b} are (nearly) the same run"


# ---------------------------------------------------------------- a sweep on a laptop, one job failing
@pytest.fixture(scope="module")
def laptop(tmp_path_factory):
    work = tmp_path_factory.mktemp("laptop")
    sweep = work / "sweep"
    block_outputs(sweep / "1")
    args = ["-m", "hydra/launcher=laptop", *TINY, *SWEEP]
    result = cli([*args, f"hydra.sweep.dir={sweep}"], cwd=work)
    return args, result, sweep


def test_a_failed_job_does_not_stop_the_others(laptop):
    _, result, sweep = laptop
    assert result.returncode == 1, result.stderr  # the sweep ran, and says a job failed
    assert "job 1 failed: IsADirectoryError" in result.stderr
    assert "Traceback" not in result.stderr
    for job in ("0", "2"):
        for name in SWEEP_JOB_FILES:
            assert (sweep / job / name).is_file(), f"{job}/{name}"
        assert status(sweep / job)["state"] == "completed"
        assert sorted(status(sweep / job)["files"]) == sorted(SWEEP_JOB_FILES)
        # a sweep's job draws no figure (a single run does: test_cli), and its manifest says so
        assert not (sweep / job / FIGURE).exists()
        assert sorted(json.loads((sweep / job / "manifest.json").read_text())["checksums"]) == \
            sorted(set(SWEEP_JOB_FILES) - {"manifest.json"})
    failed = status(sweep / "1")
    assert failed["state"] == "failed" and failed["exception"] == "IsADirectoryError"
    assert "Is a directory" in failed["error"] and "atomic_write" in failed["traceback"]
    assert not (sweep / "1" / "timeseries.parquet").is_file()
    # gathered at the end of the multirun
    assert "3 jobs: 2 completed, 1 failed" in result.stdout
    assert (sweep / "sweep_summary.parquet").is_file() and (sweep / "sweep_monthly.parquet").is_file()


def test_load_sweep_lists_every_job_and_replicate(laptop):
    _, _, sweep = laptop
    results = load_sweep(sweep)
    summary = results.summary
    assert summary.columns[:5].tolist() == ["job", "replicate", "seed", "state", "error"]
    assert summary["job"].tolist() == ["0", "0", "1", "1", "2", "2"]
    assert summary["replicate"].tolist() == [0, 1] * 3
    assert summary["seed"].tolist() == [42] * 6
    assert summary["state"].tolist() == ["completed"] * 2 + ["failed"] * 2 + ["completed"] * 2
    assert summary[SWEPT].tolist() == [280, 280, 250, 250, 300, 300]  # the override, as written
    assert summary["run.replications"].tolist() == [2] * 6
    errors = summary.loc[summary["job"] == "1", "error"]
    assert errors.str.startswith("IsADirectoryError: [Errno 21] Is a directory").all()
    assert summary.loc[summary["job"] != "1", "error"].isna().all()
    metrics = [f"{m}_{end}" for m in METRICS for end in ("start", "final")]
    assert set(metrics) <= set(summary.columns)
    assert summary.loc[summary["job"] == "1", metrics].isna().all().all()
    assert summary.loc[summary["job"] != "1", "orgs_total_final"].notna().all()
    # X_start is the first month, X_final the mean of the last twelve, replicate by replicate
    series = pd.read_parquet(sweep / "2" / "timeseries.parquet")
    one = series[series["replicate"] == 1]
    row = summary[(summary["job"] == "2") & (summary["replicate"] == 1)].iloc[0]
    starts = row[[f"{m}_start" for m in METRICS]].to_numpy(dtype=float)
    finals = row[[f"{m}_final" for m in METRICS]].to_numpy(dtype=float)
    np.testing.assert_allclose(starts, one[METRICS].iloc[0].to_numpy(dtype=float), rtol=1e-12)
    np.testing.assert_allclose(finals, one[METRICS].iloc[-12:].mean().to_numpy(dtype=float), rtol=1e-12)
    monthly = results.monthly
    assert monthly.columns[:4].tolist() == ["job", "replicate", "month", "date"]
    assert set(METRICS) <= set(monthly.columns)
    assert monthly.groupby(["job", "replicate"]).size().to_dict() == {
        ("0", 0): MONTHS, ("0", 1): MONTHS, ("2", 0): MONTHS, ("2", 1): MONTHS}
    assert results.states == {"completed": 2, "failed": 1, "running": 0, "missing": 0, "unknown": 0}
    # the tables the multirun wrote at its end are these
    written = pd.read_parquet(sweep / "sweep_summary.parquet")
    pd.testing.assert_frame_equal(written.drop(columns="error"), summary.drop(columns="error"), check_dtype=False)
    assert written["error"].dropna().tolist() == summary["error"].dropna().tolist()
    assert written["error"].isna().tolist() == summary["error"].isna().tolist()
    assert len(pd.read_parquet(sweep / "sweep_monthly.parquet")) == len(monthly)


def test_running_the_sweep_again_runs_only_what_is_not_complete(laptop, tmp_path):
    args, _, original = laptop
    sweep = tmp_path / "sweep"
    shutil.copytree(original, sweep)  # keeps the files' modification times
    shutil.rmtree(sweep / "2")  # a job that never ran (say, its cluster job was cancelled)
    before = load_sweep(sweep).summary.drop_duplicates("job").set_index("job")
    assert before["state"].to_dict() == {"0": "completed", "1": "failed", "2": "missing"}
    assert before.loc["2", SWEPT] == 300  # known from the sweep's plan (multirun.yaml)
    kept, failed_at = stamps(sweep / "0"), status(sweep / "1")["started"]
    result = cli([*args, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # job 1 still fails
    assert "job 0 already complete" in result.stderr
    assert stamps(sweep / "0") == kept, "a completed job was run again"
    assert status(sweep / "2")["state"] == "completed"
    pd.testing.assert_frame_equal(pd.read_parquet(sweep / "2" / "timeseries.parquet"),
                                  pd.read_parquet(original / "2" / "timeseries.parquet"))
    assert status(sweep / "1")["state"] == "failed" and status(sweep / "1")["started"] >= failed_at
    assert load_sweep(sweep).states == {"completed": 2, "failed": 1, "running": 0, "missing": 0, "unknown": 0}


def test_a_corrupt_or_lost_file_is_a_failed_row_not_a_crash(laptop, tmp_path):
    _, _, original = laptop
    sweep = tmp_path / "sweep"
    shutil.copytree(original, sweep)
    data = (sweep / "0" / "timeseries.parquet").read_bytes()
    (sweep / "0" / "timeseries.parquet").write_bytes(data[: len(data) // 2])  # truncated
    summary = load_sweep(sweep).summary
    job0 = summary[summary["job"] == "0"]
    assert job0["state"].eq("failed").all() and len(job0) == 2
    assert job0["error"].str.startswith("completed, but timeseries.parquet changed since it was written").all()
    assert summary.loc[summary["job"] == "2", "state"].eq("completed").all()  # the others are kept
    (sweep / "2" / "organisations.parquet").unlink()
    summary = load_sweep(sweep).summary
    assert summary.loc[summary["job"] == "2", "error"].str.contains("completed, but organisations.parquet is missing").all()


def test_a_job_without_checksums_whose_table_is_unreadable_is_a_failed_row(laptop, tmp_path):
    """Jobs finished before status.json kept checksums: a table that cannot be read still fails its row."""
    _, _, original = laptop
    sweep = tmp_path / "sweep"
    shutil.copytree(original, sweep)
    record = status(sweep / "2")
    del record["checksums"]
    (sweep / "2" / "status.json").write_text(json.dumps(record))
    (sweep / "2" / "timeseries.parquet").write_bytes(b"PAR1 not a parquet file PAR1")
    summary = load_sweep(sweep).summary
    job2 = summary[summary["job"] == "2"]
    assert job2["state"].eq("failed").all()
    assert job2["error"].str.startswith("cannot read timeseries.parquet: ").all()


def test_the_sweep_command_refuses_damaged_results_and_writes_nothing(laptop, tmp_path):
    _, _, original = laptop
    sweep = tmp_path / "sweep"
    shutil.copytree(original, sweep)
    tables = {name: (sweep / name).read_bytes() for name in ("sweep_summary.parquet", "sweep_monthly.parquet")}
    data = (sweep / "0" / "timeseries.parquet").read_bytes()
    (sweep / "0" / "timeseries.parquet").write_bytes(data[: len(data) // 2])
    result = cli([str(sweep)], cwd=tmp_path, module="commonsabm.runs.sweep")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("commonsabm.runs.sweep: error: results of completed jobs are damaged or missing (job 0: ")
    assert "nothing was written" in lines[0] and f"hydra.sweep.dir={sweep}" in lines[0]
    assert "job 1" not in lines[0], "a job that failed when it ran is not damaged results"
    for name, before in tables.items():
        assert (sweep / name).read_bytes() == before, f"{name} was overwritten"
    # the remedy the message gives: the same sweep again redoes job 0 alone
    args, _, _ = laptop
    rerun = cli([*args, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert "job 0 already complete" not in rerun.stderr and "job 2 already complete" in rerun.stderr
    assert load_sweep(sweep).summary.query("job == '0'")["state"].eq("completed").all()


def test_a_failed_single_run_exits_non_zero_and_says_why(tmp_path):
    out = tmp_path / "out"
    block_outputs(out)
    result = cli([*TINY, f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode != 0
    assert "commonsabm: error: [Errno 21] Is a directory" in result.stderr
    assert status(out)["state"] == "failed" and status(out)["exception"] == "IsADirectoryError"
    assert not (out / "timeseries.parquet").is_file()


# ---------------------------------------------------------------- submitit, locally
def test_submitit_local_sweep_end_to_end(tmp_path):
    sweep = tmp_path / "sweep"
    result = cli(["-m", "hydra/launcher=submitit_local", *TINY, "run.seed=1,2", f"hydra.sweep.dir={sweep}"],
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = load_sweep(sweep)
    summary = results.summary
    assert summary["job"].tolist() == ["0", "1"]  # .submitit/ is not a job
    assert summary["state"].tolist() == ["completed", "completed"]
    assert summary["seed"].tolist() == [1, 2] and summary["run.seed"].tolist() == [1, 2]
    assert summary["orgs_total_final"].notna().all()
    assert len(results.monthly) == 2 * MONTHS
    assert (sweep / "sweep_summary.parquet").is_file()


# ---------------------------------------------------------------- the launcher presets
def compose_hydra(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    import commonsabm.cli  # noqa: F401 - the schema and the resolver the presets use
    from commonsabm.params.checks import conf_dir

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=True)


def test_laptop_preset_is_joblib_with_two_jobs_by_default():
    launcher = compose_hydra(["hydra/launcher=laptop"]).hydra.launcher
    assert launcher._target_.endswith("JoblibLauncher") and launcher.n_jobs == 2
    assert compose_hydra(["hydra/launcher=laptop", "hydra.launcher.n_jobs=4"]).hydra.launcher.n_jobs == 4


def test_cluster_preset_makes_a_slurm_script(tmp_path, monkeypatch):
    """Without a cluster: build the sbatch script submitit would submit, and read it."""
    import submitit.slurm.slurm as slurm
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
    from omegaconf import OmegaConf

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 1\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("COMMONSABM_VENV", raising=False)
    cfg = compose_hydra(["hydra/launcher=cluster", "hydra.launcher.partition=short", "hydra.launcher.mem_gb=8",
                         f"hydra.sweep.dir={tmp_path / 'sweep'}"])
    scripts = []

    class Submitted(Exception):
        pass

    def capture(self, delayed_submissions):
        scripts.append(self._make_submission_file_text("python -u -m submitit.core._submit DIR", "uid"))
        raise Submitted

    monkeypatch.setattr(slurm.SlurmExecutor, "_internal_process_submissions", capture)
    params = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert params.pop("_target_").endswith("SlurmLauncher")
    launcher = SlurmLauncher(**params)
    launcher.config = cfg
    with pytest.raises(Submitted):
        launcher.launch([["run.seed=1"], ["run.seed=2"]], initial_job_idx=0)
    [script] = scripts
    for line in ("#SBATCH --partition=short", "#SBATCH --time=60", "#SBATCH --mem=8GB",
                 "#SBATCH --cpus-per-task=1", f"source {sys.prefix}/bin/activate"):
        assert line in script, f"{line!r} not in the sbatch script:\n{script}"
    assert str(tmp_path / "sweep" / ".submitit") in script


def test_every_debate_replicate_opens_with_three_organisations_of_each_kind():
    """Issue 15: the debate's claims about co-ops and community businesses must not rest on
    one organisation. The spin-up runs under 2010's policy in every cell, so replicate k of
    each cell opens alike; at the configured population each replicate opens 2010 with at
    least three of each kind."""
    from collections import Counter

    from commonsabm import CommonsModel
    from commonsabm.runs.outputs import replicate_seeds

    cfg = compose_hydra(["+experiment=debate"])
    run = cfg.run
    places = [level.strip() for level in str(cfg.hydra.sweeper.params["place"]).split(",")]
    assert len(places) == 2
    for place in places:  # the places differ in their organisations' density; the levers do not act before 2010
        for child in replicate_seeds(run.seed, run.replications):
            model = CommonsModel(population=run.population, end=run.start, rng=child, place=place)
            counts = Counter(o.kind for o in model.live_organisations)
            assert min(counts[kind] for kind in ("coop", "community_business", "vcs")) >= 3, (place, counts)
