"""The debate sweep's verdict (issue 5): effect and interval arithmetic, the claims table, and a reduced sweep end to end."""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import SRC  # noqa: F401 - puts src/ on the path

from commonsabm.analysis.verdict import (
    CLAIMS,
    FACTORS,
    INTERACTION_FIGURE,
    MAIN_FIGURE,
    VERDICT_FILE,
    Estimate,
    compute,
    effect,
    interaction,
    markdown,
)

LEVELS = {
    "ubi": ("none", "modest", "full"),
    "austerity": ("continued", "reversed"),
    "procurement": ("prime_biased", "reformed"),
    "sanctions": ("punitive", "ended"),
    "investment_fund": ("none", "present"),
    "place": ("deprived_northern", "affluent_southern"),
}
REPLICATES = 30
UBI_FULL, UBI_MODEST, REVERSED, FUND = 40.0, 15.0, 25.0, 10.0
UBI_X_REVERSED = 20.0  # the full UBI does 20 more under reversed austerity


def synthetic(fund_by_place: bool = False) -> pd.DataFrame:
    """A full factorial whose true effects are known: orgs = 300 + effects + seed noise + cell noise."""
    rng = np.random.default_rng(7)
    seed_noise = rng.normal(0, 30, REPLICATES)  # shared by every cell of a replicate (CRN)
    rows = []
    for job, cell in enumerate(itertools.product(*LEVELS.values())):
        levels = dict(zip(LEVELS, cell))
        for k in range(REPLICATES):
            ubi = {"none": 0.0, "modest": UBI_MODEST, "full": UBI_FULL}[levels["ubi"]]
            reversed_ = levels["austerity"] == "reversed"
            fund = FUND if levels["investment_fund"] == "present" else 0.0
            if fund_by_place and levels["place"] == "affluent_southern":
                fund = -fund  # the fund backfires in the affluent place
            orgs = (300 + ubi + REVERSED * reversed_ + fund
                    + (UBI_X_REVERSED if reversed_ and levels["ubi"] == "full" else 0.0)
                    + seed_noise[k] + rng.normal(0, 2))
            rows.append({"job": str(job), "replicate": k, "seed": 0, "state": "completed", "error": None,
                         **levels, "orgs_total_final": orgs, "orgs_total_start": 300.0,
                         "volunteering_rate_final": 0.2 + rng.normal(0, 0.01)})
    frame = pd.DataFrame(rows)
    # a failed job: in the summary, never in the estimates
    frame.loc[len(frame)] = {"job": "999", "replicate": 0, "seed": 0, "state": "failed", "error": "boom",
                             **{f: LEVELS[f][0] for f in LEVELS}}
    return frame


def test_main_effect_and_interval_recover_the_true_effect():
    df = synthetic()
    df = df[df.state == "completed"]
    # averaged over austerity: UBI full adds 40 plus half the interaction
    full = effect(df, "ubi", "full", "none", "orgs_total_final")
    assert full.n == REPLICATES
    assert full.mean == pytest.approx(UBI_FULL + UBI_X_REVERSED / 2, abs=1.5)
    assert full.low < UBI_FULL + UBI_X_REVERSED / 2 < full.high
    # the shared seed noise (SD 30) cancels in CRN pairs: the interval is narrow
    assert full.high - full.low < 3
    within = effect(df, "ubi", "full", "none", "orgs_total_final", {"austerity": "continued"})
    assert within.mean == pytest.approx(UBI_FULL, abs=1.5)
    assert effect(df, "austerity", "reversed", "continued", "orgs_total_final").mean == pytest.approx(
        REVERSED + UBI_X_REVERSED / 3, abs=1.5)  # the interaction in one of three UBI levels
    null = effect(df, "sanctions", "ended", "punitive", "orgs_total_final")
    assert null.low < 0 < null.high


def test_interaction_is_the_difference_of_differences():
    df = synthetic()
    est = interaction(df[df.state == "completed"], "ubi", "full", "none", "austerity", "reversed", "continued",
                      "orgs_total_final")
    assert est.mean == pytest.approx(UBI_X_REVERSED, abs=1.5)
    assert est.low < UBI_X_REVERSED < est.high
    none = interaction(df[df.state == "completed"], "ubi", "modest", "none", "austerity", "reversed",
                       "continued", "orgs_total_final")
    assert none.low < 0 < none.high


def test_estimate_is_mean_plus_minus_196_sd_over_root_n():
    est = Estimate.of(pd.Series([1.0, 2.0, 3.0, 4.0]))
    half = 1.96 * np.std([1, 2, 3, 4], ddof=1) / 2
    assert (est.mean, est.low, est.high, est.n) == pytest.approx((2.5, 2.5 - half, 2.5 + half, 4))
    assert est.status(+1) == "supported" and est.status(-1) == "not supported"
    assert math.isnan(Estimate.of(pd.Series([1.0])).low)


def test_claims_are_judged_in_the_claimed_direction():
    verdict = compute(synthetic())
    status = {r.claim.key: r.status for r in verdict.claims}
    assert set(status) == {c.key for c in CLAIMS} == {"P1", "P2", "P3", "D1", "D2", "D3", "D4", "S1"}
    assert status["P2"] == "supported"  # fund +10 under continued austerity
    assert status["D1"] == "supported"  # continued - reversed < 0
    # UBI does MORE under reversed austerity, i.e. less under austerity: D4's first contrast
    assert status["D4"] == "supported"
    assert verdict.failed == 1 and verdict.replicates == REPLICATES


def test_a_sign_that_differs_across_places_is_depends_and_names_place():
    verdict = compute(synthetic(fund_by_place=True))
    p2 = next(r for r in verdict.claims if r.claim.key == "P2")
    assert p2.status == "depends"
    assert p2.depends_on.startswith("place")


def test_markdown_has_every_claim_with_an_interval():
    text = markdown(compute(synthetic()), SRC)
    for key in ("P1", "P2", "P3", "D1", "D2", "D3", "D4", "S1"):
        assert re.search(rf"^\| {key} \|", text, re.M)
    assert "## Main effects" in text and "## Interactions" in text


# ---------------------------------------------------------------- a reduced debate sweep through the CLI
def test_reduced_debate_sweep_writes_a_verdict(tmp_path):
    from test_sweep import cli

    sweep = tmp_path / "debate"
    result = cli(["+experiment=debate", "run.population=1000", "run.end=2020-12", "run.replications=2",
                  "ubi=none,full", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    text = (sweep / VERDICT_FILE).read_text()
    assert (sweep / MAIN_FIGURE).stat().st_size > 0 and (sweep / INTERACTION_FIGURE).stat().st_size > 0
    interval = r"[+-][\d.e+-]+ \[[+-][\d.e+-]+, [+-][\d.e+-]+\]"
    for key in ("P1", "P2", "P3", "D1", "D2", "D3", "D4", "S1"):
        row = re.search(rf"^\| {key} \|.*$", text, re.M)
        assert row, key
        assert re.search(interval, row.group(0)), row.group(0)
        assert re.search(r"\*\*(supported|not supported|depends|cannot answer)\*\*", row.group(0)), row.group(0)
    # the runs end in 2020, so P1 ("by 2030") cannot be answered, and says why; the others can
    assert re.search(r"^\| P1 \|.*\*\*cannot answer\*\*", text, re.M)
    assert re.search(r"^- \*\*P1\*\*: horizon: the sweep ends in 2020-12; the claim is about 2030$", text, re.M)
    assert len(re.findall(r"\*\*cannot answer\*\* \|", text)) == 1
    assert set(FACTORS) <= set(pd.read_parquet(sweep / "sweep_summary.parquet").columns)


# ------------------------------------------------------------------ combining parts; findings from data
def test_a_claim_combines_its_parts_as_it_says():
    from commonsabm.analysis.claims import combined

    assert combined(["supported", "not supported"], "any") == "supported"
    assert combined(["supported", "not supported"], "all") == "not supported"
    assert combined(["supported", "supported"], "all") == "supported"
    assert combined(["not estimable", "not estimable"], "any") == "not estimable"


def test_no_claim_is_special_cased_by_its_key():
    import inspect

    from commonsabm.analysis import claims

    source = inspect.getsource(claims.judge) + inspect.getsource(claims.combined)
    assert "claim.key ==" not in source
    assert {c.combine for c in claims.CLAIMS} <= {"all", "any"}


def _findings_dir(path, mu_star: float, noise_sd: float):
    import pandas as pd

    path.mkdir()
    pd.DataFrame({"output": ["orgs_total", "orgs_total", "volunteering_rate", "volunteering_rate"],
                  "parameter": ["behaviour.a", "behaviour.b", "behaviour.a", "behaviour.b"],
                  "mu_star": [mu_star, 0.0, 0.01, 0.0]}).to_csv(path / "sensitivity_morris.csv", index=False)
    (path / "manifest.json").write_text(json.dumps({
        "sensitivity": {"population": 1000, "end": "2012-12", "morris_trajectories": 2},
        "seed_noise": [{"output": "orgs_total", "sd": noise_sd}, {"output": "volunteering_rate", "sd": 0.001}],
        "finished": "2026-12-02T00:00:00", "git_commit": "abc"}))
    return path


def test_the_verdict_cites_the_findings_it_is_given(tmp_path):
    from commonsabm.analysis.findings import NOT_SCREENED, Findings

    strong = Findings.read(_findings_dir(tmp_path / "strong", mu_star=5.0, noise_sd=1.0))
    weak = Findings.read(_findings_dir(tmp_path / "weak", mu_star=0.5, noise_sd=1.0))
    assert "behaviour.a" in strong.about("orgs_total_final")
    assert "beyond seed noise" in weak.about("orgs_total_final")
    assert strong.about("orgs_total_final") != weak.about("orgs_total_final")
    assert NOT_SCREENED in strong.about("unmet_need_final")
    assert strong.inert_notes() and "behaviour.b" in strong.inert_notes()[0]
    assert str(tmp_path / "strong") in strong.source


def test_the_packaged_findings_are_read():
    from commonsabm.analysis.findings import Findings

    findings = Findings.read()
    assert findings.by_output and "packaged" in findings.source


# ---------------------------------------------------------------- a verdict that says when it cannot answer
def status_and_missing(verdict) -> dict[str, tuple[str, list[str]]]:
    return {r.claim.key: (r.status, r.missing) for r in verdict.claims}


def test_a_claim_about_2030_on_a_sweep_that_ends_earlier_cannot_be_answered():
    short = status_and_missing(compute(synthetic(), end="2013-12"))
    assert short["P1"] == ("cannot answer", ["horizon: the sweep ends in 2013-12; the claim is about 2030"])
    # claims that name no year are judged as before
    assert short["P2"] == ("supported", []) and short["D1"] == ("supported", [])
    assert status_and_missing(compute(synthetic(), end="2030-12"))["P1"][1] == []
    # a sweep whose end is not known cannot speak to a year either, and says so
    assert "horizon: the sweep's last month is not known" in status_and_missing(compute(synthetic()))["P1"][1][0]
    text = markdown(compute(synthetic(), end="2013-12"), SRC)
    block = text.split("## Cannot answer", 1)[1].split("## Claims", 1)[0]
    assert re.findall(r"^- \*\*(\w+)\*\*", block, re.M) == ["P1"]
    assert re.search(r"^\| P1 \|.*\*\*cannot answer\*\*", text, re.M)


def test_a_sweep_without_a_lever_names_the_lever_each_claim_lacks():
    unswept = status_and_missing(compute(synthetic().drop(columns="investment_fund"), end="2030-12"))
    for key in ("P2", "S1"):  # the fund contrast, and the package that includes the fund
        status, lacks = unswept[key]
        assert status == "cannot answer", key
        expected = "lever: investment_fund was not swept (every job ran none); the claim needs present and none"
        assert expected in lacks, lacks
    assert unswept["D1"] == ("supported", [])  # austerity's contrast needs no fund
    one_level = synthetic()
    one_level = one_level[one_level["investment_fund"] == "none"]
    status, lacks = status_and_missing(compute(one_level, end="2030-12"))["P2"]
    assert status == "cannot answer" and lacks[0].startswith("lever: investment_fund has no present jobs")
    # D4 holds if either interaction does: without procurement, the austerity one answers it
    assert status_and_missing(compute(synthetic().drop(columns="procurement"), end="2030-12"))["D4"] == (
        "supported", [])


def test_a_sweep_with_one_replicate_says_an_interval_needs_two():
    single = synthetic()
    single = single[single["replicate"].isna() | (single["replicate"] == 0)]
    for key, (status, lacks) in status_and_missing(compute(single, end="2030-12")).items():
        assert status == "cannot answer", key
        assert lacks[-1] == "replicates: 1 per cell; a 95% interval needs at least 2", key


def test_the_sweeps_end_is_the_earliest_last_month_of_any_replicate():
    from commonsabm.analysis.verdict import sweep_end

    monthly = pd.DataFrame({"job": ["0", "0", "1", "1"], "replicate": [0, 0, 0, 0],
                            "date": ["2013-11", "2013-12", "2012-11", "2012-12"]})
    assert sweep_end(monthly) == "2012-12"
    assert sweep_end(monthly.iloc[0:0]) is None


def test_a_short_sweep_without_levers_warns_in_the_verdict_and_on_stderr(tmp_path):
    """A real sweep that ends in 2013 and sweeps UBI alone: the report and the command say what it lacks."""
    import subprocess
    import sys

    from conftest import user_env
    from test_sweep import cli

    sweep = tmp_path / "short"
    result = cli(["+experiment=debate", "run.population=1000", "run.end=2013-12", "run.replications=2",
                  "ubi=none,full", "ubi.start=2011-01", "austerity=continued", "procurement=prime_biased",
                  "sanctions=punitive", "investment_fund=none", "place=deprived_northern",
                  f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    command = subprocess.run([sys.executable, "-m", "commonsabm.analysis.verdict", str(sweep)], cwd=tmp_path,
                             env=user_env(), capture_output=True, text=True, timeout=300)
    assert command.returncode == 0, command.stderr
    warnings = [line for line in command.stderr.splitlines() if "warning:" in line]
    text = (sweep / VERDICT_FILE).read_text()
    block = text.split("## Cannot answer", 1)[1].split("## Claims", 1)[0]
    # the same claims, with the same reasons, in the report and on stderr
    assert [re.search(r"warning: (\w+) cannot", w).group(1) for w in warnings] == \
        re.findall(r"^- \*\*(\w+)\*\*", block, re.M)
    p1 = next(w for w in warnings if "P1 cannot" in w)
    assert "horizon: the sweep ends in 2013-12; the claim is about 2030" in p1
    assert "replicates" not in command.stderr  # two replicates give an interval
    p2 = next(w for w in warnings if "P2 cannot" in w)
    assert "lever: investment_fund has no present jobs (the sweep ran none)" in p2
    d1 = next(w for w in warnings if "D1 cannot" in w)
    assert "lever: austerity has no reversed jobs" in d1 and "horizon" not in d1
