"""The interactive explorer: Mesa's SolaraViz page for one place, month by month.

Start it with ``make app`` (or ``python -m commonsabm.explorer``), which serves it on
127.0.0.1 only. The levers take effect on *Reset*, as in every Mesa page: move them,
press Reset, then Step or play.

The page shows what a workshop needs to argue over: commons organisations by type,
volunteering, council spending by channel, the commons' share of service delivery,
the local multiplier and unmet need, a map of the organisations, and the latest
foundings and closures with their causes.
"""

from __future__ import annotations

import calendar
import math
import os
from typing import Any

import altair as alt
import pandas as pd
import solara
from mesa.visualization import SolaraViz

from commonsabm.params.checks import check_one, presets, primary_config
from commonsabm.params.months import month_index, month_label
from commonsabm.params.schema import ConfigError, RunConfig
from commonsabm.sim.model import CommonsModel
from commonsabm.sim.terms import CHANNELS, KINDS

KIND_LABELS = {"coop": "co-operatives", "community_business": "community businesses", "vcs": "voluntary groups"}
KIND_COLOURS = {"coop": "#1b9e77", "community_business": "#d95f02", "vcs": "#7570b3"}
CHANNEL_LABELS = {"in_house": "in-house services", "contracts": "contracts", "grants": "grants to groups",
                  "commissioning": "commissioning staff", "scaling": "scaling what works",
                  "fund": "social investment fund"}
SHARE_LABELS = {"commons_share_contracts": "direct contracts", "commons_share_subcontracts": "subcontracts",
                "commons_share_grants": "grants", "commons_share_trading": "trading and donations",
                "commons_share_total": "all"}
RECENT_EVENTS = 12


# ---------------------------------------------------------------- what the page reads
def readable_month(index: int) -> str:
    return f"{calendar.month_name[index % 12 + 1]} {index // 12}"


def simulated_month(model: CommonsModel) -> str:
    """The last month simulated, in words; ``model.month`` is already the next one."""
    if model.month == model.start_month:
        return f"Not started: the run begins in {readable_month(model.start_month)}"
    done = model.month - model.start_month
    total = model.end_month - model.start_month + 1
    return f"{readable_month(model.month - 1)} (month {done} of {total})"


def history(model: CommonsModel) -> pd.DataFrame:
    """The monthly reporters so far, with the month as a date for the charts' axes."""
    # every chart of a redraw reads this, so it is built once per simulated month
    key = len(model.datacollector.model_vars.get("date", ()))
    cached = getattr(model, "_explorer_history", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    frame = pd.DataFrame(model.datacollector.model_vars)
    if not frame.empty:
        frame["month"] = pd.to_datetime(frame["date"], format="%Y-%m")
    model._explorer_history = (key, frame)
    return frame


# each closure cause (sim.terms.CAUSES) as the page words it
CLOSURE_REASONS = {"cash": "ran out of cash", "volunteers": "too few volunteers to run it",
                   "burnout": "burnout of its volunteers"}


def recent_events(model: CommonsModel, n: int = RECENT_EVENTS) -> list[dict[str, Any]]:
    """The latest foundings and closures during the run, newest first, with their causes."""
    events = []
    for org in model.organisations:
        if org.born >= model.start_month:
            events.append({"month": org.born, "event": "founded", "kind": org.kind, "why": org.founded_with,
                           "index": org.index})
        if org.died is not None and org.died >= model.start_month:  # not the unreported spin-up's
            why = CLOSURE_REASONS.get(org.cause, org.cause)
            events.append({"month": org.died, "event": "closed", "kind": org.kind, "why": why, "index": org.index})
    events.sort(key=lambda e: (e["month"], e["event"] == "closed", e["index"]), reverse=True)
    return events[:n]


def organisation_points(model: CommonsModel) -> pd.DataFrame:
    """Live organisations placed in their neighbourhood's square of a grid of the place."""
    side = math.ceil(math.sqrt(model.citizens.n_nbhd))
    rows = []
    for org in model.live_organisations:
        # a fixed scatter inside the square from the register number: no draw on the model's generator
        dx, dy = (org.index * 0.6180339887) % 1.0, (org.index * 0.7548776662) % 1.0
        rows.append({"x": org.nbhd % side + 0.1 + 0.8 * dx, "y": org.nbhd // side + 0.1 + 0.8 * dy,
                     "type": KIND_LABELS[org.kind], "members": org.members, "staff": round(org.staff, 1),
                     "age (months)": model.month - org.born, "cash (GBP)": round(org.cash)})
    return pd.DataFrame(rows, columns=["x", "y", "type", "members", "staff", "age (months)", "cash (GBP)"])


def describe_run(model: CommonsModel) -> list[str]:
    """What the run on the page was built with, in words."""
    cfg, run = model.config, model.run_config
    ubi = "none" if cfg.ubi.level <= 0 else (
        f"GBP {cfg.ubi.level:,.0f} a month from {readable_month(month_index(cfg.ubi.start))}, "
        + ("unconditional" if cfg.ubi.unconditional else "on top of conditional benefits"))
    fund = f"from {readable_month(month_index(cfg.investment_fund.start))}" if cfg.investment_fund.enabled else "none"
    return [f"Place: {model.levers.get('place', '')}",
            f"Population: {run.population:,} adults; seed {model.levers.get('rng')}"
            + (f" ({model.seed_note})" if model.seed_note else ""),
            f"Austerity: {model.levers.get('austerity', '')}",
            f"Procurement: {model.levers.get('procurement', '')}",
            f"UBI: {ubi}",
            f"Sanctions: {cfg.sanctions.monthly_rate:.2%} of conditional claimants a month",
            f"Social investment fund: {fund}"]


# ---------------------------------------------------------------- page components
def line_chart(model: CommonsModel, title: str, series: dict[str, str], y_title: str,
               colours: dict[str, str] | None = None, percent: bool = False):
    frame = history(model)
    present = [c for c in series if c in frame.columns]
    if frame.empty or not present:
        return solara.Markdown(f"**{title}**: press Step to begin.")
    long = frame[["month", *present]].melt("month", var_name="series", value_name="value")
    long["series"] = long["series"].map(series)
    palette = {"scale": alt.Scale(domain=[series[c] for c in colours], range=list(colours.values()))} if colours else {}
    colour = alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom", columns=3), **palette)
    chart = (alt.Chart(long, title=title).mark_line()
             .encode(x=alt.X("month:T", title=None),
                     y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format="%" if percent else "~s")),
                     color=colour, tooltip=[alt.Tooltip("month:T", format="%B %Y"), "series:N",
                                            alt.Tooltip("value:Q", format=".3~f")])
             .properties(width=380, height=190))
    return solara.FigureAltair(chart)


def organisations_by_type(model):
    return line_chart(model, "Commons organisations by type", {f"orgs_{k}": KIND_LABELS[k] for k in KINDS},
                      "per 100,000 residents", colours={f"orgs_{k}": KIND_COLOURS[k] for k in KINDS})


def volunteering(model):
    return line_chart(model, "Monthly volunteering rate", {"volunteering_rate": "residents who gave time"},
                      "share of residents", percent=True)


def council_spending(model):
    return line_chart(model, "Council spending by channel",
                      {f"council_spend_{c}": CHANNEL_LABELS[c] for c in CHANNELS}, "GBP per resident a month")


def commons_share(model):
    return line_chart(model, "Commons share of service delivery", SHARE_LABELS, "share of delivery", percent=True)


def local_multiplier(model):
    return line_chart(model, "Local multiplier (LM3) of council spending", {"local_multiplier": "LM3"}, "ratio")


def unmet_need(model):
    return line_chart(model, "Unmet need", {"unmet_need": "need not delivered"}, "share of need", percent=True)


def organisation_map(model):
    points = organisation_points(model)
    domain = [KIND_LABELS[k] for k in KINDS]
    chart = (alt.Chart(points, title=f"{len(points)} live organisations, by neighbourhood")
             .mark_circle(opacity=0.7)
             .encode(x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None),
                     size=alt.Size("members:Q", title="members", scale=alt.Scale(range=[10, 400])),
                     color=alt.Color("type:N", title=None, scale=alt.Scale(domain=domain,
                                                                           range=list(KIND_COLOURS.values()))),
                     tooltip=list(points.columns[2:]))
             .properties(width=380, height=230))
    return solara.FigureAltair(chart)


def month_and_run(model):
    with solara.Column(gap="4px") as column:
        solara.Markdown(f"## {simulated_month(model)}")
        solara.Markdown("\n".join(f"- {line}" for line in describe_run(model)))
    return column


def foundings_and_closures(model):
    events = recent_events(model)
    if not events:
        return solara.Markdown("**Foundings and closures**: none yet.")
    lines = ["**Latest foundings and closures**", "", "| month | | type | why |", "|---|---|---|---|"]
    lines += [f"| {month_label(e['month'])} | {e['event']} | {KIND_LABELS[e['kind']]} | {e['why']} |"
              for e in events]
    return solara.Markdown("\n".join(lines))


COMPONENTS = [month_and_run, organisation_map, organisations_by_type, volunteering, council_spending,
              commons_share, local_multiplier, unmet_need, foundings_and_closures]


# ---------------------------------------------------------------- levers
# Choices rather than sliders: Solara's sliders do not show their value, and a workshop
# needs to see what it set. The values span the presets and the published figures.
UBI_LEVELS = [0.0, 75.0, 150.0, 300.0, 450.0, 600.0]  # GBP a month; 150 and 300 are the presets
SANCTION_RATES = [0.0, 0.005, 0.01, 0.0273, 0.05, 0.1]  # a month; 0.0273 is Webster (2017)
POPULATIONS = [2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 200_000]
DEFAULT_SEED = 42


def levers() -> dict[str, dict[str, Any]]:
    """The controls, starting from the configuration the command line runs by default."""
    choices, _ = primary_config()
    population = int(os.environ.get("COMMONSABM_EXPLORER_POPULATION", 100_000))

    def select(section: str, label: str) -> dict[str, Any]:
        return {"type": "Select", "value": choices[section], "values": presets(section), "label": label}

    return {
        "place": select("place", "Place"),
        "austerity": select("austerity", "Austerity path"),
        "procurement": select("procurement", "Procurement rules"),
        "investment_fund": select("investment_fund", "Social investment fund"),
        "ubi_level": {"type": "Select", "value": 0.0, "values": UBI_LEVELS,
                      "label": "UBI, GBP a month per adult (0 = none)"},
        "ubi_unconditional": {"type": "Checkbox", "value": True, "label": "UBI unconditional (replaces benefits)"},
        "sanctions_monthly_rate": {"type": "Select", "value": 0.0273, "values": SANCTION_RATES,
                                   "label": "Sanctions: share of claimants a month"},
        "rng": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "Seed (a whole number)"},
        "population": {"type": "Select", "value": population, "values": sorted({*POPULATIONS, population}),
                       "label": "Adults simulated"},
    }


def seed_from(text: Any) -> tuple[int, str | None]:
    """The seed typed on the page, or the default and a note saying why it was not used."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return DEFAULT_SEED, f"'{text}' is not a whole number, so seed {DEFAULT_SEED} was used"
    try:  # a negative seed would stop the page with numpy's error
        return check_one(RunConfig, "seed", seed, "seed"), None
    except ConfigError as error:
        return DEFAULT_SEED, f"{error}, so seed {DEFAULT_SEED} was used"


class ExplorerModel(CommonsModel):
    """CommonsModel remembering the levers it was built with, for the page to show."""

    def __init__(self, rng: Any = DEFAULT_SEED, scenario: Any = None, **lever_values: Any):
        # Mesa's Reset passes the old model's (empty) Scenario back; the levers are the whole scenario here
        seed, self.seed_note = seed_from(rng)
        super().__init__(rng=seed, **lever_values)
        choices, _ = primary_config()
        self.levers = {**choices, **lever_values, "rng": seed}


def start_model() -> ExplorerModel:
    return ExplorerModel(**{name: spec["value"] for name, spec in levers().items()})


@solara.component
def Page():
    # one model per browser session, so that two people in a workshop do not step each other's run
    model = solara.use_memo(start_model, [])
    return SolaraViz(model, components=COMPONENTS, model_params=levers(),
                     name="commonsabm: can the commons grow under austerity?", play_interval=150)
