"""Enough runs, shown: the number of replicates per cell from a variance-stability check.

Lee et al. (2015, "The complexities of agent-based modeling output analysis", JASSS 18(4):4,
section on variance stability) choose the number of runs as the point where the
coefficient of variation (standard deviation over mean) of each output levels off as runs
are added; following Lorscheid, Heine & Meyer (2012, Computational and Mathematical
Organization Theory 18:22), "levels off" is made exact as: from that number of runs on,
adding one more changes the CV by less than a tolerance.

The rule is applied to the CV of the metric across replicates, as they do, not to the CV
of its mean: the CV of the mean (the relative standard error, CV/√n) falls with every run
added whatever the model does, so it never levels off; it is reported beside, as the
precision the chosen number of replicates buys. Replicates are taken in their own order
(replicate 0, 1, ...: the seeds' order), so the check is reproducible and is what adding
runs one at a time would have shown.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from commonsabm.analysis.ensemble._plot import pyplot, save

# A change of less than 0.01 in a CV: below what a CV printed to two places shows. A metric
# whose CV is itself under about 0.05 (a very steady level) may want a smaller one.
TOLERANCE = 0.01
MIN_REPLICATES = 2  # a standard deviation needs two


def cv_curve(values) -> pd.DataFrame:
    """For n = 2..N of the replicates in order: the mean, the CV (sd/|mean|) and the CV of the mean (CV/√n)."""
    v = np.asarray(values, dtype=float)
    rows = []
    for n in range(MIN_REPLICATES, len(v) + 1):
        mean, sd = float(v[:n].mean()), float(v[:n].std(ddof=1))
        cv = sd / abs(mean) if mean != 0 else math.nan  # a CV needs a mean away from 0 (a level, not an effect)
        rows.append({"n": n, "mean": mean, "cv": cv, "cv_of_mean": cv / math.sqrt(n)})
    return pd.DataFrame(rows, columns=["n", "mean", "cv", "cv_of_mean"])


def stable_n(curve: pd.DataFrame, tolerance: float = TOLERANCE) -> int | None:
    """The smallest n from which every further replicate changes the CV by less than ``tolerance``;
    None if the last step still moves it that much (more replicates are needed to say)."""
    if tolerance <= 0:
        raise ValueError(f"stability: tolerance must be positive, got {tolerance}")
    cv = curve["cv"].to_numpy()
    if len(cv) < 2 or np.isnan(cv).any():
        return None
    big = np.flatnonzero(np.abs(np.diff(cv)) >= tolerance)  # step k goes from curve row k to row k+1
    if len(big) == 0:
        return int(curve["n"].iloc[0])
    last = big[-1] + 1  # the row after the last large step: from there on every step is small
    return int(curve["n"].iloc[last]) if last < len(cv) - 1 else None


def curves(table: pd.DataFrame, metrics: list[str], cell: str = "job") -> pd.DataFrame:
    """``cv_curve`` of each metric in each cell; ``table`` has one row per (cell, replicate)."""
    missing = [c for c in [cell, "replicate", *metrics] if c not in table.columns]
    if missing:
        raise ValueError(f"stability: the table lacks {', '.join(missing)}")
    parts = []
    for key, rows in table.sort_values([cell, "replicate"]).groupby(cell, sort=True):
        for metric in metrics:
            parts.append(cv_curve(rows[metric]).assign(**{cell: key, "metric": metric}))
    return pd.concat(parts, ignore_index=True)[[cell, "metric", "n", "mean", "cv", "cv_of_mean"]]


def check(table: pd.DataFrame, metrics: list[str], cell: str = "job", tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Per metric: the replicates it needs (the largest over cells, since every cell runs as many), the
    cell that needs most (NA if any cell has not levelled off by the last replicate), how many cells
    have not, and the CV and CV of the mean there."""
    all_curves = curves(table, metrics, cell)
    rows = []
    for metric in metrics:
        of_metric = all_curves[all_curves["metric"] == metric]
        per_cell = {key: (stable_n(c, tolerance), c) for key, c in of_metric.groupby(cell)}
        unstable = [key for key, (n, _) in per_cell.items() if n is None]
        worst = max(per_cell, key=lambda key: math.inf if per_cell[key][0] is None else per_cell[key][0])
        n, c = per_cell[worst]
        at = c[c["n"] == n].iloc[0] if n is not None else c.iloc[-1]
        rows.append({"metric": metric, "replicates_needed": None if unstable else n, "worst_cell": worst,
                     "unstable_cells": len(unstable), "cells": len(per_cell),
                     "cv": float(at["cv"]), "cv_of_mean": float(at["cv_of_mean"]), "replicates_run": int(c["n"].max())})
    result = pd.DataFrame(rows)
    # a nullable integer column, so that one metric not levelled off (NA) does not turn the others' counts into floats
    result["replicates_needed"] = result["replicates_needed"].astype("Int64")
    return result


def markdown(result: pd.DataFrame, tolerance: float = TOLERANCE) -> str:
    """The check as a table, with the rule in one line above it."""
    lines = [f"Replicates needed: the smallest n from which one more replicate changes each metric's CV by less "
             f"than {tolerance} in every cell (Lee et al. 2015).", "",
             "| metric | replicates needed | run | cells not levelled off | CV there | CV of the mean there |",
             "|---|---|---|---|---|---|"]
    for r in result.itertuples(index=False):
        needed = "more than run" if pd.isna(r.replicates_needed) else str(r.replicates_needed)
        lines.append(f"| {r.metric} | {needed} | {r.replicates_run} | {r.unstable_cells} of {r.cells} | "
                     f"{r.cv:.3f} | {r.cv_of_mean:.3f} |")
    return "\n".join(lines) + "\n"


def draw(all_curves: pd.DataFrame, path: Path | str, cell: str = "job", result: pd.DataFrame | None = None) -> Path:
    """One panel per metric: the CV against replicates, a line per cell, the replicates needed marked."""
    plt = pyplot()
    metrics = list(dict.fromkeys(all_curves["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for key, c in all_curves[all_curves["metric"] == metric].groupby(cell):
            ax.plot(c["n"], c["cv"], lw=0.8, alpha=0.6)
        if result is not None:
            needed = result.set_index("metric").loc[metric, "replicates_needed"]
            if not pd.isna(needed):
                ax.axvline(needed, color="black", ls="--", lw=1, label=f"needed: {int(needed)}")
                ax.legend(loc="upper right")
        ax.set(title=metric, xlabel="replicates", ylabel="CV (sd / mean)")
    fig.tight_layout()
    return save(fig, path)
