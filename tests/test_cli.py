"""The command line end to end: `python -m commonsabm ...` in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONF, assert_clean_run, commonsabm, user_env
from omegaconf import OmegaConf

from commonsabm.params.months import month_index, month_label, months_between
from commonsabm.sim.reporters import REPORTERS
from commonsabm.sim.terms import KINDS, SOURCES

TINY = ["run.population=2000", "run.end=2011-12"]
# the scenarios switch their UBI, fund and procurement reform on in 2020; bring them into a two-year run
EARLY = ["ubi.start=2011-01", "investment_fund.start=2011-01", "procurement.start=2011-01"]
# scenarios of one simulation; the analyses (calibrate, sensitivity) and the sweeps (debate,
# a multirun: tests/test_verdict.py) have tests of their own
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")
                     if OmegaConf.load(p).get("mode", "run") == "run"
                     and OmegaConf.select(OmegaConf.load(p), "hydra.mode") != "MULTIRUN")
OUTPUTS = ("timeseries.parquet", "organisations.parquet", "summary.json", "manifest.json",
           "config.yaml", "overview.png")


@pytest.fixture(scope="module")
def ubi_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli_ubi")
    out = work / "out"
    result = commonsabm(["+experiment=ubi", *TINY, "ubi.start=2011-01", "run.seed=7",
                         f"hydra.run.dir={out}"], cwd=work)
    return result, out


def test_ubi_experiment_exits_zero_and_writes_every_output(ubi_run):
    result, out = ubi_run
    assert_clean_run(result, out, OUTPUTS)
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "completed" and set(status["files"]) == set(OUTPUTS)


def test_timeseries_has_one_row_per_month(ubi_run):
    _, out = ubi_run
    series = pd.read_parquet(out / "timeseries.parquet")
    months = months_between("2010-01", "2011-12")
    assert len(series) == months
    assert series["month"].tolist() == list(range(months))
    expected = [month_label(month_index("2010-01") + i) for i in range(months)]
    assert series["date"].tolist() == expected
    assert set(REPORTERS) <= set(series.columns)


def test_timeseries_records_the_ubi_scenario(ubi_run):
    _, out = ubi_run
    series = pd.read_parquet(out / "timeseries.parquet").set_index("date")
    # the full UBI replaces conditional benefit from 2011-01: no sanctions after that
    assert series.loc["2010-01":"2010-12", "sanctions"].sum() > 0
    assert (series.loc["2011-01":, "sanctions"] == 0).all()
    assert series["ledger_error"].max() <= 1e-9


def test_organisations_table(ubi_run):
    _, out = ubi_run
    orgs = pd.read_parquet(out / "organisations.parquet")
    for column in ("kind", "born", "died", "cause", *(f"revenue_{s}" for s in SOURCES)):
        assert column in orgs.columns, column
    assert len(orgs) > 0
    assert set(orgs["kind"]) <= set(KINDS)
    assert orgs["id"].is_unique
    closed = orgs["died"].notna()
    assert orgs.loc[closed, "cause"].isin(["cash", "burnout"]).all()
    assert orgs.loc[~closed, "cause"].isna().all()
    assert (orgs.loc[closed, "died"] >= orgs.loc[closed, "born"]).all()
    revenue = orgs[[f"revenue_{s}" for s in SOURCES]].to_numpy()
    assert np.isfinite(revenue).all() and (revenue >= 0).all()


def test_summary_and_manifest(ubi_run):
    _, out = ubi_run
    summary = json.loads((out / "summary.json").read_text())
    # one replicate (the default), seeded by the first child of SeedSequence(7)
    assert summary["seed"] == 7 and summary["replications"] == 1
    assert summary["seeds"] == [{"replicate": 0, "entropy": 7, "spawn_key": [0]}]
    [replicate] = summary["replicates"]
    assert replicate["replicate"] == 0
    assert replicate["start"] == "2010-01" and replicate["end"] == "2011-12"
    assert replicate["population"] == 2000
    assert replicate["max_ledger_error"] <= 1e-9
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 1 and manifest["seeds"] == summary["seeds"]
    for key in ("version", "seed", "platform", "git_commit"):
        assert key in manifest, key
    assert manifest["seed"] == 7
    assert manifest["scenario"] == "ubi"
    assert isinstance(manifest["version"], str) and manifest["version"]
    assert isinstance(manifest["platform"], str) and manifest["platform"]
    assert manifest["git_commit"] is None or isinstance(manifest["git_commit"], str)


def test_config_yaml_is_the_resolved_configuration(ubi_run):
    _, out = ubi_run
    cfg = OmegaConf.load(out / "config.yaml")
    assert cfg.run.population == 2000 and cfg.run.end == "2011-12" and cfg.run.seed == 7
    assert cfg.scenario == "ubi"
    ubi_preset = OmegaConf.load(CONF / "ubi" / "full.yaml")
    assert cfg.ubi.level == ubi_preset.level and cfg.ubi.start == "2011-01"
    assert cfg.procurement.bundling == OmegaConf.load(CONF / "procurement" / "prime_biased.yaml").bundling


def test_overview_is_a_png(ubi_run):
    _, out = ubi_run
    assert (out / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_runs(experiment, tmp_path):
    out = tmp_path / "out"
    result = commonsabm([f"+experiment={experiment}", *TINY, *EARLY, f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "timeseries.parquet").is_file()
    cfg = OmegaConf.load(out / "config.yaml")
    assert cfg.scenario == experiment
    assert json.loads((out / "summary.json").read_text())["replicates"][0]["max_ledger_error"] <= 1e-9
    assert len(pd.read_parquet(out / "timeseries.parquet")) == months_between("2010-01", "2011-12")


def test_the_experiments_are_those_of_the_brief():
    assert {"baseline", "ubi", "austerity", "reverse_austerity", "procurement_reform", "parker",
            "davies_bua"} <= set(EXPERIMENTS)


# ---------------------------------------------------------------- bad input: one clear line, nothing written
BAD = {
    "misspelt_key": (["ubi.levle=3"], ["ubi.levle", "level"]),
    "negative_ubi": (["ubi.level=-5"], ["ubi.level", "0 to 5000"]),
    "weight_above_one": (["procurement.weight_price=1.5"], ["procurement.weight_price", "0 to 1"]),
    "wrong_type": (["ubi.level=abc"], ["ubi.level", "float"]),
    "unknown_experiment": (["+experiment=nope"], ["nope", *EXPERIMENTS]),
    "unknown_place": (["place=atlantis"], ["atlantis", "deprived_northern", "affluent_southern"]),
    "ubi_after_end": (["ubi.level=100", "ubi.start=2040-01"], ["ubi.start", "2040-01", "run.end"]),
    "bad_month": (["ubi.start=2020-13"], ["ubi.start", "YYYY-MM"]),
    "old_ubi_funding": (["ubi.funding=central"], ["ubi.funding", "outside", "national_tax", "local_tax"]),
    "misspelt_run_key": (["run.populaton=5"], ["run.populaton", "population"]),
    # removed in issue 15: places differ in published structure, not in a written-in civic spirit
    "removed_motivation_shift": (["place.civic_motivation_shift=0.1"], ["place.civic_motivation_shift", "hourly_wage"]),
    # Hydra's + adds keys even to typed sections: a misspelt added key must not run the default
    "added_misspelt_key": (["+ubi.levle=300"], ["ubi.levle", "level"]),
    "added_target": (["+ubi._target_=os.system"], ["ubi._target_", "level"]),
    "added_nested_key": (["+commons.coop.bar=2"], ["commons.coop.bar", "overheads"]),
    # NaN compares false with every bound, so a range check alone lets it through (issue #13)
    "nan_rate": (["sanctions.monthly_rate=nan"], ["sanctions.monthly_rate", "nan", "0 to 1"]),
    "nan_ubi": (["ubi.level=nan"], ["ubi.level", "nan", "0 to 5000"]),
    "nan_wage": (["place.hourly_wage=NaN"], ["place.hourly_wage", "nan", "1 to 100"]),
    "infinite_ubi": (["ubi.level=inf"], ["ubi.level", "inf", "0 to 5000"]),
    "minus_infinite_rate": (["sanctions.monthly_rate=-inf"], ["sanctions.monthly_rate", "-inf", "0 to 1"]),
    "nan_in_a_list": (["austerity.years=[2010,2018,nan]"], ["austerity.years", "nan"]),
    # settings of a mode that the schema's ranges cannot express are checked as early
    "odd_morris_levels": (["+experiment=sensitivity", "sensitivity.morris_levels=3"],
                          ["sensitivity.morris_levels=3", "even"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_fails_with_one_clear_line_and_writes_nothing(case, tmp_path):
    args, must_name = BAD[case]
    out = tmp_path / "out"
    result = commonsabm([*args, *TINY, f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for text in must_name:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert "allowed" in lines[0]
    assert not out.exists(), f"{out} was created: {sorted(p.name for p in out.rglob('*'))}"
    assert not (tmp_path / "outputs").exists()


# ---------------------------------------------------------------- multirun (docs/ODD.md §6.3)
def test_multirun_runs_each_job_into_its_own_directory(tmp_path):
    sweep = tmp_path / "sweep"
    result = commonsabm(["-m", "run.seed=1,2", "run.population=2000", "run.end=2010-12",
                         f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    seeds = {}
    for job in ("0", "1"):
        for name in OUTPUTS:  # every output of a single run but its figure, which a sweep's job does not draw
            assert (sweep / job / name).is_file() == (name != "overview.png"), f"{job}/{name}"
        seeds[json.loads((sweep / job / "manifest.json").read_text())["seed"]] = job
    assert set(seeds) == {1, 2}
    a, b = (pd.read_parquet(sweep / job / "timeseries.parquet") for job in ("0", "1"))
    assert not a.equals(b)


BAD_SWEEPS = {
    "out_of_range_value": ["ubi.level=100,-1", "ubi.start=2010-01"],
    "misspelt_key": ["ubi.levle=1,2"],
    "unknown_place": ["place=typical,atlantis"],
    "nan_in_one_job": ["sanctions.monthly_rate=0.01,nan"],
    # the sweep an experiment declares (hydra.sweeper.params) is checked job by job too: with a
    # 2010 end, the debate's jobs with the investment fund start it after the run has ended
    "experiment_sweep": ["+experiment=debate"],
}


def sweep_with(case: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path, list[str]]:
    sweep = tmp_path / "sweep"
    result = commonsabm(["-m", *BAD_SWEEPS[case], "run.population=2000", "run.end=2010-12",
                         f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    lines = [line for line in result.stderr.replace("\r", "\n").splitlines()
             if line.strip() and "month/s" not in line]  # ignore progress bars
    return result, sweep, lines


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_fails_with_one_line_before_any_job_runs(case, tmp_path):
    """docs/ODD.md §6.3: a typo'd key or an out-of-range value must give a clear error before anything runs."""
    result, sweep, lines = sweep_with(case, tmp_path)
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert "allowed" in lines[0] and "Traceback" not in result.stderr
    assert not list(sweep.rglob("timeseries.parquet")), "a job ran before the bad value was reported"


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_creates_no_sweep_directory(case, tmp_path):
    result, sweep, _ = sweep_with(case, tmp_path)
    assert result.returncode != 0
    assert not sweep.exists(), f"{sweep} was created: {sorted(str(p.relative_to(sweep)) for p in sweep.rglob('*'))}"


def test_a_traceback_only_when_asked_for(tmp_path):
    """A failure at run time is one line; COMMONSABM_DEBUG=1 gives the traceback instead."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    args = [*TINY, f"hydra.run.dir={blocker / 'out'}"]  # cannot be made: a file is in the way
    plain = commonsabm(args, cwd=tmp_path)
    assert plain.returncode != 0
    assert "Traceback" not in plain.stderr
    assert [line for line in plain.stderr.splitlines() if line.strip()] == [
        f"commonsabm: error: [Errno 20] Not a directory: '{blocker / 'out'}' (set COMMONSABM_DEBUG=1 for details)"]
    env = {**user_env(), "COMMONSABM_DEBUG": "1"}
    debug = subprocess.run([sys.executable, "-m", "commonsabm", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and "NotADirectoryError" in debug.stderr


# ---------------------------------------------------------------- the printed summary (issue #13, point 2)
# each row of the table a run prints, and the column of timeseries.parquet it summarises
PRINTED = {"commons organisations /100k": "orgs_total", "  coop": "orgs_coop",
           "  community_business": "orgs_community_business", "  vcs": "orgs_vcs",
           "monthly volunteering": "volunteering_rate", "commons share of delivery": "commons_share_total",
           "unmet need": "unmet_need", "local multiplier (LM3)": "local_multiplier",
           "primes' contract share": "prime_contract_share"}
# where summary.json keeps each row's figures, at the start and over the final months
COUNTS = {f"  {kind}": kind for kind in KINDS}


def from_summary(replicate: dict, label: str, when: str) -> float:
    if label in COUNTS:
        return replicate[f"orgs_per_100k_{when}"][COUNTS[label]]
    if PRINTED[label] == "orgs_total":
        return sum(replicate[f"orgs_per_100k_{when}"].values())
    return replicate[f"{PRINTED[label]}_{when}"]


def printed_tables(stdout: str) -> dict[Path, tuple[list[str], dict[str, tuple[str, str]]]]:
    """Each printed table, by the job directory it names: its heading and its rows (start, final)."""
    tables, heading, rows = {}, [], {}
    for line in stdout.splitlines():
        if line.startswith("outputs: "):
            tables[Path(line.removeprefix("outputs: "))] = (heading, rows)
            heading, rows = [], {}
        elif len(line) > 30 and len(line[30:40].strip()) == 7 and line[30:40].strip()[4] == "-":
            heading = [line[30:40].strip(), line[40:].strip()]
        elif line[:30].rstrip() in PRINTED:
            rows[line[:30].rstrip()] = (line[30:40].strip(), line[40:].strip())
    return tables


def shows(printed: str, value: float) -> bool:
    """The printed figure is the value, to the places printed (a percentage if it ends in %)."""
    scale, text = (100.0, printed[:-1]) if printed.endswith("%") else (1.0, printed)
    places = len(text.partition(".")[2])
    return abs(float(text) - value * scale) <= 0.5 * 10 ** -places + 1e-9


@pytest.fixture(scope="module")
def short_and_long(tmp_path_factory):
    """A sweep of a run shorter than a year (6 months) and one longer (18 months), with the defaults."""
    work = tmp_path_factory.mktemp("cli_summary")
    sweep = work / "sweep"
    result = commonsabm(["-m", "run.end=2010-06,2011-06", "run.population=2000", "run.seed=5",
                         f"hydra.sweep.dir={sweep}"], cwd=work)
    assert result.returncode == 0, result.stderr
    return result, sweep


def test_the_printed_summary_is_summary_json_and_the_sweeps_final_columns(short_and_long):
    from commonsabm.runs.sweep import load_sweep

    result, sweep = short_and_long
    tables = printed_tables(result.stdout)
    assert sorted(tables) == [sweep / "0", sweep / "1"], result.stdout
    final = load_sweep(sweep).summary.set_index("job")
    for job, (heading, rows) in tables.items():
        [replicate] = json.loads((job / "summary.json").read_text())["replicates"]
        months = len(pd.read_parquet(job / "timeseries.parquet"))
        assert replicate["final_months"] == min(12, months)
        assert heading == [replicate["start"], f"last {min(12, months)} months"]
        assert sorted(rows) == sorted(PRINTED)
        for label, (start, end) in rows.items():
            column = PRINTED[label]
            assert shows(start, from_summary(replicate, label, "start")), (job.name, label, start)
            assert shows(end, from_summary(replicate, label, "final_year")), (job.name, label, end)
            assert shows(start, final.loc[job.name, f"{column}_start"]), (job.name, label, start)
            assert shows(end, final.loc[job.name, f"{column}_final"]), (job.name, label, end)


def test_a_normal_run_shows_no_numpy_warning(short_and_long, ubi_run):
    """What reaches the terminal is the project's own words: no RuntimeWarning from numpy."""
    for result in (short_and_long[0], ubi_run[0]):
        assert "Warning" not in result.stderr, result.stderr


# ---------------------------------------------------------------- Optuna's search space, checked unexpanded
BAD_SEARCH_SPACES = {
    "interval_below_range": ("commons.coop.startup_capital=interval(-5,9000)", ["commons.coop.startup_capital", "0 to"]),
    "misspelt_key": ("commons.coop.startup_capitl=interval(1,9000)", ["commons.coop.startup_capitl", "startup_capital"]),
    "float_bounds_of_an_int": ("network.min_ties=interval(0.5,3.5)", ["network.min_ties", "int"]),
    "range_past_its_top": ("sanctions.monthly_rate=range(0,2,0.5)", ["sanctions.monthly_rate=1.5", "0 to 1"]),
    "choice_not_a_preset": ("ubi=choice(none,huge)", ["ubi", "huge", "modest"]),
    "tagged_interval": ("behaviour.founding_rate=tag(log,interval(-1,0.001))", ["behaviour.founding_rate", "-1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SEARCH_SPACES))
def test_a_bad_search_space_fails_with_one_line_before_any_trial(case, tmp_path):
    """The calibration's Optuna sweep: each searched key and bound is checked without expanding it."""
    override, must_name = BAD_SEARCH_SPACES[case]
    sweep = tmp_path / "sweep"
    result = commonsabm(["+experiment=calibrate", override, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "allowed" in lines[0], result.stderr
    for text in must_name:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert not sweep.exists(), "a trial ran or the sweep directory was made before the bad bound was reported"


def test_a_valid_search_space_passes_and_leaves_the_fixed_overrides():
    """What failed before: the check expanded Optuna's interval with the basic sweeper, which cannot."""
    from commonsabm.cli import search_space

    params = OmegaConf.load(CONF / "experiment" / "calibrate.yaml").hydra.sweeper.params
    fixed = search_space(["commons.coop.startup_capital=interval(1000,9000)", "run.seed=3",
                          "behaviour.join_rate=choice(0.5,0.7)", "network.min_ties=range(1,4)"], params)
    assert fixed == ["run.seed=3"]
