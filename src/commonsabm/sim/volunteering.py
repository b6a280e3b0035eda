"""Time that can become commoning: how much volunteering the commons can absorb, and how a
change in volunteering splits into what came through time and what came through income.

Absorption (docs/ODD.md §7.6): a volunteer offers hours in proportion to their free time
and bandwidth, but an organisation can only use the hours it can organise (its volunteer
places, its contracted delivery and its paid staff: ``Register.usable_hours``, by slot in
``CommonsModel.usable_by_slot``).
Hours offered beyond that are not given, and an organisation offered more than it can use
takes no new volunteers (``CommonsOrganisation.room``). Cuts that close organisations or
shed their staff therefore cap how much extra free time the commons can take up.

The split (docs/ODD.md §10.3): ``TimeIncomeSplit`` follows each resident's free-time share
and bandwidth over two windows of the run, the twelve months before ``ubi.start`` and the
run's last twelve, and splits the change in the volunteering drive (motivation x free-time
share x bandwidth, the propensity before peers) into its time and income parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from commonsabm.params.months import month_label

# the final window of the split: the run's last twelve months, as the sweep's `_final`
# columns and summary.json's `*_final_year` (runs.sweep.FINAL_MONTHS; a test keeps them equal)
SPLIT_MONTHS = 12


def absorb(org: np.ndarray, offered: np.ndarray, usable: np.ndarray,
           givers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hours each resident gives: what they offer, scaled down in proportion where their
    organisation is offered more than it can use. Returns (given, offered per slot).

    ``givers`` (ascending indices) may name the only residents who offer any hours (this
    month's volunteers, as ``decide`` returns them): the sums and the scaling are then done
    over them alone. That changes no number: a bincount adds in index order, and adding the
    others' zeros leaves each sum as it is (x + 0 = x), as their zero hours stay zero."""
    if givers is None:
        slot = org + 1
        offered_by = np.bincount(slot, weights=offered, minlength=len(usable))
        return offered * scale_by_slot(usable, offered_by)[slot], offered_by
    slot = org[givers] + 1
    # with no givers at all numpy's bincount ignores the weights and counts in integers
    offered_by = np.bincount(slot, weights=offered[givers], minlength=len(usable)).astype(float, copy=False)
    given = np.zeros(len(offered))
    given[givers] = offered[givers] * scale_by_slot(usable, offered_by)[slot]
    return given, offered_by


def scale_by_slot(usable: np.ndarray, offered_by: np.ndarray) -> np.ndarray:
    """The share of the hours offered to each slot that it can use (at most 1)."""
    return np.minimum(np.divide(usable, offered_by, out=np.ones_like(offered_by), where=offered_by > 0), 1.0)


def decide(citizens, org_index: np.ndarray, org_nbhd: np.ndarray, room: np.ndarray,
           wear: np.ndarray | float, wear_by_slot: np.ndarray | None = None) -> np.ndarray:
    """``Citizens.volunteer``: who volunteers this month and the hours they offer; returns
    the volunteers' indices (ascending), the only residents with any hours.

    Whole-array steps in place, in the order each formula is written, so that reusing the
    arrays changes no number; the questions that concern only this month's volunteers (who
    stays, their hours) are asked of them alone.
    """
    cfg, rng = citizens.model.config, citizens.model.rng
    beh = cfg.behaviour
    bandwidth = citizens.bandwidth_now = citizens.bandwidth
    free_share = citizens.free_hours / cfg.time.discretionary_hours
    if beh.free_time_response != 1.0:  # a power over every resident is costly; skip it when linear
        free_share = free_share ** beh.free_time_response
    citizens.free_share = free_share
    # in place, in the order the propensity's formula multiplies, so the numbers are unchanged
    peers = citizens.active_peers.of(citizens.active) * citizens.inverse_degree
    peers *= beh.peer_effect
    peers += 1
    propensity = citizens.motivation * free_share
    propensity *= bandwidth
    propensity *= peers
    np.clip(propensity, 0.0, 1.0, out=propensity)
    draw = rng.random(citizens.n)
    has_time = citizens.free_hours > 0
    # who stays is a question for this month's volunteers only (about a quarter of residents)
    was = np.flatnonzero(citizens.active)
    keep = np.subtract(1, propensity[was])  # (1 - quit x (1 - propensity)) x (1 - wear)
    keep *= beh.quit_rate
    np.subtract(1, keep, out=keep)
    if wear_by_slot is not None:  # the same numbers as a resident-length wear, for them alone
        wear = wear_by_slot[citizens.org[was] + 1]
    elif np.ndim(wear):
        wear = wear[was]
    keep *= 1 - wear
    stays = was[(draw[was] < keep) & has_time[was]]
    propensity *= beh.join_rate
    start = draw < propensity
    start &= has_time
    start[was] = False
    idle = citizens.org >= 0  # members who did not volunteer may let their membership lapse
    idle[was] = False
    citizens.org[citizens.happen(np.flatnonzero(idle), beh.membership_lapse)] = -1
    seekers = np.flatnonzero(start & (citizens.org < 0))
    citizens.org[seekers] = citizens.join(seekers, org_index, org_nbhd, room)
    start &= citizens.org >= 0
    start[stays[citizens.org[stays] >= 0]] = True
    citizens.active = start
    # computed for the volunteers only: everyone else gives no hours
    who = np.flatnonzero(start)
    free = citizens.free_hours[who]
    offered = free * beh.hours_share
    offered *= 0.5 + citizens.motivation[who]
    offered *= bandwidth[who]
    citizens.hours = np.zeros(citizens.n)
    citizens.hours[who] = np.minimum(offered, free, out=offered)
    return who


def match(rng: np.random.Generator, nbhd: np.ndarray, n_nbhd: int, reach: int, seekers: np.ndarray,
          org_index: np.ndarray, org_nbhd: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Match seekers (residents, by index) to organisations within ``reach`` neighbourhoods of
    theirs that have room; -1 where none does (``Citizens.join``).

    All at once, with no loop over seekers: each seeker picks a neighbourhood within reach,
    then an organisation there with chance in proportion to its room; organisations accept
    seekers in order of resident index up to their room. The organisations are given as
    arrays (register index, neighbourhood, room); the result holds register indices.
    """
    chosen = np.full(len(seekers), -1, dtype=np.int32)
    if len(seekers) == 0 or room.sum() <= 0:
        return chosen
    target = (nbhd[seekers] + rng.integers(-reach, reach + 1, len(seekers))) % n_nbhd
    order = np.argsort(org_nbhd, kind="stable")
    cum = np.cumsum(room[order].astype(float))
    bounds = np.searchsorted(org_nbhd[order], np.arange(n_nbhd + 1))
    lo = np.where(bounds[:-1] > 0, cum[bounds[:-1] - 1], 0.0)
    total = cum[bounds[1:] - 1] - lo if len(cum) else np.zeros(n_nbhd)
    total = np.where(bounds[1:] > bounds[:-1], total, 0.0)
    ok = total[target] > 0
    pick = lo[target[ok]] + rng.random(int(ok.sum())) * total[target[ok]]
    candidate = order[np.minimum(np.searchsorted(cum, pick, side="right"), len(cum) - 1)]
    # first come, first served: accept seekers up to each organisation's room. Their order by
    # organisation, seekers in index order within each: a stable sort of small whole numbers,
    # which numpy does as a radix sort when they fit in 16 bits; each organisation's first
    # place in that order from the counts before it
    small = candidate.astype(np.int16) if len(order) <= np.iinfo(np.int16).max else candidate
    by_org = np.argsort(small, kind="stable")
    counts = np.bincount(candidate, minlength=len(order))
    first = (np.cumsum(counts) - counts)[candidate[by_org]]
    rank = np.empty_like(by_org)
    rank[by_org] = np.arange(len(by_org)) - first
    accepted = rank < room[candidate]
    idx = np.flatnonzero(ok)
    chosen[idx[accepted]] = org_index[candidate[accepted]]
    return chosen


class TimeIncomeSplit:
    """The change in volunteering between a reference window and the run's end, split into
    time (free hours) and income (bandwidth), by a two-factor Shapley decomposition.

    Each resident's drive is ``motivation x f x b``, with ``f`` their free-time share (to the
    power ``behaviour.free_time_response``, as in the propensity) and ``b`` their bandwidth,
    each averaged over a window. The change in the mean drive from the reference window (0)
    to the final window (1) is exactly the sum of

    - through time: mean of motivation x (f1 - f0) x (b0 + b1) / 2
    - through income: mean of motivation x (b1 - b0) x (f0 + f1) / 2.

    The peer effect is left out: it multiplies both and is itself an outcome of volunteering.
    """

    def __init__(self, n: int, start: int, end: int, policy: int, months: int = SPLIT_MONTHS):
        self.reference = (max(policy - months, start), policy - 1)
        self.final = (max(end - months + 1, start), end)
        # the split needs a window before the policy and a final window wholly after it
        self.possible = self.reference[1] >= self.reference[0] and self.final[0] >= policy
        self.sums = {w: np.zeros((2, n)) for w in ("reference", "final")} if self.possible else {}
        self.outcomes = {w: np.zeros(2) for w in ("reference", "final")}
        self.counts = dict.fromkeys(("reference", "final"), 0)

    def window(self, month: int) -> str | None:
        for name in ("reference", "final"):
            lo, hi = getattr(self, name)
            if lo <= month <= hi:
                return name
        return None

    def observe(self, month: int, free_share: np.ndarray, bandwidth: np.ndarray,
                hours: np.ndarray, active: np.ndarray) -> None:
        name = self.window(month) if self.possible else None
        if name is None:
            return
        self.sums[name][0] += free_share
        self.sums[name][1] += bandwidth
        self.outcomes[name] += (hours.mean(), active.mean())
        self.counts[name] += 1

    def result(self, motivation: np.ndarray) -> dict[str, Any] | None:
        """The split, or None when the run has no month before ``ubi.start`` or ends within a
        year of it."""
        if not self.possible or not all(self.counts.values()):
            return None
        (f0, b0), (f1, b1) = (self.sums[w] / self.counts[w] for w in ("reference", "final"))
        time = float(np.mean(motivation * (f1 - f0) * (b0 + b1) / 2))
        income = float(np.mean(motivation * (b1 - b0) * (f0 + f1) / 2))
        size = abs(time) + abs(income)
        (h0, r0), (h1, r1) = (self.outcomes[w] / self.counts[w] for w in ("reference", "final"))
        return {
            "reference": f"{month_label(self.reference[0])} to {month_label(self.reference[1])}",
            "final": f"{month_label(self.final[0])} to {month_label(self.final[1])}",
            "volunteer_hours_change": float(h1 - h0),
            "volunteering_rate_change": float(r1 - r0),
            "drive_change": float(np.mean(motivation * (f1 * b1 - f0 * b0))),  # = through_time + through_income
            "through_time": time,
            "through_income": income,
            "time_share": abs(time) / size if size > 0 else None,
            "income_share": abs(income) / size if size > 0 else None,
        }
