"""Stage 3 of the ensemble verdict (issue 17) on a tiny gathered ensemble sweep with planted answers: a world
parameter decides one claim, another holds everywhere; the command's files, their bytes, and bad input."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import SRC
from test_notebooks import execute, nb  # noqa: F401 - nb is the fixture the notebook test needs

from commonsabm.analysis.ensemble import verdict as ensemble
from commonsabm.analysis.sensitivity import UNCERTAIN
from commonsabm.params.months import month_index, month_label
from commonsabm.runs.sweep import KEYS, MONTHLY_FILE, SUMMARY_FILE

DECIDER, THRESHOLD = "behaviour.free_time_response", 1.2  # UBI raises participation iff below 1.2
TRIED, KEPT, REPLICATES = 50, 40, 3  # 40 worlds: the fewest scenario discovery runs PRIM on
FIRST, LAST, START = "2019-07", "2030-12", "2020-01"  # P1 speaks of 2030; the levers start in 2020
CELLS = list(itertools.product(("none", "full"), ("continued", "reversed")))  # ubi x austerity, the rest at reference
METRICS = ("volunteering_rate", "orgs_total", "commons_share_total", "unmet_need", "local_multiplier",
           "claimant_commoning_hours", "orgs_coop", "orgs_community_business", "orgs_vcs")


def worlds_table(tried: int = TRIED, kept_worlds: int = KEPT, seed: int = 3) -> pd.DataFrame:
    """Worlds as the worlds stage writes them: the tried worlds' numbers, every parameter, whether kept."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"world": np.arange(tried, dtype=np.int64)})
    for u in UNCERTAIN:
        table[u.key] = rng.uniform(u.lo, u.hi, tried)
    kept = np.zeros(tried, bool)
    kept[rng.choice(tried, kept_worlds, replace=False)] = True
    table["kept"] = kept
    return table


def gathered(worlds: pd.DataFrame, first: str = FIRST, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sweep_summary and sweep_monthly as the gatherer writes them for the kept worlds x CELLS x replicates."""
    rng = np.random.default_rng(seed)
    kept = worlds[worlds["kept"]].reset_index(drop=True)
    dates = [month_label(i) for i in range(month_index(first), month_index(LAST) + 1)]
    ramp = np.clip((np.arange(len(dates)) - (month_index(START) - month_index(first)) + 1) / 12, 0, 1)
    summary, monthly, job = [], [], 0
    for w, world in kept.iterrows():
        ubi_on_participation = 0.03 if world[DECIDER] < THRESHOLD else -0.03
        crn = rng.normal(0, 1, (REPLICATES, len(METRICS)))  # shared by every cell of a replicate in this world
        for ubi, austerity in CELLS:
            full, reversed_ = ubi == "full", austerity == "reversed"
            levels = {"ubi": ubi, "austerity": austerity, "world": f"w{w:03d}"}
            for k in range(REPLICATES):
                values = {m: np.full(len(dates), 10.0 + j) + crn[k, j] + rng.normal(0, 0.05, len(dates))
                          for j, m in enumerate(METRICS)}
                values["volunteering_rate"] = (0.2 + 0.01 * crn[k, 0] + ubi_on_participation * full * ramp
                                               + rng.normal(0, 0.001, len(dates)))
                values["orgs_total"] = 300 + 5 * crn[k, 1] + (20 * full + 15 * reversed_) * ramp \
                    + rng.normal(0, 0.5, len(dates))
                frame = pd.DataFrame({"job": str(job), "replicate": k, "month": np.arange(len(dates)),
                                      "date": dates, **values})
                monthly.append(frame)
                summary.append({"job": str(job), "replicate": k, "seed": 42, "state": "completed", "error": None,
                                "experiment": "debate_ensemble", **levels,
                                **{f"{m}_start": float(frame[m].iloc[0]) for m in METRICS},
                                **{f"{m}_final": float(frame[m].iloc[-12:].mean()) for m in METRICS}})
            job += 1
    summary = pd.DataFrame(summary).astype({"replicate": "Int64", "seed": "Int64"})  # as the gatherer types them
    assert list(summary.columns[:len(KEYS)]) == list(KEYS)
    return summary, pd.concat(monthly, ignore_index=True)


def planted_share(worlds: pd.DataFrame) -> float:
    return float((worlds.loc[worlds["kept"], DECIDER] < THRESHOLD).mean())


def write_ensemble(root, worlds: pd.DataFrame, first: str = FIRST):
    root.mkdir(parents=True)
    summary, monthly = gathered(worlds, first)
    summary.to_parquet(root / SUMMARY_FILE, index=False)
    monthly.to_parquet(root / MONTHLY_FILE, index=False)
    worlds.to_parquet(root / ensemble.WORLDS_TABLE, index=False)
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A gathered ensemble sweep with its worlds table beside it, judged once by stage 3."""
    worlds = worlds_table()
    root = write_ensemble(tmp_path_factory.mktemp("ensemble") / "multirun" / "debate_ensemble" / "2026-01-01_00-00-00",
                          worlds)
    assert ensemble.main([str(root)]) == 0
    return root, worlds


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Six worlds over the last three years: every stage runs (discovery says it has too few worlds), quickly."""
    worlds = worlds_table(8, 6)
    return write_ensemble(tmp_path_factory.mktemp("small") / "sweep", worlds, "2028-01"), worlds


def test_the_planted_parameter_decides_the_contested_claim_and_prim_finds_it(tiny):
    root, worlds = tiny
    claims = pd.read_parquet(root / ensemble.CLAIMS_TABLE)
    p1 = claims[claims["claim"] == "P1"]
    assert len(p1) == KEPT and p1["world"].is_unique
    # the share of worlds where P1 holds is the planted share, world by world
    kept = worlds[worlds["kept"]].reset_index(drop=True)
    planted = pd.Series((kept[DECIDER] < THRESHOLD).to_numpy(), index=[f"w{k:03d}" for k in range(KEPT)])
    assert (p1.set_index("world")["holds"].astype(bool) == planted).all()
    share = planted_share(worlds)
    assert 0.1 < share < 0.9
    text = (root / ensemble.REPORT).read_text()
    seed = seed_only(root)
    assert f"| P1 | {seed['P1']} | {KEPT} | {planted.sum()} | {share:.2f} [" in text
    assert "contested" in text.split("| P1 |")[1].splitlines()[0]
    boxes = pd.read_parquet(root / ensemble.BOXES_TABLE)
    p1_box = boxes[boxes["claim"] == "P1"]
    assert p1_box["status"].iloc[0] == "box" and list(p1_box["parameter"]) == [DECIDER]
    # the upper limit lies between the largest value at which P1 holds and the threshold plus a seventh of the
    # explored range (0.5 to 2.0): 40 worlds leave gaps of that order, and the density floor lets the box take some
    largest = kept.loc[kept[DECIDER] < THRESHOLD, DECIDER].max()
    assert largest <= p1_box["high"].iloc[0] <= THRESHOLD + 0.2
    assert p1_box["coverage"].iloc[0] >= 0.9 and p1_box["density"].iloc[0] >= 0.8
    assert (root / ensemble.box_figure("P1")).stat().st_size > 0
    # the paragraph is read off the box, not written in advance
    assert f"**P1** holds in {planted.sum()} of {KEPT} worlds; it holds mostly where {DECIDER} <= " in text
    # pooled over the worlds the seeds alone see one average effect; where they call it supported, the report
    # says the ensemble does not
    assert ("With the seeds alone these read *supported*, but" in text) == (seed["P1"] == "supported")


def seed_only(root) -> dict[str, str]:
    """The seed-only statuses of the ensemble's rows pooled over the worlds, from the debate's own verdict."""
    from commonsabm.analysis.verdict import compute, sweep_end

    verdict = compute(pd.read_parquet(root / SUMMARY_FILE), end=sweep_end(pd.read_parquet(root / MONTHLY_FILE)))
    return {r.claim.key: r.status for r in verdict.claims}


def test_a_claim_that_holds_in_every_world_is_robust_and_gets_no_box(tiny):
    root, _ = tiny
    text = (root / ensemble.REPORT).read_text()
    assert seed_only(root)["D1"] == "supported"
    assert f"| D1 | supported | {KEPT} | {KEPT} | 1.00 [" in text
    assert "robust" in text.split("| D1 |")[1].splitlines()[0]
    assert "D1" not in set(pd.read_parquet(root / ensemble.BOXES_TABLE)["claim"])
    assert not (root / ensemble.box_figure("D1")).exists()
    # a claim the reduced factorial cannot answer (no fund level swept) is left out, counted, not rejected
    claims = pd.read_parquet(root / ensemble.CLAIMS_TABLE)
    assert (claims.loc[claims["claim"] == "P2", "status"] == "cannot answer").all()
    assert f"| P2 | cannot answer | 0 (+{KEPT} unanswered) |" in text


def test_effects_by_year_follow_the_planted_ramp_and_the_replicates_are_checked(tiny):
    root, worlds = tiny
    yearly = pd.read_parquet(root / ensemble.BY_YEAR_TABLE)
    d1 = yearly[yearly["claim"] == "D1"]
    assert sorted(d1["year"].unique()) == list(range(11))  # 2020 .. 2030, complete years only
    by_year = d1.groupby("year")["effect"].median()
    # continued - reversed austerity: -15 x the ramp's mean in that year (6.5/12 in year 0, full after)
    assert by_year[0] == pytest.approx(-15 * 6.5 / 12, abs=0.5) and by_year[5] == pytest.approx(-15, abs=0.5)
    p1 = yearly[(yearly["claim"] == "P1") & (yearly["year"] == 10)].set_index("world")["effect"]
    assert p1.min() == pytest.approx(-0.03, abs=0.005) and p1.max() == pytest.approx(0.03, abs=0.005)
    text = (root / ensemble.REPORT).read_text()
    assert f"![effects over time]({ensemble.OVER_TIME_FIGURE})" in text
    assert (root / ensemble.OVER_TIME_FIGURE).stat().st_size > 0
    assert "| volunteering_rate_final |" in text and "| orgs_total_final |" in text
    assert f"| {REPLICATES} | " in text.split("## Replicates")[1]


def test_the_same_input_gives_the_same_bytes_and_out_writes_elsewhere(small, tmp_path):
    root, _ = small
    assert ensemble.main([str(root)]) == 0
    result = subprocess.run([sys.executable, "-m", "commonsabm.analysis.ensemble.verdict", str(root),
                             "--out", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-2000:]
    for name in (ensemble.REPORT, ensemble.CLAIMS_TABLE, ensemble.BY_YEAR_TABLE, ensemble.BOXES_TABLE):
        assert (tmp_path / name).read_bytes() == (root / name).read_bytes(), name


def test_the_seed_only_column_is_the_debate_sweeps_own_verdict_when_given(small, tmp_path):
    root, _ = small
    # a "debate sweep": one world's cells alone, gathered as the debate gathers them (no world column)
    debate = tmp_path / "debate"
    debate.mkdir()
    summary = pd.read_parquet(root / SUMMARY_FILE)
    one = summary[summary["world"] == "w000"].drop(columns="world")
    one.to_parquet(debate / SUMMARY_FILE, index=False)
    monthly = pd.read_parquet(root / MONTHLY_FILE)
    monthly[monthly["job"].isin(one["job"])].to_parquet(debate / MONTHLY_FILE, index=False)
    assert ensemble.main([str(root), "--debate", str(debate), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / ensemble.REPORT).read_text()
    assert "Seed-only: the verdict of the debate sweep `debate` (its own verdict)." in text
    from commonsabm.analysis.verdict import compute, sweep_end

    own = compute(one, end=sweep_end(monthly[monthly["job"].isin(one["job"])]))
    for result in own.claims:
        assert f"| {result.claim.key} | {result.status} | " in text


def test_named_worlds_are_matched_by_name_and_only_kept_ones_count(small, tmp_path):
    root, worlds = small
    table = worlds.copy()
    # named as the sweep names them, listed in another order, with a world that was not kept
    order = {w: f"w{k:03d}" for k, w in enumerate(table.loc[table["kept"], "world"])}
    table["world"] = table["world"].map(order).fillna("tried only")
    table = table.iloc[::-1]
    path = tmp_path / ensemble.WORLDS_TABLE
    table.to_parquet(path, index=False)
    read = ensemble.read_worlds(path, root, ["w002", "w000"])
    assert list(read.index) == ["w002", "w000"]
    expected = table.set_index("world").loc[["w002", "w000"], list(ensemble.PARAMETERS)]
    assert (read.to_numpy() == expected.to_numpy()).all()
    with pytest.raises(ValueError, match="world\\(s\\) tried only of the sweep"):
        ensemble.read_worlds(path, root, ["tried only"])


def _sweep_copy(small, tmp_path):
    root, _ = small
    copy = tmp_path / "sweep"
    copy.mkdir()
    for name in (SUMMARY_FILE, MONTHLY_FILE, ensemble.WORLDS_TABLE):
        (copy / name).write_bytes((root / name).read_bytes())
    return copy


@pytest.mark.parametrize("damage, words", [
    ("no dir", "SWEEP_DIR={sweep}/absent: no such directory"),
    ("no world", "the sweep has no 'world' column"),
    ("no parameter", f"the table lacks parameter(s) {DECIDER}"),
    ("no table", "--worlds (not given, and SWEEP_DIR has no worlds.parquet): no worlds table"),
    ("no debate", "--debate={sweep}/absent: no such directory"),
    ("unknown world", "world(s) w005 of the sweep are not among its 5 kept worlds"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(small, tmp_path, capsys, damage, words):
    sweep = _sweep_copy(small, tmp_path)
    target, extra = sweep, []
    if damage == "no dir":
        target = sweep / "absent"
    elif damage == "no world":
        pd.read_parquet(sweep / SUMMARY_FILE).drop(columns="world").to_parquet(sweep / SUMMARY_FILE)
    elif damage == "no parameter":
        pd.read_parquet(sweep / ensemble.WORLDS_TABLE).drop(columns=DECIDER).to_parquet(sweep / ensemble.WORLDS_TABLE)
    elif damage == "no table":
        (sweep / ensemble.WORLDS_TABLE).unlink()
    elif damage == "no debate":
        extra = ["--debate", str(sweep / "absent")]
    else:
        table = pd.read_parquet(sweep / ensemble.WORLDS_TABLE)
        table.loc[table[table["kept"]].index[-1], "kept"] = False
        table.to_parquet(sweep / ensemble.WORLDS_TABLE)
    before = sorted(p.name for p in sweep.iterdir())
    assert ensemble.main([str(target), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words.format(sweep=sweep) in err
    assert sorted(p.name for p in sweep.iterdir()) == before


# ---------------------------------------------------------------- the notebook
def test_the_ensemble_notebook_runs_on_the_tiny_ensemble(nb, tiny, monkeypatch):
    root, _ = tiny
    printed = execute(nb, "ensemble.ipynb", root, {ensemble.ENV: str(root)}, monkeypatch)
    assert f"ensemble: {root}" in "".join(printed)


def test_the_notebook_finds_the_newest_ensemble_when_none_is_named(tiny, monkeypatch):
    root, _ = tiny
    monkeypatch.delenv(ensemble.ENV, raising=False)
    top = root.parents[2]
    assert ensemble.latest(top) == root
    with pytest.raises(FileNotFoundError, match=f"set {ensemble.ENV}="):
        ensemble.latest(root)
