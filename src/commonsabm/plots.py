"""overview.png: the run at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .council import CHANNELS  # noqa: E402
from .organisation import KINDS  # noqa: E402


def overview(series: pd.DataFrame, path: Path, title: str = "") -> None:
    """Commons organisations by type, volunteering, council spending by channel and the LM3."""
    when = pd.to_datetime(series["date"], format="%Y-%m")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    ax = axes[0, 0]
    for kind in KINDS:
        ax.plot(when, series[f"orgs_{kind}"], label=kind)
    ax.set(title="Commons organisations", ylabel="per 100,000 residents", yscale="log")
    ax.legend(fontsize=8)
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
