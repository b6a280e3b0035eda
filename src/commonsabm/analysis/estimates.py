"""Estimates over a factorial sweep with common random numbers: main effects, interactions, changes.

Every cell of the factorial runs replicates 0..n-1 seeded by the same child seeds. A lever's
effect is estimated per replicate: pair each cell at the lever's level with the cell at the
reference level that differs in that lever only and shares the replicate index, take the
difference, and average the differences over the other levers' cells. The estimate is the
mean over replicates, with a 95% interval of ± 1.96 × SD / √n across the n replicates. A
two-way interaction is the difference of two such differences, estimated the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

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
# S1's policy package: each lever at the level the Davies and Bua programme (with UBI) sets
PACKAGE: dict[str, str] = {"ubi": "full", "austerity": "reversed", "procurement": "reformed",
                           "sanctions": "ended", "investment_fund": "present"}

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


def levels_present(df: pd.DataFrame, lever: str) -> list[str]:
    """The levels of a lever the sweep ran: its column's values, or its reference level if it was not swept."""
    if lever not in df.columns:
        return [FACTORS[lever]]  # as ``_filter`` reads an absent lever
    return sorted(df[lever].dropna().astype(str).unique())


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
    base = {k: FACTORS[k] for k in PACKAGE}
    if "place" not in df.columns:
        return Estimate()

    def cell(levels: dict[str, str], place: str) -> pd.Series:
        sub = _filter(df, {**levels, "place": place})
        return sub.groupby("replicate")[metric].mean()

    gaps = {}
    for place in ("deprived_northern", "affluent_southern"):
        gaps[place] = cell(PACKAGE, place) - cell(base, place)
    return Estimate.of((gaps["deprived_northern"] - gaps["affluent_southern"]).dropna())
