"""The ensemble's worlds as a config group and the debate swept over them (issue 17).

History matching by implausibility (``worlds.judge``), the kept worlds written as the Hydra
config group ``world`` (``group.write_group``), and ``+experiment=debate_ensemble``: the
debate's factorial crossed with every world, gathered with a ``world`` column. Runs are tiny
(2,000 residents to 2020-12 for the worlds, 1,000 to 2012-12 for the sweep).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SRC
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

import commonsabm.cli  # noqa: F401 - registers the schema the compose API needs
from commonsabm.analysis.claims import CLAIMS
from commonsabm.analysis.ensemble import adapter, group, problem, worlds
from commonsabm.analysis.ensemble.problem import WORLD
from commonsabm.cli import check_app
from commonsabm.params.checks import conf_dir, walk
from commonsabm.params.schema import ModelConfig
from commonsabm.runs.sweep import MONTHLY_FILE, SUMMARY_FILE, _conf_loader, sweep_plan

BAND = {"a": (0.0, 0.5)}


def _composed(overrides: list[str], hydra: bool = False):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=hydra)
        loader = GlobalHydra.instance().config_loader()
    return cfg, loader


def _model(cfg) -> dict:
    app = check_app(cfg if "hydra" not in cfg else _without_hydra(cfg))
    return {key: value for key, value, _ in walk(ModelConfig.of(app))}


def _without_hydra(cfg):
    from omegaconf import OmegaConf
    return OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])


# ---------------------------------------------------------------- history matching by implausibility
def test_a_world_within_three_standard_errors_of_a_band_is_kept_and_beyond_is_not():
    # 4 seeds with sd 0.05: a standard error of 0.025 about the mean
    table = pd.DataFrame({"a": [0.55, 0.5749, 0.5751, 0.3, np.nan], "a_sd": [0.05] * 5, "seeds": 4})
    kept = worlds.judge(table, BAND)
    assert list(kept) == [True, True, False, True, False]  # 2 SE and 2.996 SE kept; 3.004 SE not; NaN not
    score = worlds.implausibilities(table, BAND)["a"]
    assert score[0] == pytest.approx(2.0) and score[3] == 0.0 and np.isinf(score[4])
    assert list(worlds.judge(table, BAND, cutoff=1.0)) == [False, False, False, True, False]
    # the strict rule is the old one: inside the band, whatever the spread
    assert list(worlds.judge(table, BAND, "strict")) == [False, False, False, True, False]


def test_a_target_with_no_spread_over_seeds_must_be_inside_its_band():
    table = pd.DataFrame({"a": [0.5, 0.5 + 1e-6, 0.2], "a_sd": [0.0, 0.0, 0.0], "seeds": 3})
    assert list(worlds.judge(table, BAND)) == [True, False, True]
    half_open = {"a": (-np.inf, 0.5)}  # a band open on one side gives no width to excuse a miss by
    assert list(worlds.judge(table, half_open)) == [True, False, True]
    # a table without spreads (one seed) is judged as the strict rule judges it
    bare = pd.DataFrame({"a": [0.5, 0.51, np.nan]})
    assert list(worlds.judge(bare, BAND)) == list(worlds.judge(bare, BAND, "strict")) == [True, False, False]


def test_an_unknown_rule_is_refused():
    with pytest.raises(Exception, match="allowed: one of implausibility, strict"):
        worlds.judge(pd.DataFrame({"a": [0.1]}), BAND, "loose")


@pytest.fixture(scope="module")
def drawn():
    return worlds.draw(worlds=2, seeds=2, population=2000, end=worlds.TARGETS_END, seed=5)


def test_draw_keeps_each_targets_mean_spread_and_implausibility(drawn):
    targets = list(worlds.bands())
    for name in targets:
        assert {name, f"{name}_sd", f"{name}_implausibility"} <= set(drawn.columns)
    measured = [n for n in targets if drawn[n].notna().all()]
    assert any((drawn[f"{n}_sd"] > 0).all() for n in measured)  # two seeds: a spread to judge by
    scores = worlds.implausibilities(drawn)
    np.testing.assert_array_equal(drawn[[f"{n}_implausibility" for n in targets]].to_numpy(), scores.to_numpy())
    assert list(drawn["implausibility"]) == list(scores.max(axis=1))
    assert list(drawn["inside"]) == list(worlds.judge(drawn, rule="strict"))
    assert list(drawn["kept"]) == list(worlds.judge(drawn))
    assert (drawn["kept"] >= drawn["inside"]).all()  # implausibility never rejects a world inside every band
    # widen one band past a world's value by 1 SE: now kept by implausibility, still not by the strict rule
    name = next(n for n in measured if (drawn[f"{n}_sd"] > 0).all())
    value, se = drawn[name].iloc[0], drawn[f"{name}_sd"].iloc[0] / np.sqrt(2)
    near = {**{n: (-np.inf, np.inf) for n in measured}, name: (value + se, value + 10 * se)}
    assert worlds.judge(drawn, near).iloc[0] and not worlds.judge(drawn, near, "strict").iloc[0]


def test_the_report_gives_both_counts(drawn):
    table = drawn.assign(kept=[True, False], inside=[False, False])
    text = worlds.markdown(table)
    assert text.startswith("1 of 2 worlds kept (every target's implausibility at most 3")
    assert "0 of 2 hold every calibration band outright" in text
    assert "| w000 |" in text and "| w001 |" not in text


# ---------------------------------------------------------------- the config group
def test_conf_writes_one_file_per_kept_world_and_each_composes_to_the_worlds_values(drawn, tmp_path):
    folder = tmp_path / "world"
    folder.mkdir()
    (folder / "w099.yaml").write_text("# @package _global_\n")  # an earlier command's world: replaced
    (folder / "notes.txt").write_text("not a world")  # not the command's: left alone
    table = drawn.assign(kept=[True, True])
    written = group.write_group(table, tmp_path, "python -m commonsabm.analysis.ensemble.worlds --worlds 2")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "w000.yaml", "w001.yaml"]
    assert written == [folder / "w000.yaml", folder / "w001.yaml"]
    text = written[0].read_text()
    assert text.startswith("# @package _global_\n") and "--worlds 2" in text and "implausibility" in text
    base = _model(_composed([])[0])
    for _, row in table.iterrows():
        name = worlds.world_name(int(row["world"]))
        cfg, _ = _composed([f"hydra.searchpath=[file://{tmp_path}]", f"+world={name}"])
        composed = _model(cfg)
        values = {u.key: float(row[u.key]) for u in WORLD}
        judged = {key: value for key, value, _ in walk(adapter.settings(values, {}, 2000, worlds.TARGETS_END).model)}
        assert composed == judged  # exactly the configuration the world was judged with
        assert composed != base
    # a world sets no lever's parameter, so a lever's preset holds in every world
    cfg, _ = _composed([f"hydra.searchpath=[file://{tmp_path}]", "+world=w000", "procurement=reformed"])
    reformed, _ = _composed(["procurement=reformed"])
    assert _model(cfg)["procurement.weight_social_value"] == _model(reformed)["procurement.weight_social_value"]
    assert len(group.write_group(table, tmp_path, "again", keep=1)) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "w000.yaml"]


@pytest.mark.parametrize("bad, option", [
    (["--keep", "2"], "--keep"), (["--keep", "0", "--conf", "CONF"], "--keep"), (["--cutoff", "0"], "--cutoff"),
    (["--conf", "FILE"], "--conf"),
])
def test_bad_group_options_give_one_line_and_nothing_written(tmp_path, capsys, bad, option):
    (tmp_path / "FILE").write_text("a file")
    bad = [str(tmp_path / b) if b in ("CONF", "FILE") else b for b in bad]
    out = tmp_path / "out"
    argv = ["--worlds", "1", "--seeds", "1", "--population", "2000", "--out", str(out), *bad]
    assert worlds.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and option in lines[0] and "allowed" in lines[0], captured.err
    assert not out.exists() and not (tmp_path / "CONF").exists()


# ---------------------------------------------------------------- the debate over every world
def test_the_ensemble_sweep_crosses_the_claims_cells_with_every_world_of_the_group():
    cfg, loader = _composed(["+experiment=debate_ensemble"], hydra=True)
    assert cfg.verdict is False and cfg.scenario == "debate_ensemble"
    params = dict(cfg.hydra.sweeper.params)
    assert params.pop("+world") == "glob(*)"
    debate = problem.debate_levels()
    # the debate's levers, each at the levels some claim needs, and no other
    needed: dict[str, set] = {}
    for claim in CLAIMS:
        for part in claim.parts:
            for lever, levels in part.needs().items():
                needed.setdefault(lever, set()).update(levels)
    assert list(params) == list(debate)
    assert {lever: set(levels.split(",")) for lever, levels in params.items()} == needed
    # the settings the debate fixes for every cell come with it (reused, not copied)
    assert cfg.ubi.funding == "outside" and cfg.procurement.start == "2020-01"
    options = sorted(p.stem for p in (conf_dir() / "world").glob("*.yaml"))
    assert options, "conf/world holds the default ensemble"
    cells = int(np.prod([len(levels) for levels in needed.values()]))
    for planner in (loader, _conf_loader()):  # as the command plans it, and as load_sweep does afterwards
        plan = sweep_plan(list(cfg.hydra.overrides.task), cfg.hydra.sweeper.params, planner)
        assert len(plan) == cells * len(options)
        assert sorted({o for job in plan for o in job if o.startswith("+world=")}) == [f"+world={o}" for o in options]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COMMONSABM_DEBUG", "HYDRA_FULL_ERROR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run([sys.executable, "-m", "commonsabm", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _tiny(tmp_path: Path, sweep: Path, *more: str) -> list[str]:
    # one cell of the debate (sanctions ended, the rest at the baseline) in two worlds from a group
    # on the search path, named apart from conf/world's (a glob does not see the search path: listed)
    return ["+experiment=debate_ensemble", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "+world=t000,t001",
            "ubi=none", "austerity=continued", "procurement=prime_biased", "sanctions=ended",
            "investment_fund=none", "place=deprived_northern", "run.population=1000", "run.end=2012-12",
            "run.replications=2", f"hydra.sweep.dir={sweep}", *more]


def test_a_tiny_ensemble_sweep_gathers_a_world_column_and_launchers_give_the_same_bytes(tmp_path):
    folder = tmp_path / "conf" / "world"
    folder.mkdir(parents=True)
    for name, alpha in (("t000", 1.5), ("t001", 3.5)):
        (folder / f"{name}.yaml").write_text(f"# @package _global_\nbehaviour:\n  motivation_alpha: {alpha}\n")
    serial, laptop = tmp_path / "serial", tmp_path / "laptop"
    for sweep, launcher in ((serial, "hydra/launcher=basic"), (laptop, "hydra.launcher.n_jobs=2")):
        result = _cli(_tiny(tmp_path, sweep, launcher), tmp_path)
        assert result.returncode == 0, result.stderr
        assert "verdict" not in result.stdout  # the ensemble's verdict is its own command
    summary = pd.read_parquet(serial / SUMMARY_FILE)
    assert list(summary["world"]) == ["t000", "t000", "t001", "t001"] and (summary["state"] == "completed").all()
    assert summary["seed"].nunique() == 1  # common random numbers: replicate k is the same seed in both worlds
    by_world = summary.groupby("world")["volunteering_rate_final"].mean()
    assert by_world["t000"] != by_world["t001"]  # the world's values reached the runs
    for name in (SUMMARY_FILE, MONTHLY_FILE):
        assert (serial / name).read_bytes() == (laptop / name).read_bytes(), name


def test_an_unknown_world_gives_one_line_and_writes_nothing(tmp_path):
    sweep = tmp_path / "sweep"
    result = _cli(["+experiment=debate_ensemble", "+world=w999999", "ubi=none", "run.population=1000",
                   "run.end=2012-12", f"hydra.sweep.dir={sweep}"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown world 'w999999'" in lines[0] and "allowed: w" in lines[0], result.stderr
    assert not sweep.exists() and not (tmp_path / "multirun").exists()
