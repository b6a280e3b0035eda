"""ensemble_verdict.md: the ensemble verdict's tables and figures in words, every sentence read off them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from commonsabm.analysis.claims import CLAIMS
from commonsabm.analysis.ensemble import discovery, over_time, shares, stability


def depends(table: pd.DataFrame, found: dict[str, discovery.Discovery], seed: dict[str, str]) -> list[str]:
    """What the verdict depends on, from the boxes: per contested claim where it holds (or that nothing marks it
    out), the parameters that decide more than one claim, and where the seeds alone would have said more."""
    rows = table.set_index("claim")
    if not found:
        lines = ["No claim is contested: each holds in at least 90% or at most 10% of the worlds that answer it, "
                 "so no verdict here turns on where the uncertain parameters lie within the calibrated worlds."]
    else:
        lines = []
        for claim, d in found.items():
            said = f"**{claim}** holds in {d.holds} of {d.worlds} worlds"
            if d.status in ("box", "weak box"):
                lines.append(f"{said}; it holds {'mostly' if d.status == 'box' else 'more often'} where "
                             f"{discovery.describe(d)} (that box holds {d.coverage:.0%} of the worlds where the claim "
                             f"holds, and the claim holds in {d.density:.0%} of the worlds inside it).")
            else:
                lines.append(f"{said}; no range of the uncertain parameters marks out where: {d.message}.")
        deciders = defaultdict(list)
        for claim, d in found.items():
            for parameter in d.limits.index:
                deciders[parameter].append(claim)
        shared = {p: cs for p, cs in deciders.items() if len(cs) > 1}
        lines += [f"{p} decides more than one claim ({', '.join(cs)})." for p, cs in sorted(shared.items())]
    overstated = [c for c in rows.index if seed.get(c) == "supported" and rows.loc[c, "verdict"] != "robust"]
    if overstated:
        lines.append("With the seeds alone these read *supported*, but they do not hold in at least 90% of the "
                     "worlds: " + ", ".join(f"{c} ({rows.loc[c, 'verdict']}, {rows.loc[c, 'share']:.2f})"
                                            for c in overstated) + ".")
    return lines


def markdown(sweep_dir: Path, worlds: pd.DataFrame, summary: pd.DataFrame, table: pd.DataFrame,
             seed: dict[str, str], source: str, found: dict[str, discovery.Discovery],
             figures: dict[str, Path | None], checked: pd.DataFrame, start: str,
             over_time_figure: Path | None) -> str:
    cells = summary.groupby("world")["job"].nunique()
    out = ["# Ensemble verdict of the debate", "",
           f"Sweep: `{sweep_dir}`. {len(worlds)} calibrated worlds; in each, {int(cells.min())} completed cells "
           f"of the debate's factorial, {summary['replicate'].nunique()} replicates (seeds) each. Every claim is "
           "judged in each world as the debate sweep judges it (docs/validation.md; `analysis.verdict`).", "",
           "## Claims", "",
           *[f"- **{c.key}**: {c.words}" for c in CLAIMS], "",
           f"Seed-only: the verdict of {source}. Ensemble: the share of worlds in which the claim holds, with its "
           "95% Clopper–Pearson interval; *robust* if at least 0.9, *rejected* if at most 0.1, else *contested*. "
           "*depends* in a world counts as not holding; a world that cannot answer is left out and counted apart.",
           "", shares.markdown(table, seed),
           "## Where each contested claim holds", "",
           "PRIM (EMA Workbench) over the worlds' parameters: the box of highest coverage with density at least "
           f"{discovery.DENSITY_MIN}, restrictions with quasi-p above {discovery.SIGNIFICANCE} dropped.", ""]
    if found:
        out += [discovery.markdown(found)]
        out += [f"![{claim}]({path.name})\n" for claim, path in figures.items() if path is not None]
    else:
        out += ["No claim is contested.", ""]
    out += ["## What it depends on", "", *depends(table, found, seed), "",
            "## Replicates", "", stability.markdown(checked),
            "## Effects over time", "",
            f"Each claim's first contrast, year by year from the policy's start ({start}; year 0 is its first twelve "
            "months), estimated as the final year's is but on that year's mean: the median over the worlds and "
            f"the band from the {over_time.BAND[0]:.0%} to the {over_time.BAND[1]:.0%} point of the worlds "
            "(the spread of what we do not know, not a confidence interval).", "",
            *[f"- **{c.key}**: {c.parts[0].label}" for c in CLAIMS], ""]
    out += [f"![effects over time]({over_time_figure.name})", ""] if over_time_figure is not None else \
        ["No claim's effect could be estimated in any complete year after the policy's start.", ""]
    return "\n".join(out)
