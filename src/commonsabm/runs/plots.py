"""overview.png: the run at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from commonsabm.sim.terms import CHANNELS  # noqa: E402


def overview(series: pd.DataFrame, path: Path, title: str = "") -> None:
    """Commons organisations by type, volunteering, council spending by channel and the LM3."""
    when = pd.to_datetime(series["date"], format="%Y-%m")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    ax = axes[0, 0]
    # voluntary groups outnumber trading types by ~20 to 1, so trading types get their own axis
    ax.plot(when, series["orgs_vcs"], label="vcs (left axis)", color="tab:green")
    ax.set(title="Commons organisations", ylabel="vcs per 100,000 residents", ylim=(0, None))
    right = ax.twinx()
    for kind, colour in (("coop", "tab:blue"), ("community_business", "tab:orange")):
        right.plot(when, series[f"orgs_{kind}"], label=f"{kind} (right axis)", color=colour)
    right.set(ylabel="trading types per 100,000", ylim=(0, None))
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="lower left")
    ax = axes[0, 1]
    ax.plot(when, 100 * series["volunteering_rate"], color="tab:green")
    ax.set(title="Monthly formal volunteering", ylabel="% of residents")
    ax = axes[1, 0]
    ax.stackplot(when, *[series[f"council_spend_{c}"] for c in CHANNELS], labels=CHANNELS)
    ax.set(title="Council spending by channel", ylabel="GBP per resident per month")
    ax.legend(fontsize=7, loc="upper right")
    ax = axes[1, 1]
    ax.plot(when, series["local_multiplier"], color="tab:purple")
    ax.set(title="Local multiplier (LM3) of council spending", ylabel="ratio")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
