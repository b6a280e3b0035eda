"""The share of calibrated worlds in which each debate claim holds, and the ensemble's verdict on it.

Each kept world (a parameter sample that fits the UK data) runs the debate and judges every
claim as ``analysis.claims.judge`` does for one sweep. This module counts, per claim, the
worlds in which it holds and gives the share with a 95% interval and a verdict in the
words of issue 17: *robust* when it holds in at least 90% of worlds, *rejected* when in at
most 10%, *contested* in between. The verdict is read from the point share, as the issue
words it ("holds in at least 90% of worlds"); the interval is reported beside it so that a
share of 0.9 from ten worlds is not mistaken for one from a thousand.

How a world's status counts:

* ``supported`` holds.
* ``not supported`` does not.
* ``depends`` does not hold: the claims are worded without a qualifier ("UBI increases
  participation"), and *depends* means that in this world the effect holds in one place or
  austerity path and goes the other way in another, so the claim as worded is not true there.
* ``cannot answer`` and ``not estimable`` are left out of the denominator and counted apart
  (``unanswered``): such a world says nothing either way, and counting it as "does not hold"
  would let a short horizon or a missing lever pass for evidence against the claim.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
from scipy.stats import binomtest

ROBUST = 0.9  # holds in at least this share of worlds (issue 17)
REJECTED = 0.1  # holds in at most this share of worlds (issue 17)
CONFIDENCE = 0.95

HOLDS = {"supported": True, "not supported": False, "depends": False}
UNANSWERED = ("cannot answer", "not estimable")
COLUMNS = ["claim", "worlds", "holds", "share", "low", "high", "verdict", "unanswered"]


def holds_column(table: pd.DataFrame) -> pd.Series:
    """Whether each (world, claim) row holds: the ``holds`` column, or read from ``status``; NA if unanswered."""
    if "holds" in table.columns:
        return table["holds"].astype("boolean")
    if "status" not in table.columns:
        raise ValueError("shares: the table needs a 'holds' (bool) or a 'status' column; it has "
                         f"{', '.join(map(str, table.columns))}")
    unknown = sorted(set(table["status"]) - set(HOLDS) - set(UNANSWERED))
    if unknown:
        raise ValueError(f"shares: status {', '.join(map(repr, unknown))} is not one of "
                         f"{', '.join(map(repr, [*HOLDS, *UNANSWERED]))}")
    return table["status"].map(HOLDS).astype("boolean")


def interval(holds: int, worlds: int) -> tuple[float, float]:
    """The 95% Clopper–Pearson interval for a share of ``holds`` out of ``worlds``.

    Clopper–Pearson rather than Wilson because the verdict is read near the ends (0.9, 0.1)
    and often at them (every world agrees), where Wilson's coverage falls below 95% (Brown,
    Cai & DasGupta 2001, Statistical Science 16:101); Clopper–Pearson's never does, at the
    price of a slightly wider interval, which is the side to err on for a claim called robust.
    """
    if worlds == 0:
        return float("nan"), float("nan")
    ci = binomtest(holds, worlds).proportion_ci(confidence_level=CONFIDENCE, method="exact")
    return float(ci.low), float(ci.high)


def verdict(holds: int, worlds: int) -> str:
    """*robust* if ``holds/worlds`` >= ROBUST, *rejected* if <= REJECTED, else *contested*.

    Compared as exact fractions: 27 of 30 worlds is 0.9 and must read robust, whatever
    rounding ``27 / 30`` would do in floating point.
    """
    if worlds == 0:
        return "cannot answer"
    share = Fraction(holds, worlds)
    if share >= Fraction(str(ROBUST)):
        return "robust"
    if share <= Fraction(str(REJECTED)):
        return "rejected"
    return "contested"


def shares(table: pd.DataFrame) -> pd.DataFrame:
    """Per claim: answered worlds, worlds where it holds, the share, its 95% interval, the verdict, unanswered.

    ``table`` has one row per (world, claim): columns ``world``, ``claim`` and ``holds`` (bool)
    or ``status`` (as ``analysis.claims`` gives it). Claims keep their first-seen order.
    """
    for column in ("world", "claim"):
        if column not in table.columns:
            raise ValueError(f"shares: the table needs a '{column}' column")
    if table.duplicated(["world", "claim"]).any():
        raise ValueError("shares: a (world, claim) pair appears more than once; each world judges a claim once")
    held = holds_column(table)
    rows = []
    for claim in dict.fromkeys(table["claim"]):
        answered = held[table["claim"] == claim]
        worlds, holds = int(answered.notna().sum()), int(answered.fillna(False).sum())
        low, high = interval(holds, worlds)
        rows.append({"claim": claim, "worlds": worlds, "holds": holds,
                     "share": holds / worlds if worlds else float("nan"), "low": low, "high": high,
                     "verdict": verdict(holds, worlds), "unanswered": int(answered.isna().sum())})
    return pd.DataFrame(rows, columns=COLUMNS)


def markdown(table: pd.DataFrame, seed: dict[str, str] | None = None) -> str:
    """``shares(...)`` as a markdown table, with each claim's seed-only status beside it when ``seed`` is given."""
    head = ["claim", *(["seed-only"] if seed is not None else []), "worlds", "holds in",
            "share [95% interval]", "ensemble verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table.itertuples(index=False):
        share = "n/a" if row.worlds == 0 else f"{row.share:.2f} [{row.low:.2f}, {row.high:.2f}]"
        worlds = f"{row.worlds}" + (f" (+{row.unanswered} unanswered)" if row.unanswered else "")
        cells = [row.claim, *([seed.get(row.claim, "—")] if seed is not None else []), worlds,
                 str(row.holds), share, row.verdict]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
