"""Cells of a sweep share their past (runs/branches.py): a run gone on from another
configuration's saved state, once their histories are equal (sim.national.history), gives
the same numbers, to the bit, as running every month again; the plan finds those months;
and a sweep gives the same bytes with sharing on and off."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from commonsabm import CommonsModel
from commonsabm.params.checks import Settings
from commonsabm.params.months import month_index
from commonsabm.runs.branches import branch_months, history_key, plan
from commonsabm.runs.outputs import organisations
from conftest import commonsabm

RUN = {"population": 1500, "end": "2021-06"}
DATED = {"ubi_start": "2020-01", "investment_fund_start": "2020-01", "procurement_start": "2020-01",
         "automation_start": "2020-01"}

# (configuration the state was saved under, the one that goes on from it, the month): every
# lever the model dates, each from one side to the other, at the month their histories part
CASES = {
    "ubi": ({"ubi": "none"}, {"ubi": "full"}, "2020-01"),
    "ubi paid by a local tax": ({"ubi": "none"}, {"ubi": "full", "ubi_funding": "local_tax"}, "2020-01"),
    "ubi paid by a national tax": ({"ubi": "modest", "ubi_funding": "national_tax"}, {"ubi": "full"}, "2020-01"),
    "investment fund": ({"investment_fund": "none"}, {"investment_fund": "present"}, "2020-01"),
    # contracts keep their rules until re-tendered: the reform shows once some have been
    "procurement reform": ({"procurement": "prime_biased"}, {"procurement": "reformed", "run_end": "2023-12"},
                           "2020-01"),
    "automation": ({"automation_job_loss_per_year": 0.005}, {"automation_job_loss_per_year": 0.04}, "2020-01"),
    "sanctions": ({"sanctions": "punitive"}, {"sanctions": "ended"}, "2010-01"),
    "conditionality": ({"conditionality": "strict"}, {"conditionality": "supportive"}, "2010-01"),
    "austerity": ({"austerity": "continued"}, {"austerity": "reversed"}, "2018-01"),
}


def settings(model: CommonsModel) -> Settings:
    return Settings(model.config, model.run_config)


def frames(model: CommonsModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    return model.datacollector.get_model_vars_dataframe(), organisations(model)


@pytest.mark.parametrize("case", CASES)
def test_a_run_gone_on_from_an_equal_history_is_the_same_run(case):
    saved_under, going_on, month = CASES[case]
    straight = CommonsModel(rng=5, **{**RUN, **DATED, **going_on})
    trunk = CommonsModel(rng=5, **{**RUN, **DATED, **saved_under, "end": going_on.get("run_end", RUN["end"])})
    branch_at = month_index(month)
    # the plan would share this month: the histories are equal there, and part after it
    assert branch_at in branch_months(settings(straight))
    assert history_key(settings(trunk), branch_at) == history_key(settings(straight), branch_at)
    assert history_key(settings(trunk), branch_at + 3) != history_key(settings(straight), branch_at + 3)
    straight.run()
    while trunk.month < branch_at:
        trunk.step()
    branch = pickle.loads(pickle.dumps(trunk))  # as a saved state is
    branch.adopt(straight.config)
    branch.run()
    for gone_on, ran in zip(frames(branch), frames(straight)):
        pd.testing.assert_frame_equal(gone_on, ran, check_exact=True)
    # and the lever did act after the branch: otherwise the case proves nothing
    trunk.run()
    assert not frames(trunk)[0].equals(frames(straight)[0]), case


def test_the_plan_shares_the_months_before_levers_part():
    """A small debate: two places, two sanction regimes, two austerity paths, UBI on and off.
    Jobs of one place and sanction regime share the first reported month, and of one path
    too 2018 (where the paths part), and every job shares 2020-01 with its UBI twin; a job
    alone in its place shares nothing."""
    jobs, labels = [], {}
    for place in ("deprived_northern", "affluent_southern"):
        for sanctions in ("punitive", "ended"):
            for austerity in ("continued", "reversed"):
                for ubi in ("none", "full"):
                    model = CommonsModel(population=1000, end="2030-12", place=place, sanctions=sanctions,
                                         austerity=austerity, ubi=ubi, run_spin_up=0, **DATED)
                    label = str(len(jobs))
                    labels[label] = (place, sanctions, austerity, ubi)
                    jobs.append((label, settings(model)))
    alone = CommonsModel(population=1000, end="2030-12", place="typical", run_spin_up=0, **DATED)
    kept = plan([*jobs, ("alone", settings(alone))])
    assert kept["alone"] == []
    for label, (place, sanctions, austerity, ubi) in labels.items():
        # spin-up 0: the first reported month is the first simulated, so it is not a branch
        assert kept[label] == [month_index("2018-01"), month_index("2020-01")], labels[label]


def test_a_sweep_gives_the_same_bytes_with_and_without_shared_history(tmp_path):
    args = ["-m", "ubi=none,modest", "procurement=prime_biased,reformed", "run.population=800",
            "run.end=2020-12", "run.spin_up=6", "ubi.start=2020-01", "procurement.start=2020-01"]
    results = {}
    for share in ("true", "false"):
        out = tmp_path / share
        result = commonsabm([*args, f"run.share_history={share}", f"hydra.sweep.dir={out}"], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert not (out / ".shared_history").exists()  # removed once every job completed
        results[share] = {job: (out / job / "timeseries.parquet").read_bytes() for job in "0123"}
        taken_up = [json.loads((out / job / "manifest.json").read_text()).get("shared_history") for job in "0123"]
        # with sharing, three of the four jobs go on from the first's state (at 2010-01 or 2020-01)
        assert sum(bool(t) for t in taken_up) == (3 if share == "true" else 0), taken_up
    assert results["true"] == results["false"]
