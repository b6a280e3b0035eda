"""The debate sweep's verdict: each lever's effect, the interactions and the claims table.

``write_verdict(sweep_dir)`` reads the sweep with ``load_sweep`` (completed rows only) and
writes ``verdict.md``, ``verdict_main_effects.png`` and ``verdict_interactions.png`` into
the sweep directory. A multirun whose config sets ``verdict: true`` (``+experiment=debate``)
calls it when it ends; ``python -m commonsabm.analysis.verdict DIR [--sensitivity PATH]``
does the same at any time. The estimator is in ``analysis.estimates``, the claims in
``analysis.claims``, and what each metric is sensitive to is read from a sensitivity
analysis's output (``analysis.findings``). A claim the sweep cannot answer (too short a
horizon, a lever or level not run, a single replicate) is marked so, with what is missing,
in verdict.md and on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from commonsabm.analysis.claims import CLAIMS, ClaimResult, judge
from commonsabm.analysis.estimates import FACTORS, Estimate, _factors, completed, effect, interaction  # noqa: F401
from commonsabm.analysis.findings import Findings
from commonsabm.runs.jobs import atomic_write
from commonsabm.runs.sweep import load_sweep

VERDICT_FILE = "verdict.md"
MAIN_FIGURE = "verdict_main_effects.png"
INTERACTION_FIGURE = "verdict_interactions.png"

# each lever's contrasts: (lever, level, reference level, label)
CONTRASTS: list[tuple[str, str, str, str]] = [
    ("ubi", "modest", "none", "UBI modest vs none"),
    ("ubi", "full", "none", "UBI full vs none"),
    ("austerity", "reversed", "continued", "austerity reversed vs continued"),
    ("procurement", "reformed", "prime_biased", "procurement reformed vs prime-biased"),
    ("sanctions", "ended", "punitive", "sanctions ended vs punitive"),
    ("investment_fund", "present", "none", "investment fund present vs none"),
    ("place", "affluent_southern", "deprived_northern", "place affluent southern vs deprived northern"),
]
METRICS: dict[str, str] = {
    "orgs_total_final": "commons organisations per 100,000",
    "volunteering_rate_final": "monthly volunteering (share)",
    "commons_share_total_final": "commons share of service delivery",
    "unmet_need_final": "unmet need (share of need)",
    "local_multiplier_final": "local multiplier (LM3)",
}
INTERACTIONS: list[tuple[str, str, str]] = [
    # (moderator, its level, its reference): the UBI effect under level minus under reference
    ("austerity", "reversed", "continued"),
    ("procurement", "reformed", "prime_biased"),
]
# ------------------------------------------------------------------ the report
@dataclass
class Verdict:
    main: pd.DataFrame  # contrast x metric -> Estimate
    interactions: pd.DataFrame
    claims: list[ClaimResult]
    cells: int
    replicates: int
    failed: int
    findings: Findings
    end: str | None = None  # the last month every completed replicate reached


def sweep_end(monthly: pd.DataFrame) -> str | None:
    """The last month every completed replicate of a sweep reached (``load_sweep(...).monthly``): its horizon."""
    if monthly.empty or "date" not in monthly.columns:
        return None
    return str(monthly.groupby(["job", "replicate"])["date"].max().min())


def compute(summary: pd.DataFrame, findings: Findings | None = None, end: str | None = None) -> Verdict:
    """The verdict of a sweep's summary; ``end`` is ``sweep_end(monthly)`` (claims about a year need it)."""
    findings = Findings.read() if findings is None else findings
    df = completed(summary)
    main = pd.DataFrame({metric: [effect(df, lever, level, ref, metric) for lever, level, ref, _ in CONTRASTS]
                         for metric in METRICS}, index=[label for *_, label in CONTRASTS], dtype=object)
    rows, labels = [], []
    for moderator, mod_level, mod_ref in INTERACTIONS:
        for ubi in ("modest", "full"):
            labels.append(f"UBI {ubi} × {moderator} {mod_level} (vs {mod_ref})")
            rows.append([interaction(df, "ubi", ubi, "none", moderator, mod_level, mod_ref, metric)
                         for metric in METRICS])
    inter = pd.DataFrame(rows, index=labels, columns=list(METRICS), dtype=object)
    claims = [judge(df, claim, findings, end) for claim in CLAIMS]
    cells = df[_factors(df)].drop_duplicates().shape[0] if _factors(df) else int(df["job"].nunique())
    failed = int(summary.loc[summary["state"] != "completed", "job"].nunique())
    return Verdict(main, inter, claims, cells, int(df["replicate"].nunique()), failed, findings, end)


def cannot_answer(verdict: Verdict) -> list[str]:
    """One line per claim the sweep cannot answer, naming what it lacks."""
    return [f"{r.claim.key} cannot be answered by this sweep: {'; '.join(r.missing)}"
            for r in verdict.claims if r.missing]


def _table(frame: pd.DataFrame, first: str) -> list[str]:
    lines = [f"| {first} | " + " | ".join(METRICS[m] for m in frame.columns) + " |",
             "|---" * (len(frame.columns) + 1) + "|"]
    for label, row in frame.iterrows():
        lines.append(f"| {label} | " + " | ".join(e.text() for e in row) + " |")
    return lines


def markdown(verdict: Verdict, sweep_dir: Path) -> str:
    out = [
        "# Verdict of the debate sweep", "",
        f"Sweep: `{sweep_dir}`. {verdict.cells} cells completed, {verdict.replicates} replicates "
        f"(seeds) each; {verdict.failed} jobs not completed (left out).", "",
        "Each effect is a mean difference over replicates with its 95% interval "
        "(mean ± 1.96 × SD/√n across replicates). Cells that differ only in the lever and share a "
        "replicate index (the same seed: common random numbers) are paired; the differences are "
        "averaged over the other levers' cells within each replicate. Metrics are the mean of "
        "the final 12 months of each run." + (f" The runs end in {verdict.end}." if verdict.end else ""), "",
        *_cannot_answer_block(verdict),
        "## Claims", "",
        "| claim | wording | contrast (metric) | estimate [95% CI] | verdict | depends on |",
        "|---|---|---|---|---|---|",
    ]
    for result in verdict.claims:
        contrasts = "<br>".join(p.label for p in result.claim.parts)
        estimates = "<br>".join(e.text() for e in result.estimates)
        words = result.claim.words + (f" *({result.claim.note})*" if result.claim.note else "")
        out.append(f"| {result.claim.key} | {words} | {contrasts} | {estimates} | **{result.status}** | "
                   f"{result.depends_on} |")
    out += ["", "Verdicts: *supported*: every interval excludes 0 in the claimed direction (or, for a claim "
            "whose parts combine with 'any', one part's does); *not supported*: an interval includes 0 or excludes it the other way; "
            "*depends*: the claimed effect holds in one place or austerity path and has the opposite sign "
            "in another (named, with the estimates); *cannot answer*: the sweep lacks the horizon, a lever's "
            "level or the replicates the claim needs (listed above the table; the estimates are what the "
            "sweep gives, not a verdict). 'sensitivity' names the parameters whose Morris "
            f"mu* exceeds the seed noise, most influential first, read from {verdict.findings.source} "
            "(method: docs/validation.md §2).", "",
            "## Main effects", "", *_table(verdict.main, "lever"), "",
            "## Interactions (difference of differences)", "",
            "The UBI effect (vs none) under the named level minus under the reference level.", "",
            *_table(verdict.interactions, "interaction"), "",
            "## Figures", "", f"![main effects]({MAIN_FIGURE})", "", f"![interactions]({INTERACTION_FIGURE})", ""]
    return "\n".join(out)


def _cannot_answer_block(verdict: Verdict) -> list[str]:
    lines = [f"- **{r.claim.key}**: " + "; ".join(r.missing) for r in verdict.claims if r.missing]
    if not lines:
        return []
    return ["## Cannot answer", "",
            "This sweep lacks what these claims need (the year they speak of, a lever or level they "
            "compare, or two replicates for an interval), so they are marked *cannot answer*:", "",
            *lines, ""]


def _plot_main(verdict: Verdict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 4.5), sharey=True)
    labels = list(verdict.main.index)
    y = np.arange(len(labels))
    for ax, metric in zip(axes, METRICS):
        ests = verdict.main[metric]
        means = np.array([e.mean for e in ests])
        err = np.array([[e.mean - e.low, e.high - e.mean] for e in ests]).T
        ax.errorbar(means, y, xerr=np.nan_to_num(err), fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set(title=METRICS[metric], yticks=y)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].set_yticklabels(labels, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("Main effects with 95% intervals across seeds")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)


def _plot_interactions(df: pd.DataFrame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(INTERACTIONS), len(METRICS), figsize=(4 * len(METRICS), 3.6 * len(INTERACTIONS)),
                             squeeze=False)
    for row, (moderator, mod_level, mod_ref) in enumerate(INTERACTIONS):
        for col, metric in enumerate(METRICS):
            ax = axes[row, col]
            for offset, level in ((-0.1, mod_ref), (0.1, mod_level)):
                ests = [effect(df, "ubi", ubi, "none", metric, {moderator: level}) for ubi in ("modest", "full")]
                means = np.array([e.mean for e in ests])
                err = np.nan_to_num(np.array([[e.mean - e.low, e.high - e.mean] for e in ests]).T)
                ax.errorbar(np.arange(2) + offset, means, yerr=err, fmt="o", capsize=3, label=f"{moderator} {level}")
            ax.axhline(0, color="grey", lw=0.8)
            ax.set(xticks=[0, 1], xticklabels=["UBI modest", "UBI full"], title=METRICS[metric])
            ax.title.set_fontsize(9)
            if col == 0:
                ax.set_ylabel(f"UBI effect by {moderator}")
                ax.legend(fontsize=7)
    fig.suptitle("UBI × austerity and UBI × procurement: the UBI effect (vs none) at each level, 95% intervals")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)


def write_verdict(sweep_dir: str | os.PathLike, sensitivity: str | os.PathLike | None = None) -> Path:
    """Write verdict.md and its figures into the sweep directory; return verdict.md's path.

    ``sensitivity`` is a sensitivity analysis's output directory; by default the packaged copy.
    Each claim the sweep cannot answer is also named on stderr, with what is missing.
    """
    sweep_dir = Path(sweep_dir)
    results = load_sweep(sweep_dir)
    summary = results.summary
    df = completed(summary)
    if df.empty:
        raise ValueError(f"{sweep_dir}: no completed jobs to judge")
    verdict = compute(summary, Findings.read(sensitivity), sweep_end(results.monthly))
    for line in cannot_answer(verdict):
        print(f"commonsabm.analysis.verdict: warning: {line}", file=sys.stderr)
    _plot_main(verdict, sweep_dir / MAIN_FIGURE)
    _plot_interactions(df, sweep_dir / INTERACTION_FIGURE)
    path = sweep_dir / VERDICT_FILE
    text = markdown(verdict, sweep_dir)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commonsabm.analysis.verdict",
                                     description="Write verdict.md and its figures for a debate sweep.")
    parser.add_argument("sweep_dir", help="the sweep directory (hydra.sweep.dir)")
    parser.add_argument("--sensitivity", default=None, help="a sensitivity analysis's output directory "
                        "(default: the packaged copy of the latest default-size analysis)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        path = write_verdict(args.sweep_dir, args.sensitivity)
    except Exception as exc:  # noqa: BLE001 - one line for the user
        print(f"commonsabm.analysis.verdict: error: {exc}", file=sys.stderr)
        return 1
    print(f"verdict: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
