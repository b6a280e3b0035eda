"""Calibration of the baseline to published UK figures, 2010-2020.

``TARGETS`` lists each pattern the baseline must reproduce, with its band and source;
``measure`` computes them from monthly series as means over seeds; ``distance`` is
what the calibration minimises. The ``calibration`` job mode runs one candidate
parameter set over several seeds and returns its distance, so that Hydra's Optuna
sweeper can search (``+experiment=calibrate``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from commonsabm.params.app import CalibrationConfig  # noqa: F401 - its settings, with the schema
from commonsabm.params.checks import checked
from commonsabm.params.schema import ModelConfig, RunConfig

UK = "data/uk_figures.csv"


def fiscal_year(frame: pd.DataFrame, column: str, year: int) -> float:
    """Mean of a column over a UK fiscal year: April `year` to March `year + 1`."""
    dates = frame["date"]
    chosen = (dates >= f"{year}-04") & (dates <= f"{year + 1}-03")
    return float(frame.loc[chosen, column].mean())


def calendar_year(frame: pd.DataFrame, column: str, year: int) -> float:
    return float(frame.loc[frame["date"].str.startswith(str(year)), column].mean())


def _change(before: float, after: float) -> float:
    return after / before - 1 if before else float("nan")


def _grant(f: pd.DataFrame, year: int) -> float:
    # before 2013 the grant carried redistributed business rates; from 2013 the council
    # keeps them instead, so the comparable series is grant plus retained rates
    return fiscal_year(f, "council_revenue_central_grant", year) + fiscal_year(f, "council_revenue_business_rates", year)


def _spending_power(f: pd.DataFrame, year: int) -> float:
    return _grant(f, year) + fiscal_year(f, "council_revenue_council_tax", year)


@dataclass(frozen=True)
class Target:
    name: str
    low: float
    high: float
    published: str
    source: str
    measure: Callable[[pd.DataFrame], float]

    def inside(self, value: float) -> bool:
        return self.low <= value <= self.high


TARGETS = (
    Target("central_grant_change_2010_2017", -0.54, -0.44, "-49.1%",
           f"{UK} council_central_grant_change (NAO 2018)",
           lambda f: _change(_grant(f, 2010), _grant(f, 2017))),
    Target("spending_power_change_2010_2017", -0.34, -0.24, "-28.6%",
           f"{UK} council_spending_power_change (NAO 2018)",
           lambda f: _change(_spending_power(f, 2010), _spending_power(f, 2017))),
    Target("care_share_2010", 0.42, 0.48, "45.3%", f"{UK} council_social_care_share 2010/11 (NAO 2018)",
           lambda f: fiscal_year(f, "care_share", 2010)),
    Target("care_share_2016", 0.51, 0.57, "54.4%", f"{UK} council_social_care_share 2016/17 (NAO 2018)",
           lambda f: fiscal_year(f, "care_share", 2016)),
    Target("coops_change_2011_2016", 0.10, 0.30, "+18% (5,933 to ~7,000)",
           f"{UK} coops_count 2011, 2016 (Co-operatives UK)",
           lambda f: _change(calendar_year(f, "orgs_coop", 2011), calendar_year(f, "orgs_coop", 2016))),
    Target("coops_change_2018_2020", -0.06, 0.06, "-2.3% (7,226 to 7,063)",
           f"{UK} coops_count 2018, 2020 (Co-operatives UK)",
           lambda f: _change(calendar_year(f, "orgs_coop", 2018), calendar_year(f, "orgs_coop", 2020))),
    Target("community_businesses_change_2014_2018", 0.40, 0.70, "+55% (5,035 to 7,800)",
           f"{UK} community_business_count 2014, 2018 (Power to Change); the band is +-15 points",
           lambda f: _change(calendar_year(f, "orgs_community_business", 2014),
                             calendar_year(f, "orgs_community_business", 2018))),
    Target("vcs_government_income_change_2010_2013", -0.45, -0.30, "up to -38%",
           f"{UK} small_charity_government_income_change (Lloyds Bank Foundation / NCVO / IPPR North)",
           lambda f: _change(calendar_year(f, "vcs_government_income", 2010),
                             calendar_year(f, "vcs_government_income", 2013))),
    Target("vcs_individual_income_change_2010_2013", 0.0, 0.40, "up to +21% (rises)",
           f"{UK} small_charity_individual_income_change (Lloyds Bank Foundation / NCVO / IPPR North)",
           lambda f: _change(calendar_year(f, "vcs_individual_income", 2010),
                             calendar_year(f, "vcs_individual_income", 2013))),
    Target("volunteering_2013_2016", 0.23, 0.31, "27%", f"{UK} formal_volunteering_monthly (Community Life Survey)",
           lambda f: float(f.loc[(f["date"] >= "2013-01") & (f["date"] <= "2016-12"), "volunteering_rate"].mean())),
    Target("sanction_rate_2013_2016", 0.02, 0.035, "2.73% (2016)", f"{UK} jsa_sanction_rate (Webster 2017)",
           lambda f: float(f.loc[(f["date"] >= "2013-01") & (f["date"] <= "2016-12"), "sanction_rate"].mean())),
)


def measure(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Each target's value in each seed's run, then the mean and spread over seeds.

    Counts are pooled before ratios are taken where a place has only a handful of
    organisations (co-ops): the change in the mean count, not the mean of changes.
    """
    pooled = pd.concat(frames).groupby("date", sort=True).mean(numeric_only=True).reset_index()
    rows = []
    for target in TARGETS:
        per_seed = np.array([target.measure(f) for f in frames], dtype=float)
        value = target.measure(pooled)
        rows.append({"target": target.name, "low": target.low, "high": target.high, "published": target.published,
                     "model": value, "seed_sd": float(np.nanstd(per_seed, ddof=1)) if len(frames) > 1 else 0.0,
                     "inside": target.inside(value), "source": target.source})
    return pd.DataFrame(rows)


def distance(fit: pd.DataFrame) -> float:
    """What the calibration minimises: squared distance outside each band, in band widths,
    plus a small pull towards the band centres to break ties among fits inside every band."""
    width = fit["high"] - fit["low"]
    outside = np.maximum(0.0, np.maximum(fit["low"] - fit["model"], fit["model"] - fit["high"])) / width
    centre = (fit["model"] - (fit["low"] + fit["high"]) / 2) / width
    return float((outside ** 2).sum() + 0.01 * (centre ** 2).sum())


def runs(model: ModelConfig, settings: CalibrationConfig, each=None,
         spin_up: int = RunConfig.spin_up) -> list[pd.DataFrame]:
    """The baseline over the calibration's seeds: each run's monthly frame. ``each(model)``, if
    given, is called after every run, for checks that read more than the frame (the patterns
    checked but not fitted, docs/validation.md §3). ``spin_up`` is the run's (``run.spin_up``):
    the warm start is part of the model the bands are fitted to."""
    from commonsabm.sim.model import CommonsModel

    frames = []
    checked_settings = checked(model, RunConfig(population=settings.population, end=settings.end,
                                                   spin_up=spin_up))
    for seed in range(settings.first_seed, settings.first_seed + settings.seeds):
        sim = CommonsModel(config=checked_settings, rng=seed)
        sim.run()
        frames.append(sim.datacollector.get_model_vars_dataframe())
        if each is not None:
            each(sim)
    return frames


def five_year_survival(model, kind: str) -> tuple[int, int]:
    """Organisations of a kind founded in the reported months at least five years before the
    run's end, and how many of them were still open five years on (``coop_survival_5y``)."""
    founded = [o for o in model.organisations
               if o.kind == kind and model.start_month <= o.born <= model.end_month - 60]
    return len(founded), sum(o.died is None or o.died - o.born >= 60 for o in founded)


def fit_table(fit: pd.DataFrame) -> str:
    lines = ["| target | band | published | model (mean over seeds) | sd over seeds | inside |",
             "|---|---|---|---|---|---|"]
    for row in fit.itertuples():
        lines.append(f"| {row.target} | {row.low:+.3g} to {row.high:+.3g} | {row.published} | {row.model:+.3f} "
                     f"| {row.seed_sd:.3f} | {'yes' if row.inside else 'no'} |")
    return "\n".join(lines)


def run_mode(app, out: Path, resolved: str) -> float:
    """The `calibration` mode: run one candidate over the seeds, write its fit, return its distance."""
    from commonsabm.runs.outputs import atomic_write

    model = ModelConfig.of(app)
    fit = measure(runs(model, app.calibration, spin_up=app.run.spin_up))
    score = distance(fit)
    atomic_write(out / "fit.csv", lambda path: fit.to_csv(path, index=False))
    atomic_write(out / "fit.md", lambda path: path.write_text(fit_table(fit) + f"\n\ndistance: {score:.4f}\n"))
    atomic_write(out / "config.yaml", lambda path: path.write_text(resolved))
    atomic_write(out / "distance.json", lambda path: path.write_text(json.dumps({"distance": score})))
    print(fit_table(fit))
    print(f"\ndistance {score:.4f}; {int(fit['inside'].sum())} of {len(fit)} targets inside their bands; outputs: {out}")
    return score


__all__ = ["TARGETS", "CalibrationConfig", "Target", "distance", "measure", "run_mode"]
