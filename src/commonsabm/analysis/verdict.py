"""The debate sweep's verdict: each lever's effect, the interactions and the claims table.

``write_verdict(sweep_dir)`` reads the sweep with ``load_sweep`` (completed rows only) and
writes ``verdict.md``, ``verdict_main_effects.png`` and ``verdict_interactions.png`` into
the sweep directory. ``+experiment=debate`` calls it when the multirun ends
(``AggregateSweep`` in ``cli.py``); ``python -m commonsabm.analysis.verdict DIR`` does the same at
any time.

**Method.** Every cell of the factorial runs replicates 0..n-1 seeded by the same child
seeds (common random numbers). A lever's effect is estimated per replicate: pair each cell
at the lever's level with the cell at the reference level that differs in that lever
only and shares the replicate index, take the difference, and average the differences
over the other levers' cells. The estimate is the mean over replicates, with a 95%
interval of ± 1.96 × SD / √n across the n replicates. A two-way interaction is the
difference of two such differences (the UBI effect under one level of the other lever
minus under its reference level), estimated the same way.

A claim is *supported* when every interval it rests on excludes 0 in the claimed
direction, *not supported* when an interval includes 0 or excludes it the other way, and
*depends* when the claimed effect holds (interval excludes 0 the claimed way) in one place
or austerity path and goes the other way (estimate of the opposite sign) in another.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from commonsabm.runs.jobs import atomic_write
from commonsabm.runs.sweep import load_sweep

VERDICT_FILE = "verdict.md"
MAIN_FIGURE = "verdict_main_effects.png"
INTERACTION_FIGURE = "verdict_interactions.png"
Z95 = 1.96

# the sweep's levers: column -> reference level (the UK 2010-2020 path, and the deprived place)
FACTORS: dict[str, str] = {
    "ubi": "none",
    "austerity": "continued",
    "procurement": "prime_biased",
    "sanctions": "punitive",
    "investment_fund": "none",
    "place": "deprived_northern",
}
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
# The parameters each output depends on most, from the global sensitivity analysis of the
# calibrated baseline (docs/validation.md §2: Morris mu* and Sobol indices).
SENSITIVITY: dict[str, str] = {
    "orgs_total_final": ("behaviour.motivation_alpha (leads); founding_rate, demonstration_effect, "
                         "free_time_response, procurement.subcontract_rate and subcontract_payment_days "
                         "(order not resolved)"),
    "volunteering_rate_final": "behaviour.motivation_alpha (S1 ≈ 1); free_time_response second",
    "commons_share_total_final": "procurement.subcontract_rate and subcontract_payment_days",
    "local_multiplier_final": "none of the nine parameters moves it beyond seed noise",
    "unmet_need_final": "not an output of the sensitivity analysis",
    "claimant_commoning_hours_final": "not an output of the sensitivity analysis",
    "trading_growth": "not an output of the sensitivity analysis",
    "vcs_growth": "not an output of the sensitivity analysis",
}
UBI_NOTE = "behaviour.ubi_hours_response untested (the baseline pays no UBI: run +experiment=sensitivity ubi=full)"


# ------------------------------------------------------------------ estimates
@dataclass
class Estimate:
    """A mean difference over replicates with its 95% interval (NaN when it cannot be estimated)."""
    mean: float = math.nan
    low: float = math.nan
    high: float = math.nan
    n: int = 0

    @classmethod
    def of(cls, per_replicate: pd.Series) -> "Estimate":
        values = pd.Series(per_replicate, dtype=float).dropna()
        n = len(values)
        if n == 0:
            return cls()
        mean = float(values.mean())
        if n < 2:
            return cls(mean, math.nan, math.nan, n)
        half = Z95 * float(values.std(ddof=1)) / math.sqrt(n)
        return cls(mean, mean - half, mean + half, n)

    def status(self, sign: int) -> str:
        """'supported' if the interval excludes 0 in the direction ``sign`` (+1 or -1), else 'not supported'."""
        if math.isnan(self.low) or math.isnan(self.high):
            return "not estimable"
        return "supported" if (self.low > 0 if sign > 0 else self.high < 0) else "not supported"

    def text(self, digits: int = 3) -> str:
        if math.isnan(self.mean):
            return "n/a"
        if math.isnan(self.low):
            return f"{_fmt(self.mean, digits)} (n={self.n}, no interval)"
        return f"{_fmt(self.mean, digits)} [{_fmt(self.low, digits)}, {_fmt(self.high, digits)}]"


def _fmt(x: float, digits: int) -> str:
    return f"{x:+.{digits}g}" if abs(x) < 10 ** digits else f"{x:+.0f}"


def completed(summary: pd.DataFrame) -> pd.DataFrame:
    """The completed rows of a sweep summary, with each lever's column as text (absent levers dropped)."""
    done = summary[summary["state"] == "completed"].copy()
    for factor in FACTORS:
        if factor in done.columns:
            done[factor] = done[factor].astype(str)
    return done


def _factors(df: pd.DataFrame, *exclude: str) -> list[str]:
    return [f for f in FACTORS if f in df.columns and f not in exclude]


def _filter(df: pd.DataFrame, where: dict[str, str] | None) -> pd.DataFrame:
    for column, value in (where or {}).items():
        if column not in df.columns:
            if value != FACTORS.get(column):
                return df.iloc[0:0]
            continue  # the lever was not swept: every job ran at its reference level
        df = df[df[column] == value]
    return df


def paired_differences(df: pd.DataFrame, lever: str, level: str, reference: str, metric: str) -> pd.Series:
    """metric(level) - metric(reference) for each cell of the other levers and replicate (CRN pairs)."""
    if lever not in df.columns or metric not in df.columns:
        return pd.Series(dtype=float)
    index = _factors(df, lever) + ["replicate"]
    wide = df.pivot_table(index=index, columns=lever, values=metric, aggfunc="mean", observed=True)
    if level not in wide.columns or reference not in wide.columns:
        return pd.Series(dtype=float)
    return (wide[level] - wide[reference]).dropna()


def per_replicate(differences: pd.Series) -> pd.Series:
    """Average cell differences over the other levers, one value per replicate."""
    if differences.empty:
        return differences
    return differences.groupby(level="replicate").mean()


def effect(df: pd.DataFrame, lever: str, level: str, reference: str, metric: str,
           where: dict[str, str] | None = None) -> Estimate:
    """The main effect of ``lever`` (``level`` vs ``reference``) on ``metric``, optionally within ``where``."""
    return Estimate.of(per_replicate(paired_differences(_filter(df, where), lever, level, reference, metric)))


def interaction(df: pd.DataFrame, lever: str, level: str, reference: str,
                moderator: str, mod_level: str, mod_reference: str, metric: str,
                where: dict[str, str] | None = None) -> Estimate:
    """Difference of differences: the lever's effect under ``mod_level`` minus under ``mod_reference``."""
    diffs = paired_differences(_filter(df, where), lever, level, reference, metric)
    if diffs.empty or moderator not in diffs.index.names:
        return Estimate()
    wide = diffs.unstack(moderator)
    if mod_level not in wide.columns or mod_reference not in wide.columns:
        return Estimate()
    return Estimate.of(per_replicate((wide[mod_level] - wide[mod_reference]).dropna()))


def change(df: pd.DataFrame, metrics: list[str], where: dict[str, str] | None = None) -> Estimate:
    """Mean change over the run (sum of X_final - X_start over ``metrics``), per replicate over the cells."""
    sub = _filter(df, where)
    if sub.empty or not all(f"{m}_final" in sub.columns for m in metrics):
        return Estimate()
    delta = sum(sub[f"{m}_final"] - sub[f"{m}_start"] for m in metrics)
    return Estimate.of(delta.groupby(sub["replicate"]).mean())


def package_place_gap(df: pd.DataFrame, metric: str) -> Estimate:
    """S1: (the full package minus the baseline) in the deprived place minus in the affluent one."""
    package = {"ubi": "full", "austerity": "reversed", "procurement": "reformed",
               "sanctions": "ended", "investment_fund": "present"}
    base = {k: FACTORS[k] for k in package}
    if "place" not in df.columns:
        return Estimate()

    def cell(levels: dict[str, str], place: str) -> pd.Series:
        sub = _filter(df, {**levels, "place": place})
        return sub.groupby("replicate")[metric].mean()

    gaps = {}
    for place in ("deprived_northern", "affluent_southern"):
        gaps[place] = cell(package, place) - cell(base, place)
    return Estimate.of((gaps["deprived_northern"] - gaps["affluent_southern"]).dropna())


# ------------------------------------------------------------------ claims
@dataclass
class Part:
    """One contrast a claim rests on: how to estimate it (optionally within a stratum) and its sign."""
    label: str
    metric: str  # a key of SENSITIVITY
    sign: int
    estimate: "callable"  # (df, where) -> Estimate
    fixed: dict[str, str] = field(default_factory=dict)  # strata the claim itself fixes


@dataclass
class Claim:
    key: str
    words: str
    parts: list[Part]
    moderators: tuple[str, ...]  # levers across whose levels the claim may change sign
    note: str = ""
    ubi: bool = False


def _effect_part(label, lever, level, reference, metric, sign, fixed=None) -> Part:
    fixed = fixed or {}
    return Part(label, metric, sign,
                lambda df, where: effect(df, lever, level, reference, metric, {**fixed, **(where or {})}), fixed)


def _interaction_part(label, moderator, mod_level, mod_reference, metric, sign) -> Part:
    return Part(label, metric, sign, lambda df, where: interaction(
        df, "ubi", "full", "none", moderator, mod_level, mod_reference, metric, where))


CONTINUED = {"austerity": "continued"}
CLAIMS: list[Claim] = [
    Claim("P1", "Parker: under continued austerity, UBI increases commons participation and the number "
                "of commons organisations by 2030.",
          [_effect_part("volunteering, UBI full − none, austerity continued", "ubi", "full", "none",
                        "volunteering_rate_final", +1, CONTINUED),
           _effect_part("organisations, UBI full − none, austerity continued", "ubi", "full", "none",
                        "orgs_total_final", +1, CONTINUED)],
          ("place",), ubi=True),
    Claim("P2", "Parker: a social investment fund plus commissioning that scales the commons grows the "
                "commons even with austerity continuing.",
          [_effect_part("organisations, fund present − none, austerity continued", "investment_fund",
                        "present", "none", "orgs_total_final", +1, CONTINUED)],
          ("place",), note="the sweep does not cross commissioning; the contrast is the fund alone"),
    Claim("P3", "Parker: trading organisations (coop, community_business) grow under austerity while "
                "grant-funded ones (vcs) decline.",
          [Part("trading organisations, final year − first month, austerity continued", "trading_growth", +1,
                lambda df, where: change(df, ["orgs_coop", "orgs_community_business"], {**CONTINUED, **(where or {})}),
                CONTINUED),
           Part("vcs organisations, final year − first month, austerity continued", "vcs_growth", -1,
                lambda df, where: change(df, ["orgs_vcs"], {**CONTINUED, **(where or {})}), CONTINUED)],
          ("place",), note="change over the run (final year minus first month), averaged over the other levers"),
    Claim("D1", "Davies and Bua: austerity reduces the number of commons organisations.",
          [_effect_part("organisations, austerity continued − reversed", "austerity", "continued", "reversed",
                        "orgs_total_final", -1)],
          ("place",)),
    Claim("D2", "Davies and Bua: prime-biased procurement lowers the commons' share of service delivery "
                "and the money that stays local.",
          [_effect_part("commons share, prime-biased − reformed", "procurement", "prime_biased", "reformed",
                        "commons_share_total_final", -1),
           _effect_part("local multiplier, prime-biased − reformed", "procurement", "prime_biased", "reformed",
                        "local_multiplier_final", -1)],
          ("place", "austerity")),
    Claim("D3", "Davies and Bua: sanctions reduce claimants' commoning hours and overall participation.",
          [_effect_part("claimants' commoning hours, punitive − ended", "sanctions", "punitive", "ended",
                        "claimant_commoning_hours_final", -1),
           _effect_part("volunteering, punitive − ended", "sanctions", "punitive", "ended",
                        "volunteering_rate_final", -1)],
          ("place", "austerity")),
    Claim("D4", "Davies and Bua: UBI does less for the commons under austerity, or under prime-biased "
                "procurement, than without them.",
          [_interaction_part("organisations, UBI full effect: continued − reversed austerity", "austerity",
                             "continued", "reversed", "orgs_total_final", -1),
           _interaction_part("organisations, UBI full effect: prime-biased − reformed procurement", "procurement",
                             "prime_biased", "reformed", "orgs_total_final", -1)],
          ("place",), note="either interaction suffices ('or')", ubi=True),
    Claim("S1", "Seed 000: the same policy package does less in a deprived northern place than in an "
                "affluent southern one.",
          [Part("organisations, (package − baseline) deprived − affluent", "orgs_total_final", -1,
                lambda df, where: package_place_gap(_filter(df, where), "orgs_total_final"))],
          (), note="package: UBI full, austerity reversed, procurement reformed, sanctions ended, fund present",
          ubi=True),
]


@dataclass
class ClaimResult:
    claim: Claim
    estimates: list[Estimate]
    status: str
    depends_on: str


def _levels(df: pd.DataFrame, column: str) -> list[str]:
    return sorted(df[column].unique()) if column in df.columns else []


def judge(df: pd.DataFrame, claim: Claim) -> ClaimResult:
    estimates = [part.estimate(df, None) for part in claim.parts]
    statuses = [e.status(p.sign) for e, p in zip(estimates, claim.parts)]
    if claim.key == "D4":  # either interaction
        overall = "supported" if "supported" in statuses else (
            "not estimable" if all(s == "not estimable" for s in statuses) else "not supported")
    elif all(s == "supported" for s in statuses):
        overall = "supported"
    elif all(s == "not estimable" for s in statuses):
        overall = "not estimable"
    else:
        overall = "not supported"
    depends = []
    for moderator in claim.moderators:
        levels = _levels(df, moderator)
        if len(levels) < 2 or any(moderator in p.fixed for p in claim.parts):
            continue
        for part in claim.parts:
            within = [part.estimate(df, {moderator: level}) for level in levels]
            holds = [e.status(part.sign) == "supported" for e in within]
            against = [not math.isnan(e.mean) and e.mean * part.sign < 0 for e in within]
            if any(holds) and any(against):
                where = ", ".join(f"{lvl}: {e.text()}" for lvl, e in zip(levels, within))
                depends.append(f"{moderator} ({part.label}: {where})")
    status = "depends" if depends else overall
    sens = sorted({SENSITIVITY.get(p.metric, "") for p in claim.parts} - {""})
    if claim.ubi:
        sens.append(UBI_NOTE)
    depends_text = "; ".join(depends) if depends else "—"
    return ClaimResult(claim, estimates, status, f"{depends_text}<br>sensitivity: {'; '.join(sens)}")


# ------------------------------------------------------------------ the report
@dataclass
class Verdict:
    main: pd.DataFrame  # contrast x metric -> Estimate
    interactions: pd.DataFrame
    claims: list[ClaimResult]
    cells: int
    replicates: int
    failed: int


def compute(summary: pd.DataFrame) -> Verdict:
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
    claims = [judge(df, claim) for claim in CLAIMS]
    cells = df[_factors(df)].drop_duplicates().shape[0] if _factors(df) else int(df["job"].nunique())
    failed = int(summary.loc[summary["state"] != "completed", "job"].nunique())
    return Verdict(main, inter, claims, cells, int(df["replicate"].nunique()), failed)


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
        "the final 12 months of each run.", "",
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
    out += ["", "Verdicts: *supported*: every interval excludes 0 in the claimed direction (for D4, "
            "either interaction); *not supported*: an interval includes 0 or excludes it the other way; "
            "*depends*: the claimed effect holds in one place or austerity path and has the opposite sign "
            "in another (named, with the estimates). 'sensitivity' names the parameters the metric "
            "depends on most in the global sensitivity analysis (docs/validation.md §2).", "",
            "## Main effects", "", *_table(verdict.main, "lever"), "",
            "## Interactions (difference of differences)", "",
            "The UBI effect (vs none) under the named level minus under the reference level.", "",
            *_table(verdict.interactions, "interaction"), "",
            "## Figures", "", f"![main effects]({MAIN_FIGURE})", "", f"![interactions]({INTERACTION_FIGURE})", ""]
    return "\n".join(out)


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


def write_verdict(sweep_dir: str | os.PathLike) -> Path:
    """Write verdict.md and its figures into the sweep directory; return verdict.md's path."""
    sweep_dir = Path(sweep_dir)
    summary = load_sweep(sweep_dir).summary
    df = completed(summary)
    if df.empty:
        raise ValueError(f"{sweep_dir}: no completed jobs to judge")
    verdict = compute(summary)
    _plot_main(verdict, sweep_dir / MAIN_FIGURE)
    _plot_interactions(df, sweep_dir / INTERACTION_FIGURE)
    path = sweep_dir / VERDICT_FILE
    text = markdown(verdict, sweep_dir)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m commonsabm.analysis.verdict SWEEP_DIR", file=sys.stderr)
        return 2
    try:
        path = write_verdict(args[0])
    except Exception as exc:  # noqa: BLE001 - one line for the user
        print(f"commonsabm.analysis.verdict: error: {exc}", file=sys.stderr)
        return 1
    print(f"verdict: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
