"""Effects over time: each claim's effect by year from the policy's start, with its band across the worlds.

A final-year effect says where a policy ends up, not whether it got there steadily, late, or
by overshooting; issue 17 asks for the path beside it. Per claim (or metric) and year this
gives the median effect over the kept worlds and a band from the 5th to the 95th percentile
of the worlds: the spread of what we do not know, not a confidence interval.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from commonsabm.analysis.ensemble._plot import pyplot, save

BAND = (0.05, 0.95)  # the middle 90% of worlds: wide enough to show disagreement, not set by one odd world


def bands(table: pd.DataFrame, by: str = "claim", band: tuple[float, float] = BAND) -> pd.DataFrame:
    """Per ``by`` and ``year``: worlds, the median effect and the ``band`` quantiles across worlds.

    ``table`` has one row per (world, ``by``, year) with an ``effect``; ``year`` counts from the
    policy's start (0 = its first year). Quantiles interpolate linearly (numpy's default);
    a world with no effect that year (NaN) is left out of that year.
    """
    missing = [c for c in ["world", by, "year", "effect"] if c not in table.columns]
    if missing:
        raise ValueError(f"over_time: the table lacks {', '.join(missing)}")
    low, high = band
    if not 0 <= low < 0.5 < high <= 1:
        raise ValueError(f"over_time: band must be (low, high) with 0 <= low < 0.5 < high <= 1, got {band}")
    grouped = table.dropna(subset=["effect"]).groupby([by, "year"], sort=True)["effect"]
    out = grouped.agg(worlds="count", median="median",
                      low=lambda e: e.quantile(low), high=lambda e: e.quantile(high))
    out = out.reset_index()
    # claims in the order the table gives them (the debate's order, P1 first), years ascending within each
    order = {key: k for k, key in enumerate(dict.fromkeys(table[by]))}
    return out.sort_values([by, "year"], key=lambda c: c.map(order) if c.name == by else c, ignore_index=True)


def draw(banded: pd.DataFrame, path: Path | str, by: str = "claim", band: tuple[float, float] = BAND) -> Path:
    """One panel per claim: the median effect by year, the band shaded, and zero (no effect) marked."""
    plt = pyplot()
    keys = list(dict.fromkeys(banded[by]))
    cols = min(4, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        b = banded[banded[by] == key]
        ax.fill_between(b["year"], b["low"], b["high"], alpha=0.3,
                        label=f"{band[0]:.0%}–{band[1]:.0%} of worlds")
        ax.plot(b["year"], b["median"], marker="o", ms=3, label="median")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(title=str(key), xlabel="years from the policy's start", ylabel="effect")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    return save(fig, path)
