"""The national endowment for community businesses (Power to Change, 2015-; sim.endowment,
docs/ODD.md §7.7): it grants founders of community businesses their start-up capital from a
yearly allowance, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, per_seed, step_through

from commonsabm import CommonsModel
from commonsabm.params.checks import from_keywords
from commonsabm.params.schema import ConfigError

# A place's share of the endowment's founding budget is about GBP 2,200 a year at 20,000
# residents, less than one community business's start-up capital in four years; so the
# small place here has more founders and a cheaper start-up (and no backers, so that
# founders need a grant), to see the route act in a test-sized run.
RUN = {"population": 20_000, "end": "2018-12", "behaviour_founding_rate": 0.003,
       "place_trading_founder_share": 0.5, "commons_community_business_startup_capital": 2000.0,
       "commons_community_business_backers": 0}
GRANT = "endowment start-up grant"


def founded_with(how: str):
    return lambda model, frame: sum(1 for o in model.organisations if o.founded_with == how)


def births(kind: str):
    return lambda model, frame: float(frame.loc[frame["date"] >= "2015-01", f"births_{kind}"].sum())


def test_the_endowment_founds_community_businesses_from_2015_and_only_them():
    def check(model, frame):
        funded = [o for o in model.organisations if o.founded_with == GRANT]
        assert all(o.kind == "community_business" and o.born >= model.endowment.opens for o in funded)
        return len(funded)
    assert per_seed(check, **RUN).sum() > 0


def test_one_lever_the_endowment_adds_community_businesses_not_other_kinds():
    """With and without it, five seeds on common random numbers: more community businesses
    are founded from 2015 with it, in most seeds, and none on its grant without it."""
    on = per_seed(births("community_business"), **RUN)
    off = per_seed(births("community_business"), endowment_enabled=False, **RUN)
    assert on.sum() > off.sum() and (on >= off).sum() > len(SEEDS) / 2, (on, off)
    assert per_seed(founded_with(GRANT), endowment_enabled=False, **RUN).sum() == 0


def test_the_allowance_is_what_it_would_have_spent_to_date_less_what_it_granted():
    model = CommonsModel(rng=2, **RUN)
    cfg = model.config.endowment
    monthly = cfg.budget * cfg.startup_share * model.citizens.n / 12
    granted = []

    def check(m):
        month = m.month - 1
        granted.append(m.endowment.granted)
        months_open = max(0, month - m.endowment.opens + 1)
        if months_open == 0:
            assert m.endowment.pot == 0.0 and m.endowment.granted == 0.0
        # never more than its spending to date, and every grant drawn from it
        assert m.endowment.pot == pytest.approx(monthly * months_open - sum(granted), abs=1e-6)
        assert m.endowment.pot >= -1e-9

    step_through(model, check)
    assert sum(granted) > 0


def test_grants_are_paid_from_outside_and_booked_as_grants():
    model = CommonsModel(rng=1, **RUN)
    step_through(model, lambda m: None)
    funded = [o for o in model.organisations if o.founded_with == GRANT]
    assert funded
    capital = model.config.commons.community_business.startup_capital
    assert all(o.revenue_total["grants"] >= capital - 1e-9 for o in funded)


def test_an_end_before_the_start_is_refused_with_one_line():
    with pytest.raises(ConfigError, match=r"endowment\.end=2014-01 is before endowment\.start=2015-01"):
        from_keywords(endowment_end="2014-01")
