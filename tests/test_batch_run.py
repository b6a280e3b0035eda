"""mesa.batch_run drives CommonsModel through its plain keywords (docs/ODD.md §6.3: sweeps)."""

from __future__ import annotations

import mesa
import pandas as pd
import pytest

from commonsabm import CommonsModel
from commonsabm.sim.reporters import REPORTERS

# ubi_start is needed: a UBI that starts (by default) in 2020 would never be paid in a run
# that ends in 2011, and the model rejects that contradiction.
PARAMETERS = {"population": 2000, "end": "2011-06", "ubi_level": [0, 200], "ubi_start": "2010-01"}


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    rows = mesa.batch_run(CommonsModel, parameters=PARAMETERS, rng=[1, 2], max_steps=18,
                          number_processes=1, display_progress=False)
    return pd.DataFrame(rows)


def test_batch_run_returns_one_final_row_per_run_with_the_reporters(results):
    assert len(results) == 4
    assert sorted(zip(results["rng"], results["ubi_level"])) == [(1, 0), (1, 200), (2, 0), (2, 200)]
    for name in ("orgs_total", "volunteering_rate", "free_hours_unemployed", "ledger_error"):
        assert name in results.columns
    assert set(REPORTERS) <= set(results.columns)
    assert (results["Step"] == 18).all()
    assert (results["date"] == "2011-06").all()  # 18 months from 2010-01
    assert results["orgs_total"].gt(0).all()
    assert results["volunteering_rate"].between(0, 1).all()
    assert (results["ledger_error"] <= 1e-9).all()


def test_batch_run_levers_take_effect(results):
    by = results.set_index(["rng", "ubi_level"])
    for seed in (1, 2):
        assert by.loc[(seed, 200), "free_hours_unemployed"] > by.loc[(seed, 0), "free_hours_unemployed"]
    # different seeds give different places
    assert not by.loc[(1, 0)].equals(by.loc[(2, 0)])


def test_batch_run_every_step():
    rows = mesa.batch_run(CommonsModel, parameters={"population": 2000, "end": "2010-06"}, rng=[3],
                          max_steps=6, number_processes=1, data_collection_period=1, display_progress=False)
    frame = pd.DataFrame(rows)
    assert frame["date"].tolist() == [f"2010-0{m}" for m in range(1, 7)]


def test_batch_run_rejects_a_bad_parameter():
    from commonsabm.params.schema import ConfigError

    with pytest.raises(ConfigError, match="ubi_levle"):
        mesa.batch_run(CommonsModel, parameters={"population": 2000, "end": "2010-06", "ubi_levle": 3},
                       rng=[1], max_steps=6, number_processes=1, display_progress=False)


def test_batch_run_rejects_nan_before_running():
    """mesa.batch_run builds each model from its keywords, so the same checks reject NaN."""
    from commonsabm.params.schema import ConfigError

    with pytest.raises(ConfigError, match=r"sanctions\.monthly_rate=nan is not a finite number"):
        mesa.batch_run(CommonsModel, parameters={"population": 2000, "end": "2010-06",
                                                 "sanctions_monthly_rate": [float("nan")]},
                       rng=[1], max_steps=6, number_processes=1, display_progress=False)
