"""The liveness table (issue 15): is every mechanism of docs/ODD.md §7 live?

Each entry of ``CONTRASTS`` is one mechanism: a one-lever contrast between arm A (the
baseline, plus any ``setting`` both arms share) and arm B (arm A with ``lever`` changed),
the outcome it should move (a column of the monthly series, or the sum of several, as a
mean over the run's final months) and the direction it should move it in. Both arms run
replicates 0..n-1 seeded by the same child seeds (``runs.outputs.replicate_seeds``:
common random numbers), so the effect is the mean of the n paired differences B - A with
the 95% interval of ``analysis.estimates.Estimate``. *Live*: that interval excludes 0 as expected.

Adding or changing a mechanism's contrast is one entry in ``CONTRASTS``. Overrides are
written as on the command line: ``{"austerity": "none"}`` picks a preset,
``{"behaviour.peer_effect": 0.0}`` sets one value.

    python -m commonsabm.analysis.liveness --seeds 10 --population 10000 --end 2020-12 \\
        --out outputs/liveness --write-docs docs/validation.md

writes liveness.csv and liveness.md into --out and, with --write-docs, replaces the
section between ``BEGIN`` and ``END`` in that file (or appends it).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from commonsabm.analysis.estimates import Estimate
from commonsabm.analysis.liveness_report import (BEGIN, END, lever_text, markdown, note,  # noqa: F401
                                                 replace_section, section)
from commonsabm.params.checks import Settings, from_keywords
from commonsabm.params.months import month_index
from commonsabm.params.schema import ConfigError
from commonsabm.sim.reporters import REPORTERS

FINAL_MONTHS = 36  # the outcome is a mean over the run's last three years: one year is mostly seed noise
TEST_SEED = 42  # the test suite's run seed (replicate k uses its k-th child, as the command does)
EARLY = "2011-01"  # levers that start later in the presets start here, so that a short run sees them bite


@dataclass(frozen=True)
class Size:
    """The size at which the test suite checks an entry's direction."""
    population: int = 3000
    end: str = "2014-12"
    seeds: int = 3

    @property
    def months(self) -> int:
        return month_index(self.end) - month_index("2010-01") + 1


@dataclass(frozen=True)
class Contrast:
    mechanism: str
    section: str  # docs/ODD.md section
    claims: tuple[str, ...]  # the debate claims (analysis.claims keys) that rest on it; () for none
    lever: Mapping[str, Any]  # arm B's overrides over arm A
    metric: str | tuple[str, ...]  # a column of the monthly series, or columns summed
    sign: int  # expected direction of B - A: +1 or -1
    setting: Mapping[str, Any] = field(default_factory=dict)  # overrides both arms share
    note: str = ""  # what the contrast's setting or metric is, and why (shown on every row)
    if_inert: str = ""  # why an interval that includes 0 is the finding (shown only when it does)
    test: Size = Size()
    not_live: str = ""  # why the lever does not (yet) move its metric as expected; the tests check it still does not

    def arms(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return dict(self.setting), {**self.setting, **self.lever}

    def columns(self) -> tuple[str, ...]:
        return (self.metric,) if isinstance(self.metric, str) else tuple(self.metric)


UBI = {"ubi": "full", "ubi.start": EARLY}
FUND = {"investment_fund": "present", "investment_fund.start": EARLY}
TRADING = ("orgs_coop", "orgs_community_business")
BIRTHS = ("births_vcs", "births_coop", "births_community_business")
LARGER = Size(10_000, "2020-12", 3)  # for levers whose sign is lost in the noise of 3,000 residents to 2014
NOISE = ("its interval includes 0 at 10,000 residents to 2020 over 10 seeds (this table), and its effect "
         "at 3,000 residents to 2014 is 0 or of the other sign")
BUNDLED = ("under the prime-biased rules the commons hold about 1% of contract value, and this rule relaxed "
           "alone moves it less than seed noise (splitting lots moves it most); " + NOISE)
# a denser trading sector, so that a place of 10,000 has traders enough for the market to show
MARKET = {"place.community_businesses_per_100k": 50.0, "place.coops_per_100k": 50.0}
MARKET_NOTE = "both arms with 50 co-ops and 50 community businesses per 100,000 (a place of 10,000 has one of each)"
ABSORB_NOTE = ("under a full UBI from 2011, where free time grows: in the baseline organisations are seldom "
               "offered more hours than they can use, so the bound binds when time is freed")
FOUNDING = ("founding of each kind is a few births a year per 100,000, so at 10,000 residents over 10 seeds "
            "the interval includes 0; its sign holds in the test suite's runs (10,000 residents to 2020)")
SIGN_ONLY = ("its sign holds in the test suite's runs, but at 10,000 residents to 2020 over 10 seeds its "
             "interval may include 0: an effect smaller than this table's seed noise")
REFORMED_WEIGHTS = {"procurement.weight_price": 0.45, "procurement.weight_quality": 0.3,
                    "procurement.weight_social_value": 0.25}

CONTRASTS: tuple[Contrast, ...] = (
    # -- the national setting, the council's budget and its spending (§7.1, §7.10-7.12)
    Contrast("austerity cuts: fewer organisations", "7.1, 7.11", ("D1", "D4"), {"austerity": "none"},
             "orgs_total", +1),
    Contrast("cuts drive community organisations to the wall", "7.11, 7.9", ("D1", "P3"), {"austerity": "none"},
             "orgs_vcs", +1),
    Contrast("grants are cut first", "7.11", ("D1",), {"council.grant_cut_elasticity": 1.0},
             "council_spend_grants", +1),
    Contrast("care is protected", "7.11", (), {"council.care_budget_elasticity": 1.0}, "care_share", -1),
    Contrast("care need grows", "7.11", (), {"place.care_need_growth": 0.03}, "care_share", +1),
    Contrast("commissioning staff are cut first", "7.11", ("D2",), {"council.commissioning_cut_elasticity": 0.5},
             "commissioning_capacity", +1),
    Contrast("awareness rises with commissioning capacity", "7.11, 7.13", ("D2", "P2"),
             {"commissioning.capacity_protection": 1.0}, "commons_contract_share", +1, not_live=BUNDLED),
    Contrast("start-up pot of the grant budget", "7.12, 7.7", ("P3", "D1"), {"council.startup_pot_share": 0.0},
             "births_vcs", -1, test=LARGER),
    Contrast("commissioning that scales what works", "7.12", ("P2",),
             {"commissioning": "scale_what_works", "commissioning.start": EARLY}, "commons_contract_share", +1),
    Contrast("council tax rise cap", "7.10", (), {"council.council_tax_rise_cap": 0.02},
             "council_revenue_council_tax", +1),
    Contrast("devolution: a local treasury", "7.10", (), {"devolution": "local_treasury"},
             "council_spend_grants", +1),
    # -- procurement, primes and subcontracting (§7.12-7.14)
    Contrast("procurement reform: commons' share of delivery", "7.13", ("D2", "D4"), {"procurement": "reformed"},
             "commons_share_total", +1),
    Contrast("procurement reform: money stays local (LM3)", "7.13, 7.17", ("D2",), {"procurement": "reformed"},
             "local_multiplier", +1),
    Contrast("tender scoring weights: social value", "7.13", ("D2",), REFORMED_WEIGHTS,
             "commons_contract_share", +1, test=LARGER,
             if_inert="bundled lots keep most commons bids out whatever the weights (the bundled-lots row); "
             + SIGN_ONLY),
    Contrast("bundled lots", "7.13", ("D2",), {"procurement.bundling": 1}, "commons_contract_share", +1),
    Contrast("risk transfer (reserves)", "7.13", ("D2",), {"procurement.risk_transfer": 0.0},
             "commons_contract_share", +1, not_live=BUNDLED),
    Contrast("track-record requirement", "7.13", ("D2",), {"procurement.track_record_months": 0},
             "commons_contract_share", +1, not_live=BUNDLED),
    Contrast("local consortia", "7.13", ("D2",), {"procurement.consortia_allowed": True},
             "commons_contract_share", +1, not_live=BUNDLED),
    Contrast("local knowledge in bid quality", "7.13", ("D2",), {"commons.local_knowledge": 0.0},
             "commons_contract_share", -1, not_live=BUNDLED),
    Contrast("primes' scale economies", "7.13, 7.14", ("D2",), {"primes.scale_economies": 0.0},
             "commons_contract_share", +1, not_live=BUNDLED),
    Contrast("commons contracts fail", "7.13", (), {"commons.contract_failure": 0.03},
             "contract_failures_commons", +1, setting={"procurement": "reformed"}, test=LARGER,
             note="under reformed rules, where the commons hold contracts to fail", not_live=NOISE),
    Contrast("primes underbid and fail", "7.14", (), {"primes.underbid": 0.15}, "contract_failures_primes", +1,
             if_inert=SIGN_ONLY),
    Contrast("council payment days", "7.12, 7.9", ("D2",), {"procurement.payment_days": 90.0}, "deaths_cash", +1,
             not_live=NOISE),
    Contrast("subcontracting payment days", "7.14", ("D2",), {"procurement.subcontract_payment_days": 30.0},
             "commons_share_subcontracts", +1, if_inert=SIGN_ONLY),
    Contrast("subcontract rate (squeeze)", "7.14", ("D2",), {"procurement.subcontract_rate": 1.0},
             "commons_share_subcontracts", +1),
    Contrast("primes' spending leaves the place", "7.14, 7.17", ("D2",), {"primes.local_share": 0.7},
             "leakage", -1, test=LARGER),
    Contrast("commons spend locally (LM3)", "7.9, 7.17", ("D2",), {"commons.local_share": 0.4},
             "local_multiplier", -1, setting={"procurement": "reformed"},
             note="under reformed rules: under the prime-biased ones the commons hold about 1% of contract "
             "value, so where they spend it barely moves the multiplier"),
    # -- people: work, income, time, bandwidth (§7.3-7.6)
    Contrast("automation destroys jobs", "7.1, 7.3", (), {"automation.job_loss_per_year": 0.03},
             "employment_rate", -1),
    Contrast("UBI: participation", "7.4, 7.5", ("P1", "D4"), UBI, "volunteering_rate", +1, test=LARGER),
    Contrast("UBI: organisations", "7.4, 7.7", ("P1", "D4"), UBI, "orgs_total", +1, test=LARGER),
    Contrast("unconditional UBI replaces conditionality", "7.4, 7.5", ("P1",), {"ubi.unconditional": False},
             "free_hours_unemployed", -1, setting=UBI),
    Contrast("UBI cuts paid hours", "7.3", ("P1",), {"behaviour.ubi_hours_response": 0.1},
             "free_hours_full_time", +1, setting=UBI),
    Contrast("UBI helps claimants find work", "7.3", (), {"behaviour.ubi_job_finding": 1.0}, "employment_rate", +1,
             setting=UBI),
    Contrast("UBI funded by a local income tax", "7.4", ("P1", "D4"), {"ubi.funding": "local_tax"},
             "orgs_total", -1, setting={**UBI, "ubi.funding": "outside"}),
    Contrast("UBI funded by a national income tax", "7.4", ("P1", "D4"), {"ubi.funding": "national_tax"},
             "volunteering_rate", -1, setting={**UBI, "ubi.funding": "outside"}, test=LARGER),
    Contrast("sanctions (the penalty)", "7.4, 7.5", ("D3",), {"sanctions": "ended"}, "claimant_commoning_hours", +1,
             if_inert="ODD §7.4: only about 2.7% of claimants are under a sanction at any time", test=LARGER),
    Contrast("sanctions take time (process hours)", "7.4, 7.5", ("D3",), {"sanctions": "ended"},
             "free_hours_unemployed", +1),
    Contrast("sanctions hazard", "7.4", ("D3",), {"sanctions.monthly_rate": 0.25}, "claimant_commoning_hours", -1),
    Contrast("in-work conditionality (Universal Credit)", "7.4, 7.5", ("D3",), {"sanctions.in_work_reach": 0.0},
             "free_hours_part_time", +1),
    Contrast("conditionality hours", "7.5", ("D3",), {"conditionality": "supportive"},
             "claimant_commoning_hours", +1),
    Contrast("stress takes bandwidth", "7.5", ("D3",), {"behaviour.stress_bandwidth": 0.0}, "volunteering_rate", +1,
             if_inert=SIGN_ONLY),
    Contrast("peer effect", "7.6", (), {"behaviour.peer_effect": 0.0}, "volunteering_rate", -1),
    Contrast("free time becomes volunteering", "7.6", ("P1",), {"behaviour.free_time_response": 2.0},
             "volunteering_rate", -1),
    Contrast("reach of the neighbourhood", "7.2, 7.6", (), {"network.reach": 0}, "volunteering_rate", -1),
    # -- organisations: founding, finance, trade, closure (§7.7-7.9, §7.15)
    Contrast("founding by trial and error", "7.7", ("P3",), {"behaviour.founding_rate": 0.001}, "orgs_total", +1),
    Contrast("demonstration effect", "7.7", ("P1", "P2"), {"behaviour.demonstration_effect": 0.0},
             BIRTHS, -1, test=LARGER, note="the mechanism raises founding odds, so its metric is births, "
             "not the stock they feed", if_inert=FOUNDING),
    Contrast("social investment fund", "7.15", ("P2",), FUND, "orgs_total", +1, test=LARGER),
    Contrast("fund pass rate", "7.15", ("P2",), {"investment_fund.pass_rate": 0.9}, "fund_loans", +1,
             setting=FUND, test=LARGER, if_inert=SIGN_ONLY),
    Contrast("trading commons win custom from chains and local firms", "7.8", ("P3",),
             {"commons.outside_offer": 2.0}, "commons_spend_share", +1, setting=MARKET,
             note=MARKET_NOTE, if_inert="its sign holds at 3,000 residents to 2014, but at 10,000 to 2020 over "
             "10 seeds its interval includes 0"),
    Contrast("custom follows price", "7.8", ("P3",), {"commons.trading_markup": 0.3}, "commons_spend_share", -1,
             setting=MARKET, note=MARKET_NOTE, if_inert=SIGN_ONLY),
    Contrast("new traders build their custom", "7.8", ("P3",), {"commons.custom_build_months": 0},
             "commons_spend_share", +1, setting=MARKET, test=LARGER,
             note=MARKET_NOTE + "; a new trader's pull on custom is what the rule builds up, so the metric is "
             "the commons' share of residents' spending", if_inert=SIGN_ONLY),
    Contrast("a trading kind's start-up capital", "7.7", ("P3",), {"commons.coop.startup_capital": 30_000.0},
             "births_coop", -1, test=LARGER, if_inert=FOUNDING),
    Contrast("founders weigh each kind's prospects", "7.7", ("P3", "D1"), {"behaviour.prospects_response": 0.0},
             "births_vcs", +1, test=LARGER, if_inert=FOUNDING),
    Contrast("organisations absorb only the hours they can organise", "7.6", ("P1",),
             {"commons.hours_per_place": 100.0}, "volunteer_hours", +1, setting=UBI,
             note=ABSORB_NOTE, if_inert=SIGN_ONLY),
    Contrast("paid staff organise volunteers", "7.6", ("P1", "D1"), {"commons.organiser_hours": 0.0},
             "volunteer_hours", -1, setting=UBI, note=ABSORB_NOTE, not_live=NOISE),
    Contrast("donations respond to grant cuts", "7.8", ("P3",), {"behaviour.fundraising_response": 0.0},
             "vcs_individual_income", -1),
    Contrast("giving is bounded", "7.8", ("P3",), {"behaviour.fundraising_ceiling": 0.05},
             "vcs_individual_income", -1),
    Contrast("co-op dividends", "7.4", (), {"commons.coop_dividend": 0.0}, "orgs_coop", +1,
             if_inert="a place of 10,000 has about one co-op: the count barely moves", not_live=NOISE),
    Contrast("burnout closes organisations", "7.9", (), {"behaviour.burnout_hours": 10.0}, "deaths_burnout", +1,
             test=LARGER, if_inert=SIGN_ONLY),
    Contrast("burnout wears volunteers out", "7.6, 7.9", (), {"behaviour.burnout_hours": 10.0},
             "volunteering_rate", -1),
    Contrast("cash-flow crises close organisations", "7.9", ("D2",), {"commons.vcs.cash_months_bearable": 36},
             "deaths_cash", -1, test=LARGER, if_inert=SIGN_ONLY),
    # -- places (§6.3)
    Contrast("place: a deprived northern place", "6.3", ("S1",), {"place": "deprived_northern"},
             "volunteering_rate", -1),
)


# ---------------------------------------------------------------- running the arms
def _frozen(overrides: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()))


def settings(overrides: Mapping[str, Any], population: int, end: str) -> Settings:
    """An arm's checked settings: the command line's composition with ``overrides`` (dotted keys) set."""
    keywords = {key.replace(".", "_"): value for key, value in overrides.items()}
    return from_keywords(**keywords, run_population=population, run_end=end)


def outcome(arm: Settings, seed: Any, months: int) -> pd.Series:
    """Every monthly metric of one run, as a mean over its last ``months`` months."""
    from commonsabm.sim.model import CommonsModel

    model = CommonsModel(config=arm, rng=seed)
    model.run()
    tail = model.datacollector.get_model_vars_dataframe().iloc[-months:]
    return tail.mean(numeric_only=True)


def run_arms(arms: Mapping[tuple, Settings], seeds: int, seed: int, months: int, n_jobs: int,
             progress: bool = True) -> dict[tuple[tuple, int], pd.Series]:
    """Each arm over replicates 0..seeds-1 (replicate k seeded alike in every arm), in parallel."""
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from commonsabm.runs.outputs import replicate_seeds

    children = replicate_seeds(seed, seeds)
    jobs = [(key, k) for key in arms for k in range(seeds)]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(outcome)(arms[key], children[k], months) for key, k in jobs)
    rows = tqdm(results, total=len(jobs), desc="liveness", unit="run", disable=not progress, leave=False,
                file=sys.stderr)
    return dict(zip(jobs, rows))


def differences(contrast: Contrast, runs: Mapping[tuple[tuple, int], pd.Series], seeds: int) -> pd.Series:
    """B - A on the contrast's metric, one paired difference per replicate."""
    a, b = (_frozen(arm) for arm in contrast.arms())
    columns = list(contrast.columns())
    return pd.Series([float(runs[(b, k)][columns].sum() - runs[(a, k)][columns].sum()) for k in range(seeds)],
                     index=pd.RangeIndex(seeds, name="replicate"))


def verdict(estimate: Estimate, sign: int) -> str:
    """'live' if the interval excludes 0 in the expected direction, 'reversed' if in the other, else 'inert'."""
    if estimate.status(sign) == "supported":
        return "live"
    if estimate.status(-sign) == "supported":
        return "reversed"
    return "not estimable" if math.isnan(estimate.low) else "inert"


def check_contrasts(contrasts: Iterable[Contrast], population: int, end: str) -> dict[tuple, Settings]:
    """Every arm's settings, checked before anything runs (a bad entry stops with one line naming it)."""
    arms: dict[tuple, Settings] = {}
    for c in contrasts:
        if c.sign not in (1, -1):
            raise ConfigError(f"liveness entry '{c.mechanism}': sign={c.sign}; allowed: +1 or -1")
        unknown = [column for column in c.columns() if column not in REPORTERS]
        if unknown:
            raise ConfigError(f"liveness entry '{c.mechanism}': metric {unknown[0]!r} is not a column of the "
                              "monthly series; allowed: a name in docs/ODD.md §10.1")
        for arm in c.arms():
            try:
                arms.setdefault(_frozen(arm), settings(arm, population, end))
            except ConfigError as exc:
                raise ConfigError(f"liveness entry '{c.mechanism}': {exc}") from None
    return arms


def table(contrasts: Iterable[Contrast] = CONTRASTS, seeds: int = 10, population: int = 10_000,
          end: str = "2020-12", seed: int = 42, months: int = FINAL_MONTHS, n_jobs: int = 2,
          progress: bool = True) -> pd.DataFrame:
    """Run every contrast and return one row per mechanism: effect, 95% interval and whether it is live."""
    contrasts = tuple(contrasts)
    arms = check_contrasts(contrasts, population, end)
    runs = run_arms(arms, seeds, seed, months, n_jobs, progress)
    rows = []
    for c in contrasts:
        est = Estimate.of(differences(c, runs, seeds))
        baseline = sum(sum(float(runs[(_frozen(c.arms()[0]), k)][col]) for col in c.columns())
                       for k in range(seeds)) / seeds
        judged = verdict(est, c.sign)
        rows.append({"mechanism": c.mechanism, "odd_section": c.section, "claims": ", ".join(c.claims),
                     "lever": lever_text(c), "metric": " + ".join(c.columns()), "baseline": baseline,
                     "effect": est.mean, "low": est.low, "high": est.high, "n": est.n,
                     "expected": "+" if c.sign > 0 else "-", "verdict": judged, "note": note(c, judged)})
    return pd.DataFrame(rows)




# ---------------------------------------------------------------- the command
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m commonsabm.analysis.liveness", description=(
        "Run every mechanism's one-lever contrast over paired seeds; write liveness.csv and liveness.md "
        "into --out, and with --write-docs the Liveness section of that file."))
    parser.add_argument("--seeds", type=int, default=10, help="replicates per arm (at least 2; default 10)")
    parser.add_argument("--population", type=int, default=10_000, help="residents (default 10,000)")
    parser.add_argument("--end", default="2020-12", help="last month, YYYY-MM (default 2020-12)")
    parser.add_argument("--seed", type=int, default=42, help="run seed; replicate k uses its k-th child")
    parser.add_argument("--months", type=int, default=FINAL_MONTHS, help="final months the metric is averaged over")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (joblib processes; default 2)")
    parser.add_argument("--out", required=True, help="directory for liveness.csv and liveness.md")
    parser.add_argument("--write-docs", default=None, help="a markdown file whose Liveness section to replace")
    return parser


def _check_arguments(args: argparse.Namespace) -> None:
    if args.seeds < 2:
        raise ConfigError(f"--seeds={args.seeds}: a 95% interval needs a standard deviation; allowed: 2 or more")
    if args.jobs < 1:
        raise ConfigError(f"--jobs={args.jobs}; allowed: 1 or more")
    if args.months < 1:
        raise ConfigError(f"--months={args.months}; allowed: 1 or more")
    try:
        months = month_index(args.end) - month_index("2010-01") + 1
    except ValueError:
        raise ConfigError(f"--end={args.end!r} is not a month; allowed: YYYY-MM, e.g. 2020-12") from None
    if args.months > months:
        raise ConfigError(f"--months={args.months} is longer than the run ({months} months to {args.end}); "
                          "allowed: at most the run's length")
    if args.write_docs is not None and not Path(args.write_docs).is_file():
        raise ConfigError(f"--write-docs={args.write_docs}: no such file; allowed: an existing markdown file")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ConfigError(f"--out={args.out} is a file; allowed: a directory (made if absent)")


def main(argv: list[str] | None = None) -> int:
    from commonsabm.runs.outputs import atomic_write

    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        _check_arguments(args)
        started = time.perf_counter()
        frame = table(CONTRASTS, args.seeds, args.population, args.end, args.seed, args.months, args.jobs)
    except ConfigError as exc:
        print(f"commonsabm.analysis.liveness: error: {exc}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - started
    command = ("python -m commonsabm.analysis.liveness " +
               f"--seeds {args.seeds} --population {args.population} --end {args.end} --seed {args.seed} "
               f"--months {args.months} --out OUT" + (" --write-docs docs/validation.md" if args.write_docs else ""))
    settings_line = (f"baseline (typical place), {args.population:,} residents, 2010-01 to {args.end}, "
                     f"{args.seeds} paired seeds (children of {args.seed}), metrics averaged over the last "
                     f"{args.months} months; {len(frame)} contrasts in {wall / 60:.1f} minutes on {args.jobs} "
                     f"process(es), {time.strftime('%Y-%m-%d')}")
    text = section(frame, settings_line, command, args.months)
    out = Path(args.out)
    atomic_write(out / "liveness.csv", lambda p: frame.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(out / "liveness.md", lambda p: p.write_text(text + "\n"))
    if args.write_docs:
        docs = Path(args.write_docs)
        new = replace_section(docs.read_text(), text)
        atomic_write(docs, lambda p: p.write_text(new))
    inert = frame[frame["verdict"] != "live"]
    print(markdown(frame))
    print(f"\n{len(frame) - len(inert)} of {len(frame)} mechanisms live; outputs: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
