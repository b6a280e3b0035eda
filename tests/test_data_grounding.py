"""Defaults that cite a published figure equal that figure, read from the project's copy."""

from importlib.resources import files

import pandas as pd
import pytest

from commonsabm.params.checks import apply_preset
from commonsabm.params.months import month_index
from commonsabm.params.schema import ModelConfig


@pytest.fixture(scope="module")
def figures() -> pd.DataFrame:
    return pd.read_csv(files("commonsabm") / "data" / "uk_figures.csv")


def figure(figures: pd.DataFrame, series: str, period: str | None = None) -> str:
    rows = figures[figures["series"] == series]
    if period is not None:
        rows = rows[rows["period"] == period]
    assert len(rows) == 1, f"expected one row for {series} {period}"
    assert rows["source"].iloc[0], f"{series} has no source"
    return rows["value"].iloc[0]


def test_every_figure_has_a_source(figures):
    assert figures["source"].notna().all()
    assert (figures["source"].str.len() > 5).all()


def test_sanctions_regime_matches_dwp_figures(figures):
    punitive = ModelConfig()
    apply_preset(punitive, "sanctions", "punitive")
    assert punitive.sanctions.monthly_rate == pytest.approx(float(figure(figures, "jsa_sanction_rate")) / 100)
    strict = ModelConfig()
    apply_preset(strict, "conditionality", "strict")
    assert strict.conditionality.commitment_hours == float(figure(figures, "claimant_commitment_hours"))
    weeks = float(figure(figures, "sanction_typical_length"))
    assert punitive.sanctions.duration_months == round(weeks * 12 / 52)


def test_universal_credit_reach_follows_its_rollout(figures):
    rules = ModelConfig().sanctions
    start = figures.loc[figures["series"] == "uc_in_work_conditionality", "period"].iloc[0]
    assert rules.in_work_start == start
    done = figure(figures, "uc_full_service_complete")
    assert month_index(rules.in_work_start) + rules.in_work_rollout_months == month_index(done)


def test_austerity_path_matches_nao_grant_cut(figures):
    continued = ModelConfig()
    apply_preset(continued, "austerity", "continued")
    cut = float(figure(figures, "council_central_grant_change")) / 100
    path = dict(zip(continued.austerity.years, continued.austerity.grant_index))
    assert path[2018.0] == pytest.approx(1 + cut)


def test_council_and_multiplier_figures(figures):
    cfg = ModelConfig()
    assert cfg.council.care_share_2010 == pytest.approx(
        float(figure(figures, "council_social_care_share", "2010/11")) / 100)
    assert cfg.commons.local_share == pytest.approx(float(figure(figures, "lm3_local_supplier_respend")) / 100)
    assert cfg.primes.local_share == pytest.approx(float(figure(figures, "lm3_nonlocal_supplier_respend")) / 100)


def test_coop_density_matches_coops_uk_count(figures):
    uk_population_2011 = 63.3e6
    per_100k = float(figure(figures, "coops_count", "2011")) / uk_population_2011 * 1e5
    assert ModelConfig().place.coops_per_100k == pytest.approx(per_100k, abs=0.05)


def test_ubi_hours_response_inside_mincome_range(figures):
    low, high = sorted(abs(float(v)) for v in figure(figures, "ubi_mincome_hours").split(" to "))
    assert low / 100 <= ModelConfig().behaviour.ubi_hours_response <= high / 100
