"""The debate's claims: what each side says, the contrasts each claim rests on, and how they combine.

A claim is *supported* when its parts hold as its ``combine`` says (``all`` of them, or
``any`` one) with every interval it rests on excluding 0 in the claimed direction; *not
supported* otherwise; *depends* when a part holds in one place or austerity path and goes
the other way (an estimate of the opposite sign) in another. What each metric depends on
most among the parameters nobody knows well comes from the sensitivity analysis's own
output (``analysis.findings``), not from this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal

import pandas as pd

from commonsabm.analysis.estimates import (
    FACTORS,
    PACKAGE,
    Estimate,
    _filter,
    change,
    effect,
    interaction,
    levels_present,
    package_place_gap,
)
from commonsabm.analysis.findings import Findings
from commonsabm.params.months import parse_month

MIN_REPLICATES = 2  # an interval (± 1.96 SD/√n) needs a standard deviation

@dataclass
class Part:
    """One contrast a claim rests on: how to estimate it (optionally within a stratum) and its sign."""
    label: str
    metric: str  # the sweep summary's column the part is about (what the sensitivity findings are looked up by)
    sign: int
    estimate: Callable[[pd.DataFrame, dict[str, str] | None], Estimate]
    fixed: dict[str, str] = field(default_factory=dict)  # strata the claim itself fixes
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the levels of each lever it compares

    def needs(self) -> dict[str, tuple[str, ...]]:
        """Every lever level the sweep must have run for this part to be estimated."""
        needed = {lever: tuple(levels) for lever, levels in self.levels.items()}
        for lever, level in self.fixed.items():
            needed[lever] = tuple(dict.fromkeys((*needed.get(lever, ()), level)))
        return needed


@dataclass
class Claim:
    key: str
    words: str
    parts: list[Part]
    moderators: tuple[str, ...]  # levers across whose levels the claim may change sign
    note: str = ""
    combine: Literal["all", "any"] = "all"  # whether every part must hold, or any one suffices
    horizon: int | None = None  # the year the claim speaks of ("by 2030"): the sweep must run into it


def _effect_part(label, lever, level, reference, metric, sign, fixed=None) -> Part:
    fixed = fixed or {}
    return Part(label, metric, sign,
                lambda df, where: effect(df, lever, level, reference, metric, {**fixed, **(where or {})}), fixed,
                {lever: (level, reference)})


def _interaction_part(label, moderator, mod_level, mod_reference, metric, sign) -> Part:
    return Part(label, metric, sign, lambda df, where: interaction(
        df, "ubi", "full", "none", moderator, mod_level, mod_reference, metric, where),
        levels={"ubi": ("full", "none"), moderator: (mod_level, mod_reference)})


CONTINUED = {"austerity": "continued"}
CLAIMS: list[Claim] = [
    Claim("P1", "Parker: under continued austerity, UBI increases commons participation and the number "
                "of commons organisations by 2030.",
          [_effect_part("volunteering, UBI full − none, austerity continued", "ubi", "full", "none",
                        "volunteering_rate_final", +1, CONTINUED),
           _effect_part("organisations, UBI full − none, austerity continued", "ubi", "full", "none",
                        "orgs_total_final", +1, CONTINUED)],
          ("place",), horizon=2030),
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
          ("place", "austerity"),
          note="the penalty alone (hazard, length, in-work reach); the claimant commitment is the "
               "conditionality lever, held at 35 hours a week in every cell of the debate sweep"),
    Claim("D4", "Davies and Bua: UBI does less for the commons under austerity, or under prime-biased "
                "procurement, than without them.",
          [_interaction_part("organisations, UBI full effect: continued − reversed austerity", "austerity",
                             "continued", "reversed", "orgs_total_final", -1),
           _interaction_part("organisations, UBI full effect: prime-biased − reformed procurement", "procurement",
                             "prime_biased", "reformed", "orgs_total_final", -1)],
          ("place",), note="either interaction suffices ('or')", combine="any"),
    Claim("S1", "Seed 000: the same policy package does less in a deprived northern place than in an "
                "affluent southern one.",
          [Part("organisations, (package − baseline) deprived − affluent", "orgs_total_final", -1,
                lambda df, where: package_place_gap(_filter(df, where), "orgs_total_final"),
                levels={**{lever: (level, FACTORS[lever]) for lever, level in PACKAGE.items()},
                        "place": ("deprived_northern", "affluent_southern")})],
          (), note="package: UBI full, austerity reversed, procurement reformed, sanctions ended, fund present",
          ),
]


@dataclass
class ClaimResult:
    claim: Claim
    estimates: list[Estimate]
    status: str
    depends_on: str
    missing: list[str] = field(default_factory=list)  # what the sweep lacks to answer it; empty if nothing


def _levels(df: pd.DataFrame, column: str) -> list[str]:
    return sorted(df[column].unique()) if column in df.columns else []


def combined(statuses: list[str], combine: str) -> str:
    """A claim's status from its parts' statuses, combined as the claim says."""
    if statuses and all(s == "not estimable" for s in statuses):
        return "not estimable"
    holds = [s == "supported" for s in statuses]
    return "supported" if (all(holds) if combine == "all" else any(holds)) else "not supported"


def _needs(parts: list[Part]) -> dict[str, tuple[str, ...]]:
    """The lever levels a set of parts needs between them, each lever once."""
    needed: dict[str, tuple[str, ...]] = {}
    for part in parts:
        for lever, levels in part.needs().items():
            needed[lever] = tuple(dict.fromkeys((*needed.get(lever, ()), *levels)))
    return needed


def _lacking_levels(df: pd.DataFrame, needed: dict[str, tuple[str, ...]]) -> list[str]:
    """One line per lever the sweep did not run at every level ``needed`` names."""
    lacking = []
    for lever, levels in needed.items():
        have = levels_present(df, lever)
        absent = [level for level in levels if level not in have]
        if not absent:
            continue
        ran = f"was not swept (every job ran {have[0]})" if lever not in df.columns else \
            f"has no {', '.join(absent)} jobs (the sweep ran {', '.join(have)})"
        lacking.append(f"lever: {lever} {ran}; the claim needs {' and '.join(levels)}")
    return lacking


def missing(df: pd.DataFrame, claim: Claim, end: str | None, estimates: list[Estimate]) -> list[str]:
    """What the sweep lacks to answer the claim (its horizon, a lever's level, replicates), in words.

    ``end`` is the last month every completed job reached (None if unknown). A claim whose
    parts combine with 'any' is answered by one part the sweep can estimate and that holds.
    """
    lacks = []
    if claim.horizon is not None:
        if end is None:
            lacks.append(f"horizon: the sweep's last month is not known; the claim is about {claim.horizon}")
        elif parse_month(end)[0] < claim.horizon:
            lacks.append(f"horizon: the sweep ends in {end}; the claim is about {claim.horizon}")
    parts = claim.parts
    if claim.combine == "any" and any(not _lacking_levels(df, part.needs()) and est.status(part.sign) == "supported"
                                      for est, part in zip(estimates, parts)):
        parts = []
    lacks += _lacking_levels(df, _needs(parts))
    replicates = int(df["replicate"].nunique()) if "replicate" in df.columns else 0
    if replicates < MIN_REPLICATES:
        lacks.append(f"replicates: {replicates} per cell; a 95% interval needs at least {MIN_REPLICATES}")
    return lacks


def judge(df: pd.DataFrame, claim: Claim, findings: Findings, end: str | None = None) -> ClaimResult:
    estimates = [part.estimate(df, None) for part in claim.parts]
    overall = combined([e.status(p.sign) for e, p in zip(estimates, claim.parts)], claim.combine)
    lacks = missing(df, claim, end, estimates)
    depends = []
    for moderator in claim.moderators if not lacks else ():
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
    status = "cannot answer" if lacks else "depends" if depends else overall
    sens = list(dict.fromkeys(findings.about(p.metric) for p in claim.parts)) + findings.inert_notes()
    depends_text = "; ".join(depends) if depends else "—"
    return ClaimResult(claim, estimates, status, f"{depends_text}<br>sensitivity: {'; '.join(sens)}", lacks)
