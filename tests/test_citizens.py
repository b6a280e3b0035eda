"""Residents as arrays: the thin per-resident view, statuses, joining organisations, and sane metrics."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import simulate, step_through

from commonsabm import CommonsModel
from commonsabm.sim.reporters import PER_100K, REPORTERS
from commonsabm.sim.terms import EMPLOYERS, PART_TIME, STATUSES, UNEMPLOYED

VIEW_FIELDS = ("status", "employer", "wage_rate", "motivation", "skills", "cash", "stress", "sanction_left",
               "active", "hours", "free_hours", "income", "org", "nbhd", "ties")


@pytest.fixture(scope="module")
def stepped() -> CommonsModel:
    model = CommonsModel(population=3000, end="2012-12", rng=4)
    for _ in range(6):
        model.step()
    return model


# ---------------------------------------------------------------- the thin view
def test_view_returns_the_residents_fields(stepped):
    citizens = stepped.citizens
    assert len(citizens) == 3000
    rng = np.random.default_rng(0)
    for i in rng.choice(citizens.n, size=50, replace=False):
        i = int(i)
        view = citizens[i]
        assert set(VIEW_FIELDS) <= set(view)
        assert view["status"] == STATUSES[citizens.status[i]]
        if citizens.status[i] in (0, 1):
            assert view["employer"] == EMPLOYERS[citizens.employer[i]]
        else:
            assert view["employer"] is None
        for name in ("wage_rate", "motivation", "skills", "cash", "stress", "hours", "free_hours", "income"):
            assert view[name] == getattr(citizens, name)[i], name
            assert isinstance(view[name], float), name
        for name in ("sanction_left", "org", "nbhd"):
            assert view[name] == int(getattr(citizens, name)[i]) and isinstance(view[name], int), name
        assert view["active"] is bool(citizens.active[i])
        assert view["ties"] == sorted(np.flatnonzero(citizens.ties[i].toarray().ravel()).tolist())


def test_view_is_read_only_and_follows_the_model():
    model = CommonsModel(population=2000, end="2011-12", rng=5)
    model.step()
    before = model.citizens[10]
    with pytest.raises(TypeError):
        before["cash"] = 1e9  # type: ignore[index]
    cash_before = before["cash"]
    for _ in range(3):
        model.step()
    after = model.citizens[10]
    assert before["cash"] == cash_before  # a snapshot does not change under the reader
    assert after["cash"] == model.citizens.cash[10]


def test_view_rejects_residents_that_do_not_exist(stepped):
    with pytest.raises(IndexError):
        stepped.citizens[stepped.citizens.n]


def test_negative_index_is_the_last_resident_or_an_error(stepped):
    citizens = stepped.citizens
    try:
        view = citizens[-1]
    except IndexError:
        return
    assert dict(view) == dict(citizens[citizens.n - 1])


def test_ties_are_mutual_and_within_the_configured_range(stepped):
    citizens = stepped.citizens
    ties = citizens.ties
    assert (ties != ties.T).nnz == 0
    assert ties.diagonal().sum() == 0
    cfg = stepped.config.network
    # each resident draws min..max ties of their own; mutual ties from others add to that
    degree = np.asarray(ties.sum(axis=1)).ravel()
    assert np.median(degree) >= cfg.min_ties
    assert degree.mean() <= 2 * cfg.max_ties


# ---------------------------------------------------------------- statuses
def test_statuses_partition_the_population_at_every_step():
    model = CommonsModel(population=3000, end="2013-12", rng=6, ubi="modest", ubi_start="2012-01",
                         automation_job_loss_per_year=0.05)

    def check(m: CommonsModel) -> None:
        c = m.citizens
        assert c.status.shape == (c.n,)
        assert set(np.unique(c.status)) <= set(range(len(STATUSES)))
        counts = np.bincount(c.status, minlength=len(STATUSES))
        assert counts.sum() == c.n
        shares = counts / c.n
        assert m.employment_rate == pytest.approx(shares[0] + shares[1])
        assert m.claimant_rate == pytest.approx(shares[UNEMPLOYED])
        # only claimants carry conditionality or sanctions: the unemployed, and part-time workers
        # once Universal Credit reaches them (2013-04 on)
        in_work = m.national.in_work_reach(m.month - 1) > 0
        claim = (c.status == UNEMPLOYED) | ((c.status == PART_TIME) & in_work)
        assert not (c.sanctioned & ~claim).any()
        assert not ((c.conditional_share > 0) & ~claim).any()
        # free hours by status, weighted by the groups' sizes, give everyone's mean
        groups = [(counts[s], getattr(m, f"free_hours_{name}")) for s, name in enumerate(STATUSES) if counts[s]]
        assert sum(n * h for n, h in groups) / c.n == pytest.approx(c.free_hours.mean())

    assert step_through(model, check) == 48


# ---------------------------------------------------------------- joining organisations
@pytest.mark.parametrize("reach", [0, 1, 2])
def test_join_never_overfills_room_and_stays_within_reach(reach):
    model = CommonsModel(population=3000, end="2010-12", rng=8, network_neighbourhood_size=100,
                         network_reach=reach)
    citizens = model.citizens
    assert citizens.n_nbhd == 30
    rng = np.random.default_rng(reach)
    filled_exactly = placed = 0
    for trial in range(200):
        n_orgs = int(rng.integers(0, 60))
        org_nbhd = rng.integers(0, citizens.n_nbhd, n_orgs).astype(np.int32)
        room = rng.integers(0, 6, n_orgs) * (rng.random(n_orgs) < 0.8)
        seekers = rng.choice(citizens.n, size=int(rng.integers(0, 1500)), replace=False)
        chosen = citizens.join(seekers, np.arange(n_orgs, dtype=np.int32), org_nbhd, room)
        assert chosen.shape == seekers.shape
        assert ((chosen >= -1) & (chosen < n_orgs)).all()
        taken = np.bincount(chosen[chosen >= 0], minlength=n_orgs)
        assert (taken <= room).all(), f"trial {trial}: overfilled {np.flatnonzero(taken > room)}"
        assert not taken[room == 0].any()
        gap = np.abs(citizens.nbhd[seekers[chosen >= 0]] - org_nbhd[chosen[chosen >= 0]])
        gap = np.minimum(gap, citizens.n_nbhd - gap)
        assert (gap <= reach).all()
        filled_exactly += int(((taken == room) & (room > 0)).sum())
        placed += int((chosen >= 0).sum())
    assert placed > 1000 and filled_exactly > 100  # the limit was really put to the test


def test_lone_seeker_with_room_next_door_finds_it():
    model = CommonsModel(population=3000, end="2010-12", rng=9, network_neighbourhood_size=100, network_reach=0)
    citizens = model.citizens
    for i in (0, 1234, 2999):
        chosen = citizens.join(np.array([i]), np.array([7]), np.array([citizens.nbhd[i]], dtype=np.int32),
                               np.array([1]))
        assert chosen.tolist() == [7]  # the register index of the organisation, not its position
        far = (citizens.nbhd[i] + 5) % citizens.n_nbhd
        assert citizens.join(np.array([i]), np.array([7]), np.array([far], dtype=np.int32),
                             np.array([1])).tolist() == [-1]


def capacity(org) -> int:
    """How many members the organisation has room for in all, read from its own `room` with no
    members and no hours offered (one offered more hours than it can use has no room)."""
    members, offered = org.members, org.hours_offered
    try:
        org.members, org.hours_offered = 0, 0.0
        return org.room
    finally:
        org.members, org.hours_offered = members, offered

FOUNDING = {"population": 2000, "end": "2012-12", "behaviour_founding_rate": 0.02,
            "place_trading_founder_share": 1.0}


def test_no_organisation_ever_has_more_members_than_room():
    for seed in (1, 2, 3):
        model = CommonsModel(rng=seed, **FOUNDING)

        def check(m: CommonsModel) -> None:
            members = np.bincount(m.citizens.org[m.citizens.org >= 0], minlength=len(m.organisations))
            for org in m.live_organisations:
                assert members[org.index] <= capacity(org), (m.date, org.kind, org.born)

        step_through(model, check)


def test_organisation_member_counts_match_the_residents():
    for seed in (1, 2, 3):
        model = CommonsModel(rng=seed, **FOUNDING)

        def check(m: CommonsModel) -> None:
            members = np.bincount(m.citizens.org[m.citizens.org >= 0], minlength=len(m.organisations))
            for org in m.live_organisations:
                assert org.members == members[org.index], (m.date, org.kind, org.born)

        step_through(model, check)


def test_closed_organisations_keep_no_members():
    model, _ = simulate(austerity="deep", place="deprived_northern", end="2016-12", rng=4)
    closed = [o.index for o in model.organisations if not o.alive]
    assert closed, "the scenario should close some organisations"
    assert not np.isin(model.citizens.org, closed).any()
    assert not (model.citizens.active & (model.citizens.org < 0)).any()  # volunteers belong somewhere


# ---------------------------------------------------------------- the metrics stay in range
RUNS = [{}, {"procurement": "reformed"}, {"ubi": "full", "ubi_start": "2011-01"},
        {"austerity": "deep", "place": "deprived_northern", "end": "2016-12"},
        {"investment_fund": "present", "investment_fund_start": "2011-01", "place": "affluent_southern"}]
# undefined where their group is empty: no founding old enough, nobody of a status, no claimant,
# no subcontract offer this month, no commons sale
MAY_BE_NAN = ({c for c in REPORTERS if c.startswith(("survival_", "free_hours_"))}
              | {"claimant_commoning_hours", "subcontract_acceptance_rate", "commons_price"})


@pytest.mark.parametrize("keywords", RUNS, ids=lambda k: "-".join(str(v) for v in k.values()) or "default")
def test_shares_in_unit_interval_and_no_negative_counts(keywords):
    model, frame = simulate(rng=3, **keywords)
    n = model.citizens.n
    for column, (unit, _) in REPORTERS.items():
        if column == "date":
            continue
        values = frame[column].to_numpy(dtype=float)
        if column not in MAY_BE_NAN:
            assert np.isfinite(values).all(), column
        values = values[~np.isnan(values)]
        assert (values >= 0).all(), f"{column} negative: {values.min()}"
        if unit.startswith("share") or unit == "0-1":
            assert (values <= 1).all(), f"{column} above 1: {values.max()}"
        if unit == PER_100K:  # whole numbers of organisations, people or events
            counts = values * n / 100_000
            np.testing.assert_allclose(counts, np.round(counts), atol=1e-6, err_msg=column)
    assert frame["local_multiplier"].between(1, 3).all()
    assert frame["commissioning_capacity"].between(0, 1).all()



def test_crediting_payments_apart_counts_only_wages_as_wages():
    """A benefit paid in the same pass as a wage is income, not a taxable wage."""
    from commonsabm import CommonsModel

    model = CommonsModel(population=500, end="2010-02", rng=1, ubi="full", ubi_start="2010-01", ubi_funding="local_tax")
    citizens = model.citizens
    citizens.start_month()
    wage, benefit = np.zeros(citizens.n), np.zeros(citizens.n)
    wage[0], benefit[1] = 100.0, 50.0
    income = citizens.income.copy()
    citizens.credit_apart([(wage, None, "wages"), (benefit, None, "benefits")])
    assert citizens.wages[0] == 100.0 and citizens.wages[1] == 0.0
    assert citizens.income[1] - income[1] == 50.0


def test_active_peer_count_equals_the_full_product_through_every_kind_of_change():
    """The peer effect's count is moved by who changed; it must equal ``ties @ active`` exactly,
    through small changes (the gather), large ones (the recount) and none."""
    from commonsabm.sim.network import ActivePeers

    model = CommonsModel(population=3000, end="2010-06", rng=4)
    ties = model.citizens.ties
    peers, rng = ActivePeers(ties), np.random.default_rng(0)
    active = np.zeros(ties.shape[0], dtype=bool)
    for share in (0.01, 0.5, 0.0, 0.02, 0.3, 0.001, 0.9, 0.05):
        flip = rng.random(len(active)) < share
        active = active ^ flip
        expected = ties @ active.astype(np.float32)
        np.testing.assert_array_equal(peers.of(active), expected)
    # a model's own counter agrees with the product after months of real starts and stops
    model.run()
    citizens = model.citizens
    np.testing.assert_array_equal(citizens.active_peers.of(citizens.active), ties @ citizens.active.astype(np.float32))
