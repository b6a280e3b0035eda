"""Scenario discovery for a contested claim: the box of parameters in which it holds.

PRIM, the patient rule induction method (Friedman & Fisher 1999, Statistics and Computing
9:123), peels thin slices off the parameter space, each time the slice whose removal raises
the share of worlds inside where the claim holds the most, until the box is small; the
boxes along the way form the peeling trajectory, from large boxes that hold most of the
worlds where the claim holds (coverage) to small ones in which nearly every world has it
(density). Scenario discovery (Bryant & Lempert 2010, Technological Forecasting and Social
Change 77:34) reads one box off that trajectory as "the conditions under which the claim
holds", and judges each of its restrictions by a quasi-p value (a one-sided binomial test
of whether the restriction raises the density).

The algorithm is EMA Workbench's own (``ema_workbench.analysis.prim.Prim``, 3.0), run with
its defaults (lenient objective, 5% peels, 5% pastes, a box never under 5% of the worlds);
this module chooses the box and reads and draws it. The rule: of the boxes at least
``DENSITY_MIN`` dense, the one of highest coverage (``choose``); then each parameter whose
restriction is not significant (quasi-p > ``SIGNIFICANCE`` on every restricted side) is
dropped from it (``prune``), and coverage and density are those of the box that is left.
Too few worlds, or a claim that holds in all or none of them, give a result that says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from commonsabm.analysis.ensemble._plot import pyplot, save

# a box is a place where the claim holds when at least 4 worlds in 5 inside it have the claim: well
# above any contested claim's overall share (at most 0.9), below 1 so that a few odd worlds do not hide it
DENSITY_MIN = 0.8
SIGNIFICANCE = 0.05  # each restriction's quasi-p value at most this (Bryant & Lempert 2010)
MASS_MIN = 0.05  # EMA's default: no box under 5% of the worlds
# so that the smallest box PRIM keeps (5%) still holds two worlds: with fewer, a box is one world's accident
MIN_WORLDS = 40


@dataclass
class Discovery:
    """What scenario discovery found for one claim: a box, or in ``status`` and ``message`` why none."""
    # "box" | "weak box" (none reaches DENSITY_MIN) | "no box" | "all hold" | "none hold" | "too few worlds"
    status: str
    message: str
    worlds: int
    holds: int
    limits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["low", "high", "qp_low", "qp_high"]))
    coverage: float = math.nan  # share of the worlds where the claim holds that are inside the box
    density: float = math.nan  # share of the worlds inside the box where the claim holds
    mass: float = math.nan  # share of all worlds inside the box
    index: int | None = None  # the chosen box's place on the peeling trajectory
    trajectory: pd.DataFrame | None = None
    _prim_box: object = field(default=None, repr=False)  # EMA's PrimBox, kept to draw the box with EMA's own plot


def _prim():
    """EMA's PRIM, imported on first use: the workbench takes seconds to load and warns about
    optional parallel back ends (ipyparallel, altair) that scenario discovery does not use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _checked(x: pd.DataFrame, y) -> tuple[pd.DataFrame, np.ndarray]:
    """The parameters as floats on a fresh index, and ``y`` as 0/1: bad input raises one clear line."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"discovery: y must be one value per world ({len(x)}), got shape {y.shape}")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("discovery: y must be booleans (or 0/1): whether the claim holds in each world")
    not_numeric = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c])]
    if not_numeric:
        raise ValueError(f"discovery: parameters must be numeric; {', '.join(map(str, not_numeric))} are not")
    if x.isna().any().any():
        gaps = ", ".join(map(str, x.columns[x.isna().any()]))
        raise ValueError(f"discovery: parameters have missing values in {gaps}")
    # floats throughout: EMA peels integer columns by discrete steps, which a sampled parameter is not
    return x.astype(float).reset_index(drop=True), y.astype(int)


def choose(trajectory: pd.DataFrame, density_min: float = DENSITY_MIN) -> int | None:
    """The box to report: of the boxes that restrict something, the one with the highest coverage
    among those with density >= ``density_min``; ties go to the denser box, then to fewer
    restricted parameters. If none is that dense, the densest (the caller marks it weak). None
    if no box restricts anything.

    Highest coverage first because the question is "where does the claim hold": a box that
    leaves out worlds where it holds understates its reach; the density floor keeps the box a
    place where the claim mostly holds.
    """
    table = trajectory[trajectory["res_dim"] > 0]
    if table.empty:
        return None
    dense = table[table["density"] >= density_min]
    if dense.empty:
        return int(table.sort_values(["density", "coverage"], ascending=False).index[0])
    return int(dense.sort_values(["coverage", "density", "res_dim"], ascending=[False, False, True]).index[0])


def prune(prim_box, i: int, alpha: float = SIGNIFICANCE) -> int | None:
    """Drop, one at a time, each parameter none of whose restricted sides is significant (quasi-p
    <= ``alpha``), worst first, as Bryant & Lempert (2010) do; the box's place on the trajectory
    after that (EMA's ``drop_restriction`` appends the loosened box), or None if nothing is left.

    Greedy peeling sometimes takes an early slice off a parameter that does not matter, and the
    slice stays in every later box; it is noise, and a reader would take it for a condition.
    """
    while True:
        # EMA marks a side left at the range's edge with quasi-p -1; a parameter counts by its best side
        qps = {name: min((q for q in sides if q != -1), default=math.inf)
               for name, sides in prim_box.p_values[i].items()}
        if not qps:
            return None
        worst = max(qps, key=qps.get)
        if qps[worst] <= alpha:
            return i
        prim_box.drop_restriction(worst, i)
        i = len(prim_box.peeling_trajectory) - 1


def limits(prim_box, i: int) -> pd.DataFrame:
    """The limits of box ``i`` on the parameters it restricts: low, high, and the quasi-p value of each
    restricted side (NaN for a side left at the edge of the sampled range)."""
    start, lims, qps = prim_box.box_lims[0], prim_box.box_lims[i], prim_box.p_values[i]
    rows = {}
    for name in lims.columns:
        if (lims[name].to_numpy() == start[name].to_numpy()).all():
            continue
        qp_low, qp_high = (math.nan if q == -1 else float(q) for q in qps[name])
        rows[name] = {"low": float(lims[name].iloc[0]), "high": float(lims[name].iloc[1]),
                      "qp_low": qp_low, "qp_high": qp_high}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["low", "high", "qp_low", "qp_high"])


def _degenerate(worlds: int, holds: int) -> Discovery | None:
    """A result without running PRIM when there is nothing to discover, or too little to discover it from."""
    if worlds < MIN_WORLDS:
        return Discovery("too few worlds", f"{worlds} worlds; scenario discovery needs at least {MIN_WORLDS}",
                         worlds, holds)
    if holds == worlds:
        return Discovery("all hold", "the claim holds in every world: no box is needed", worlds, holds)
    if holds == 0:
        return Discovery("none hold", "the claim holds in no world: there is no box where it holds", worlds, holds)
    return None


def discover(x: pd.DataFrame, y, density_min: float = DENSITY_MIN) -> Discovery:
    """Run EMA's PRIM on the worlds' parameters ``x`` and whether the claim holds in each (``y``); choose a box."""
    x, y = _checked(x, y)
    worlds, holds = len(y), int(y.sum())
    early = _degenerate(worlds, holds)
    if early is not None:
        return early
    prim = _prim()
    with warnings.catch_warnings():
        # EMA 3.0 calls DataFrame.drop(inplace=True), which pandas 3 warns will go in pandas 4: not ours to fix
        warnings.filterwarnings("ignore", message="The inplace keyword", module="ema_workbench")
        box = prim.Prim(x, y, mass_min=MASS_MIN).find_box()
    chosen = choose(box.peeling_trajectory, density_min)
    i = None if chosen is None else prune(box, chosen)
    trajectory = box.peeling_trajectory
    if i is None:
        return Discovery("no box", f"no box on PRIM's trajectory keeps a restriction with quasi-p <= {SIGNIFICANCE}",
                         worlds, holds, trajectory=trajectory, _prim_box=box)
    row = trajectory.loc[i]
    weak = row["density"] < density_min
    status, message = ("weak box", f"no box reaches density {density_min}; the densest is shown") if weak \
        else ("box", f"the box of highest coverage with density >= {density_min}, restrictions with "
                     f"quasi-p > {SIGNIFICANCE} dropped")
    return Discovery(status, message, worlds, holds, limits(box, i), float(row["coverage"]), float(row["density"]),
                     float(row["mass"]), i, trajectory, box)


def describe(found: Discovery, digits: int = 3) -> str:
    """The box in words, one restriction per parameter ("0.21 <= a <= 0.6; b >= 0.49"), or why there is none."""
    if found.limits.empty:
        return found.message
    parts = []
    for name, row in found.limits.iterrows():
        low, high = not math.isnan(row["qp_low"]), not math.isnan(row["qp_high"])
        lo, hi = f"{row['low']:.{digits}g}", f"{row['high']:.{digits}g}"
        parts.append(f"{lo} <= {name} <= {hi}" if low and high else f"{name} >= {lo}" if low else f"{name} <= {hi}")
    return "; ".join(parts)


def markdown(found: dict[str, Discovery]) -> str:
    """One row per claim: the box, its coverage, density and mass, or why there is none."""
    lines = ["| claim | where it holds (PRIM box) | coverage | density | mass | worlds (holds) |",
             "|---|---|---|---|---|---|"]
    for claim, d in found.items():
        stats = ["n/a"] * 3 if d.index is None else [f"{d.coverage:.2f}", f"{d.density:.2f}", f"{d.mass:.2f}"]
        where = describe(d) + (" (weak: below the density floor)" if d.status == "weak box" else "")
        lines.append(f"| {claim} | {where} | {' | '.join(stats)} | {d.worlds} ({d.holds}) |")
    return "\n".join(lines) + "\n"


def draw(found: Discovery, path: Path | str, title: str = "") -> Path | None:
    """EMA's own drawing of the box's limits above the peeling trajectory (coverage against density,
    the chosen box ringed); None, and nothing written, when there is no box to draw."""
    if found.index is None:
        return None
    plt = pyplot()
    fig, (limits_ax, trade) = plt.subplots(2, 1, figsize=(9, 8), gridspec_kw={"height_ratios": [1, 1.2]})
    plt.sca(limits_ax)  # EMA's plot_box draws on the current figure and sets its margins
    found._prim_box.inspect(found.index, style="graph", ax=limits_ax)
    limits_ax.set_title(f"box {found.index}: the limits (quasi-p value) on each restricted parameter")
    t = found.trajectory
    points = trade.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    trade.scatter([found.coverage], [found.density], s=160, facecolors="none", edgecolors="red",
                  label=f"chosen: coverage {found.coverage:.2f}, density {found.density:.2f}")
    trade.set(xlabel="coverage", ylabel="density", xlim=(0, 1.05), ylim=(0, 1.05), title="PRIM peeling trajectory")
    fig.colorbar(points, ax=trade, label="restricted parameters")
    trade.legend(loc="lower left")
    fig.subplots_adjust(left=0.25, right=0.8, hspace=0.35)  # room for EMA's parameter labels and its stats table
    if title:
        fig.suptitle(title)
    return save(fig, path)
