"""Invariants every valid configuration keeps, month by month (property-based, with hypothesis).

Hypothesis draws small runs (500-2,000 residents, one to four years starting between 2010
and 2025), a preset for every config group, a month for every policy start (before,
inside or after the run) and a handful of single parameters anywhere in their allowed
ranges; a second test puts every parameter, one at a time, at each end of its range with
every lever switched on. Every month of every run must keep ``assert_invariants``.
Configurations that validation rejects as contradictory are not runs, and are counted.

A failure prints the keywords (``CommonsModel(**keywords)`` rebuilds the run, shrunk by
hypothesis to the simplest that fails) and the month in which it went wrong.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any, Callable

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, assume, currently_in_test_context, given, note, settings
from hypothesis import strategies as st

from commonsabm import CommonsModel
from commonsabm.params.checks import presets, walk
from commonsabm.params.months import month_index, month_label
from commonsabm.params.schema import SECTIONS, ConfigError, ModelConfig
from commonsabm.sim.reporters import REPORTERS, gini
from commonsabm.sim.founding import OWN_MONEY
from commonsabm.sim.terms import EMPLOYERS, FULL_TIME, PART_TIME, SECTORS, SOURCES, STATUSES, UNEMPLOYED

EXAMPLES = 300
ARTIFACTS = ROOT / "test-artifacts"
TOLERANCE = 1e-9
FIELDS = {key: f for key, _, f in walk(ModelConfig())}
GROUPS = tuple(section for section in SECTIONS if presets(section))

# Parameters validation ties together are drawn together, so that most draws are valid.
EMPLOYMENT = tuple(f"place.{s}_share" for s in ("full_time", "part_time", "unemployed", "inactive", "retired"))
SUM_TO_ONE = (EMPLOYMENT,
              ("procurement.weight_price", "procurement.weight_quality", "procurement.weight_social_value"),
              ("investment_fund.public_weight", "investment_fund.private_weight", "investment_fund.commons_weight"))
AT_MOST_ONE = ("council.contracted_share", "council.commissioning_share")
TIES = ("network.min_ties", "network.max_ties")
AUSTERITY_PATH = ("austerity.years", "austerity.grant_index")
STARTS = tuple(key for key, f in FIELDS.items() if f.name == "start" or f.name.endswith("_start"))
# where a policy's start falls: before the run, inside it, or after it (so never, which validation
# refuses for a UBI, a fund or procurement rules other than 2010's)
NEVER_REFUSED = ("ubi.start", "investment_fund.start", "procurement.start")
PLACES = {key: ("before", "inside") if key in NEVER_REFUSED else ("before", "inside", "after") for key in STARTS}
LABELS = ("place.name",)  # recorded in the outputs, never read by the model



def flat(key: str) -> str:
    return key.replace(".", "_")


def bounds(key: str) -> tuple[float, float]:
    meta = FIELDS[key].metadata
    return meta["lo"], meta["hi"]


# ---------------------------------------------------------------- drawing configurations
def values_of(key: str) -> st.SearchStrategy:
    """Any value a single parameter allows: its choices, or anywhere in [lo, hi]."""
    f = FIELDS[key]
    if f.metadata["choices"]:
        return st.sampled_from(f.metadata["choices"])
    if isinstance(f.default, bool):
        return st.booleans()
    lo, hi = bounds(key)
    if isinstance(f.default, int):
        return st.integers(int(lo), int(hi))
    return st.floats(lo, hi, allow_nan=False)


def shares(keys: tuple[str, ...], whole: bool) -> st.SearchStrategy[dict[str, float]]:
    """Shares of one whole: all of it (summing to one), or at most all of it."""
    draws = st.lists(st.floats(0, 1, allow_nan=False), min_size=len(keys), max_size=len(keys))
    if whole:
        draws = draws.filter(lambda w: sum(w) > 0)
    return draws.map(lambda w: {flat(k): x / (sum(w) if whole else max(sum(w), 1.0)) for k, x in zip(keys, w)})


def ordered_ties() -> st.SearchStrategy[dict[str, int]]:
    ties = st.lists(values_of(TIES[0]), min_size=2, max_size=2).map(sorted)
    return ties.map(lambda t: dict(zip(map(flat, TIES), t)))


@st.composite
def austerity_paths(draw) -> dict[str, list[float]]:
    years = draw(st.lists(st.integers(2000, 2040), min_size=1, max_size=5, unique=True).map(sorted))
    lo, hi = bounds(AUSTERITY_PATH[1])
    index = draw(st.lists(st.floats(lo, hi, allow_nan=False), min_size=len(years), max_size=len(years)))
    return {flat(AUSTERITY_PATH[0]): [float(y) for y in years], flat(AUSTERITY_PATH[1]): index}


def _levers() -> dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]]:
    """Every parameter a draw can set, by name: one field, or the fields validation ties together."""
    levers: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
        " + ".join(keys): (lambda keys=keys: shares(keys, whole=True)) for keys in SUM_TO_ONE}
    levers[" + ".join(AT_MOST_ONE)] = lambda: shares(AT_MOST_ONE, whole=False)
    levers[" <= ".join(TIES)] = ordered_ties
    levers[" with ".join(AUSTERITY_PATH)] = austerity_paths
    tied = {k for keys in (*SUM_TO_ONE, AT_MOST_ONE, TIES, AUSTERITY_PATH) for k in keys}
    for key in FIELDS:
        if key not in tied and key not in STARTS and key not in LABELS:
            levers[key] = lambda key=key: values_of(key).map(lambda v, key=key: {flat(key): v})
    return levers


LEVERS = _levers()


@st.composite
def configurations(draw) -> tuple[dict[str, Any], list[str]]:
    """Keywords for CommonsModel (a small run, every group's preset, every start, a few single
    values) and the names of the levers drawn."""
    months = draw(st.integers(12, 48))
    first = draw(st.integers(month_index("2010-01"), month_index("2025-12")))
    keywords: dict[str, Any] = {"population": draw(st.integers(500, 2000)), "start": month_label(first),
                                "end": month_label(first + months - 1), "rng": draw(st.integers(0, 2**32 - 1))}
    for group in GROUPS:
        keywords[group] = draw(st.sampled_from(presets(group)))
    for key in STARTS:  # up to two years before the run, inside it, or up to two years after it
        where = draw(st.sampled_from(PLACES[key]))
        offset = {"before": st.integers(-24, -1), "inside": st.integers(0, months - 1),
                  "after": st.integers(months, months + 23)}[where]
        keywords[flat(key)] = month_label(first + draw(offset))
    levers = draw(st.lists(st.sampled_from(sorted(LEVERS)), min_size=1, max_size=15, unique=True))
    for name in levers:
        keywords.update(draw(LEVERS[name]()))
    return keywords, levers


def extremes(name: str) -> list[dict[str, Any]]:
    """A lever at each end of its range (for shares that must sum to one: each share at one)."""
    for keys in (*SUM_TO_ONE, AT_MOST_ONE):
        if name == " + ".join(keys):
            corners = keys if keys in SUM_TO_ONE else (*keys, None)  # None: none of the whole
            return [{flat(k): float(k == corner) for k in keys} for corner in corners]
    if name == " <= ".join(TIES):
        return [{flat(k): end for k in TIES} for end in map(int, bounds(TIES[0]))]
    if name == " with ".join(AUSTERITY_PATH):
        return [{flat(AUSTERITY_PATH[0]): [2010.0, 2011.0], flat(AUSTERITY_PATH[1]): [index, index]}
                for index in bounds(AUSTERITY_PATH[1])]
    f = FIELDS[name]
    ends = f.metadata["choices"] or ((False, True) if isinstance(f.default, bool) else bounds(name))
    return [{flat(name): type(f.default)(end)} for end in ends]


# Every number a configuration holds (lists of numbers too), and what validation must refuse in
# any of them: NaN compares false with every bound, so a range alone would let it through.
NUMBERS = tuple(key for key, value, _ in walk(ModelConfig())
                if isinstance(value, (int, float, list)) and not isinstance(value, bool))
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def poisoned(draw) -> tuple[dict[str, Any], str, float]:
    """A valid configuration with NaN or an infinity in one of its numbers (one item of a list)."""
    keywords, _ = draw(configurations())
    key = draw(st.sampled_from(NUMBERS))
    bad = draw(NOT_FINITE)
    current = keywords.get(flat(key), next(v for k, v, _ in walk(ModelConfig()) if k == key))
    if isinstance(current, list):
        at = draw(st.integers(0, len(current) - 1))
        keywords[flat(key)] = [bad if i == at else x for i, x in enumerate(current)]
    else:
        keywords[flat(key)] = bad
    return keywords, key, bad


# ---------------------------------------------------------------- the invariants
def reporter_bounds(unit: str) -> tuple[float, float]:
    """The range a reporter's unit promises; every metric is a count, a share or an amount >= 0."""
    if unit.startswith("share") or unit == "0-1":
        return 0.0, 1.0
    if unit == "ratio, 1-3":  # LM3: round one, plus at most the same again in rounds two and three
        return 1.0, 3.0
    return 0.0, math.inf


# Means over residents of one status are undefined, not zero, when nobody has that status;
# survival is undefined until an organisation founded in the run is old enough.
BY_STATUS = {f"{prefix}_{status}": i for prefix in ("free_hours", "volunteering_rate")
             for i, status in enumerate(STATUSES)}
SURVIVAL = {name for name in REPORTERS if name.startswith("survival_")}


def assert_invariants(model: CommonsModel) -> None:
    """What must hold after every month of any valid configuration."""
    citizens, council, fund, economy = model.citizens, model.council, model.fund, model.economy
    n = citizens.n
    live, ever = model.live_organisations, model.organisations

    # the ledger balances, counting every organisation that ever lived: closed ones hold nothing
    held = {"citizens": float(citizens.cash.sum()), "commons": sum(o.cash for o in ever),
            "council": council.cash, "primes": sum(p.cash for p in model.primes), "fund": fund.cash,
            "local_private": economy.local_private.cash, "outside": economy.outside.cash}
    ledger = model.ledger
    scale = max(np.abs(ledger.opening).sum(), ledger.flows.sum(), 1.0)
    gap = np.abs(np.array([held[s] for s in SECTORS]) - ledger.expected()) / scale
    assert gap.max() <= TOLERANCE, f"ledger out of balance: {dict(zip(SECTORS, gap))}"
    assert all(o.cash == 0 for o in ever if not o.alive), "a closed organisation still holds money"

    # only the rest of the world may owe money; no count or stock of people or hours below zero
    debtless = {"commons": [o.cash for o in live], "council": [council.cash], "fund": [fund.cash],
                "primes": [p.cash for p in model.primes], "local_private": [economy.local_private.cash],
                "residents": citizens.cash}
    for who, cash in debtless.items():
        assert min(cash, default=0.0) >= -TOLERANCE * scale, f"{who} in debt: {min(cash)}"
    for name in ("income", "hours", "free_hours", "stress", "sanction_left"):
        assert getattr(citizens, name).min() >= 0, f"a resident's {name} < 0"
    assert citizens.stress.max() <= 1
    assert (citizens.hours <= citizens.free_hours).all(), "volunteered more hours than were free"
    for org in live:
        for name in ("members", "volunteers", "volunteer_hours", "staff", "capacity", "overheads",
                     "committed", "delivery_due", "loan", "loan_payment", "costs", "months_unpaid"):
            assert getattr(org, name) >= 0, f"{org.kind} {org.unique_id}: {name} < 0"
        assert 0 <= org.burnout <= 1 and min(org.revenue.values()) >= 0
    assert fund.outstanding >= -TOLERANCE * max(fund.loans_made * fund.config.loan_size, 1.0)
    assert council.startup_pot >= 0 and council.care_spending >= 0
    assert min(council.spending.values()) >= 0 and min(council.revenue.values()) >= 0
    assert 0 <= council.commissioning_capacity <= 1
    assert all(c.value >= 0 and c.price > 0 for c in council.contracts), "a contract of negative value or price"
    assert min(model.births.values(), default=0) >= 0 and min(model.deaths.values(), default=0) >= 0

    # every resident has exactly one status; members belong to a live organisation and are counted
    status = citizens.status
    assert len(status) == n == model.run_config.population
    assert status.min() >= 0 and status.max() < len(STATUSES)
    counts = np.bincount(status, minlength=len(STATUSES))
    assert counts.sum() == n
    assert citizens.employer.min() >= 0 and citizens.employer.max() < len(EMPLOYERS)
    # claimants are the unemployed and, under Universal Credit, low-paid part-time workers
    assert np.isin(status[citizens.sanctioned], (UNEMPLOYED, PART_TIME)).all(), "a resident sanctioned without a claim"
    member = citizens.org >= 0
    assert citizens.org.max(initial=-1) < len(ever)
    assert all(ever[i].alive for i in np.unique(citizens.org[member])), "a member of a closed organisation"
    assert not (citizens.active & ~member).any(), "a volunteer who belongs to no organisation"
    belonging = np.bincount(citizens.org[member], minlength=len(ever))
    assert all(o.members == belonging[o.index] for o in live), "organisations' member counts drifted"

    # every organisation's revenue by source adds up to what it received (founders' capital aside)
    for org in live + model.closed_this_month:
        own_money = org.born == model.month - 1 and org.founded_with in OWN_MONEY
        capital = org.kind_config.startup_capital if own_money else 0.0
        assert set(org.revenue) == set(SOURCES)
        assert sum(org.revenue.values()) == pytest.approx(org.received - capital, rel=TOLERANCE, abs=1e-6), (
            f"{org.kind} {org.unique_id}: revenue by source {org.revenue}, but received {org.received}")

    # the month's metrics: in their units' ranges, and undefined only where their group is empty
    reported = {name: values[-1] for name, values in model.datacollector.model_vars.items()}
    assert reported["ledger_error"] <= TOLERANCE
    assert reported["employment_rate"] == pytest.approx((counts[FULL_TIME] + counts[PART_TIME]) / n)
    assert reported["claimant_rate"] == pytest.approx(counts[UNEMPLOYED] / n)
    for name, (unit, _) in REPORTERS.items():
        if name == "date":
            continue
        value = reported[name]
        if math.isnan(value):
            undefined = (name in SURVIVAL or (name in BY_STATUS and counts[BY_STATUS[name]] == 0)
                         or (name == "claimant_commoning_hours" and counts[UNEMPLOYED] == 0)
                         or (name == "subcontract_acceptance_rate" and model.council.record["subcontract_offers"] == 0)
                         or (name == "commons_price" and model.market.units == 0))
            assert undefined, f"{name} is NaN"
            continue
        lo, hi = reporter_bounds(unit)
        assert lo - TOLERANCE <= value <= hi + TOLERANCE, f"{name}={value!r} outside [{lo}, {hi}] ({unit})"


def say(text: str) -> None:
    """Shown with a failure: by hypothesis for the shrunk example, by pytest's captured output otherwise."""
    if currently_in_test_context():
        note(text)
    else:
        print(text)


def run_checked(keywords: dict[str, Any]) -> CommonsModel | None:
    """Run a configuration month by month, checking the invariants; None if validation rejects it."""
    say(f"CommonsModel(**{keywords!r})")
    try:
        model = CommonsModel(**keywords)
    except ConfigError as exc:  # contradictory: not a run the model owes anyone
        say(f"rejected: {exc}")
        return None
    # a division by zero or an overflow is a bug even where numpy would only warn
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        while model.running:
            month = model.date
            try:
                model.step()
                assert_invariants(model)
            except BaseException:
                say(f"in the month {month}")
                raise
    return model


def where_it_starts(keywords: dict[str, Any], key: str) -> str:
    start = month_index(keywords[flat(key)])
    if start < month_index(keywords["start"]):
        return "before"
    return "after" if start > month_index(keywords["end"]) else "inside"


# ---------------------------------------------------------------- the properties
def record_figures(tally: Counter) -> None:
    """The run's figures for docs/reliability.md, kept with the other test artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    figures = {"valid_configurations": tally["valid"], "rejected_as_contradictory": tally["rejected"],
               "months_checked": tally["months"], "single_parameters_drawn": sum(tally[n] for n in LEVERS)}
    (ARTIFACTS / "properties.json").write_text(json.dumps(figures, indent=2))


def test_every_valid_configuration_keeps_the_invariants_every_month():
    tally: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(configurations())
    def run(drawn: tuple[dict[str, Any], list[str]]) -> None:
        keywords, levers = drawn
        model = run_checked(keywords)
        tally["rejected" if model is None else "valid"] += 1
        assume(model is not None)
        tally["months"] += model.steps
        tally.update(("preset", group, keywords[group]) for group in GROUPS)
        tally.update(("start", key, where_it_starts(keywords, key)) for key in STARTS)
        tally.update(levers)

    run()
    record_figures(tally)
    assert tally["valid"] >= EXAMPLES
    assert tally["rejected"] <= 0.15 * (tally["valid"] + tally["rejected"]), tally["rejected"]
    assert tally["months"] >= 12 * EXAMPLES
    missing = [(g, p) for g in GROUPS for p in presets(g) if not tally["preset", g, p]]
    missing += [(key, where) for key, places in PLACES.items() for where in places if not tally["start", key, where]]
    assert not missing, f"never drawn in a valid configuration: {missing}"
    assert sum(tally[name] for name in LEVERS) >= 3 * EXAMPLES  # a few single values a run, on average


# Every lever switched on from the first month, so that each parameter is read.
ALL_ON = {"population": 1000, "start": "2012-01", "end": "2013-06", "rng": 3, "place": "deprived_northern",
          "austerity": "deep", "ubi": "modest", "sanctions": "punitive", "procurement": "reformed",
          "investment_fund": "present", "commissioning": "scale_what_works", "automation": "rapid",
          "devolution": "local_treasury", **{flat(key): "2012-01" for key in STARTS}}
EXTREMES = [(name, values) for name in sorted(LEVERS) for values in extremes(name)]


@pytest.mark.parametrize("name, values", EXTREMES, ids=[f"{n}={list(v.values())}" for n, v in EXTREMES])
def test_every_parameter_at_each_end_of_its_range_keeps_the_invariants(name, values):
    model = run_checked({**ALL_ON, **values})
    if model is None:  # only a corner that leaves nobody in work may be refused
        assert name == " + ".join(EMPLOYMENT) and values[flat("place.full_time_share")] == 0
        assert values[flat("place.part_time_share")] == 0
    else:
        assert model.steps == 18


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(poisoned())
def test_nan_or_infinity_in_any_number_is_rejected_cleanly(drawn):
    """Not a crash, a warning or a run: one line naming the key, from the checks, before any model is built."""
    keywords, key, bad = drawn
    say(f"CommonsModel(**{keywords!r})")
    with pytest.raises(ConfigError) as err:
        CommonsModel(**keywords)
    message = str(err.value)
    assert "\n" not in message and "allowed" in message
    assert key in message or flat(key) in message, message
    assert repr(bad) in message, message


def test_the_draws_reach_every_parameter():
    """Each parameter is drawn on its own, with the fields validation ties it to, or as a start."""
    reached = {k for name in LEVERS for k in FIELDS if name == k or k in name.split(" ")}
    assert set(FIELDS) - reached - set(STARTS) == set(LABELS)


def test_the_commons_never_take_more_than_residents_spend():
    """Donations rise as grants are cut and trading with the number of traders; both at most what residents spend."""
    run_checked({"population": 500, "end": "2010-12", "rng": 0, "place_donation_share": 1.0})


# ---------------------------------------------------------------- the income Gini, in both of its ways
def gini_by_pairs(pounds: np.ndarray) -> float:
    """The textbook definition: mean absolute difference over pairs, over twice the mean."""
    return float(np.abs(pounds[:, None] - pounds[None, :]).sum() / (2 * len(pounds) * pounds.sum()))


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.floats(0, 1e8, allow_nan=False), min_size=1, max_size=60))
def test_gini_is_the_mean_difference_whether_counted_or_sorted(incomes):
    """Counted per pound for everyday incomes, sorted when one is a fortune: the same number."""
    pounds = np.rint(np.array(incomes))
    assume(pounds.sum() > 0)
    assert gini(np.array(incomes)) == pytest.approx(gini_by_pairs(pounds), rel=1e-9, abs=1e-12)


def test_gini_of_a_fortune_needs_no_memory_in_proportion_to_it():
    import tracemalloc

    tracemalloc.start()
    try:
        coefficient = gini(np.array([0.0] * 10 + [3e7]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert coefficient == pytest.approx(10 / 11)
    assert peak < 10_000_000, f"{peak:,} bytes to rank 11 incomes"
