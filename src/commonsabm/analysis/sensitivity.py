"""The `sensitivity` mode: a global sensitivity analysis of the behavioural parameters nobody knows well.

Does a verdict survive the behavioural assumptions (docs/validation.md §2)? This mode first
screens every uncertain parameter with Morris's elementary effects (SALib), ranks them by
their influence on four outputs, and then runs a variance-based Sobol analysis on the few
that matter most. Every other parameter stays at its configured value (the scenario's),
and every model run uses the same seed, so the differences between runs come from the
parameters and not from the random draws (common random numbers).

    python -m commonsabm +experiment=sensitivity
    python -m commonsabm +experiment=sensitivity ubi=full sensitivity.n_jobs=4

Outputs (into Hydra's run directory): sensitivity_morris.csv, sensitivity_sobol.csv,
sensitivity.md, sensitivity.png, manifest.json and config.yaml.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from commonsabm.params.months import month_index
from commonsabm.params.app import SensitivityConfig  # noqa: F401 - its settings, with the schema
from commonsabm.params.schema import ConfigError, ModelConfig, RunConfig


class Uncertain(NamedTuple):
    """One uncertain parameter: its config key, the range explored and why."""
    key: str
    lo: float
    hi: float
    reason: str


# The behavioural and contractual parameters nobody knows well (docs/validation.md §2), with the range
# the analysis explores. Every range lies inside the parameter's allowed range (params/schema.py).
UNCERTAIN: tuple[Uncertain, ...] = (
    Uncertain("behaviour.motivation_alpha", 1.0, 4.0,
              "civic motivation is not measured; with beta=4 the mean runs from 0.2 to 0.5"),
    Uncertain("behaviour.founding_rate", 0.00025, 0.001,
              "founding odds are fitted to co-op counts only; a factor of two either side of ~0.0005"),
    Uncertain("behaviour.demonstration_effect", 0.0, 2.0,
              "Parker's pedagogy of example is asserted, not measured; none to four times the default"),
    Uncertain("behaviour.burnout_hours", 10.0, 40.0,
              "no data on the load at which volunteers burn out; 10 to 40 core hours per volunteer"),
    Uncertain("behaviour.ubi_hours_response", 0.0, 0.10,
              "pilots report -1% to -5% of paid hours; widened to none and twice the top"),
    Uncertain("behaviour.stress_bandwidth", 0.2, 0.8,
              "scarcity research shows a bandwidth tax, of uncertain size"),
    Uncertain("behaviour.free_time_response", 0.5, 2.0,
              "how volunteering scales with free time is unknown: concave to convex"),
    Uncertain("procurement.subcontract_rate", 0.6, 1.0,
              "primes' subcontract terms are not published; squeezed to full price"),
    Uncertain("procurement.subcontract_payment_days", 30.0, 120.0,
              "primes' payment to subcontractors: prompt-payment code to very late"),
    # the tender market (docs/ODD.md §7.5); a weight set here leaves the other two weights
    # sharing the rest in their configured proportions (with_values), so the sum stays 1
    Uncertain("procurement.weight_social_value", 0.0, 0.5,
              "councils weight social value from none to about half (Social Value Act 2012 sets no level)"),
    Uncertain("procurement.panel_noise", 0.0, 0.1,
              "no data on how far evaluation panels err; from none to twice the default"),
    Uncertain("procurement.incumbency_advantage", 0.0, 0.06,
              "the incumbent's edge at re-tender is not measured here; none to three times the default"),
    Uncertain("procurement.cost_dispersion", 0.0, 0.15,
              "how far one bidder's cost differs from its class's; none to three times the default"),
    Uncertain("primes.unit_cost", 0.75, 0.95,
              "primes' cost advantage over local organisations: a quarter less to about the same"),
    Uncertain("primes.scale_economies", 0.0, 0.15,
              "how steeply primes' unit cost falls with lot size; none to three times the default"),
    Uncertain("commons.quality", 0.5, 0.9,
              "the quality score an experienced commons bid earns, against primes' 0.6"),
    Uncertain("commons.local_knowledge", 0.0, 0.3,
              "the quality local knowledge adds on relational services; none to twice the default"),
    Uncertain("commons.contract_failure", 0.0, 0.03,
              "how often a new commons holder's contract fails; none to three times the default"),
    # people and organisations (issue 15, docs/ODD.md §7.6-§7.9, §7.15)
    Uncertain("commons.price_elasticity", 1.0, 4.0,
              "no published price elasticity for community shops or co-ops; half to twice the default"),
    Uncertain("commons.trading_markup", 0.0, 0.3,
              "traders' margin over unit cost is assumed; none to three times the default"),
    Uncertain("commons.custom_build_months", 3, 24,
              "how long a new trader takes to build its custom (the liability of newness) is assumed"),
    Uncertain("behaviour.prospects_response", 0.0, 2.0,
              "how strongly founders follow a kind's prospects is not measured; none to twice the default"),
    Uncertain("behaviour.fundraising_ceiling", 0.1, 0.7,
              "the most donations can rise is bounded by flat national giving, not measured locally"),
    Uncertain("commons.hours_per_place", 3.75, 15.0,
              "hours an organisation can organise per volunteer place; half to twice the default"),
    Uncertain("commons.organiser_hours", 80.0, 320.0,
              "volunteer hours a paid organiser can organise; half to twice the default"),
    Uncertain("investment_fund.pass_rate", 0.1, 0.6,
              "share of middling plans a social investment fund backs; no published acceptance rate found"),
)
WEIGHTS = ("weight_price", "weight_quality", "weight_social_value")

# The outputs analysed, each a mean over the final 12 months of a run: column -> label.
OUTPUTS: dict[str, str] = {
    "orgs_total": "commons organisations per 100,000",
    "volunteering_rate": "monthly volunteering (share of residents)",
    "commons_share_total": "commons share of service delivery",
    "local_multiplier": "local multiplier (LM3)",
    "commons_contract_share": "commons share of council contract value",
}
FINAL_MONTHS = 12


# ---------------------------------------------------------------- the parameters
def _field(key: str) -> dataclasses.Field:
    section, _, name = key.partition(".")
    node = getattr(ModelConfig(), section)
    return {f.name: f for f in dataclasses.fields(node)}[name]


def check_bounds(table: tuple[Uncertain, ...] = UNCERTAIN) -> None:
    """Every explored range is a proper interval inside the parameter's allowed range."""
    for u in table:
        meta = _field(u.key).metadata
        lo, hi = meta.get("lo"), meta.get("hi")
        if not u.lo < u.hi:
            raise ConfigError(f"sensitivity range of {u.key} is empty: {u.lo} to {u.hi}")
        if (lo is not None and u.lo < lo) or (hi is not None and u.hi > hi):
            from commonsabm.params.checks import allowed

            raise ConfigError(f"sensitivity range of {u.key} ({u.lo:g} to {u.hi:g}) leaves the allowed "
                              f"range: {allowed(_field(u.key))}")


def problem(table: tuple[Uncertain, ...] = UNCERTAIN) -> dict[str, Any]:
    """The SALib problem for a table of uncertain parameters."""
    return {"num_vars": len(table), "names": [u.key for u in table], "bounds": [[u.lo, u.hi] for u in table]}


def configured(model: ModelConfig, key: str) -> Any:
    section, _, name = key.partition(".")
    return getattr(getattr(model, section), name)


def with_values(model: ModelConfig, values: dict[str, float]) -> ModelConfig:
    """A copy of the model config with some parameters (dotted keys) set."""
    out = copy.deepcopy(model)
    for key, value in values.items():
        section, _, name = key.partition(".")
        kind = type(_field(key).default)
        setattr(getattr(out, section), name, int(round(value)) if kind is int else kind(value))
    _share_the_rest(out.procurement, [k.partition(".")[2] for k in values if k.startswith("procurement.weight_")])
    return out


def _share_the_rest(rules, chosen: list[str]) -> None:
    """Scoring weights must sum to 1: the weights not chosen share what the chosen leave, in
    their configured proportions (a chosen social-value weight of 0.5 with price and quality
    configured at 0.6 and 0.4 gives 0.3 and 0.2)."""
    if not chosen:
        return
    rest = [w for w in WEIGHTS if w not in chosen]
    left = 1.0 - sum(getattr(rules, w) for w in chosen)
    configured = sum(getattr(rules, w) for w in rest)
    for w in rest:
        setattr(rules, w, left * getattr(rules, w) / configured if configured > 0 else left / len(rest))


# ---------------------------------------------------------------- one evaluation
def evaluate(model: ModelConfig, run: RunConfig, values: dict[str, float]) -> list[float]:
    """Run the model once with some parameters set; the outputs' means over the final 12 months."""
    from commonsabm.sim.model import CommonsModel

    sim = CommonsModel(population=run.population, start=run.start, end=run.end, rng=run.seed,
                       config=with_values(model, values))
    sim.run()
    tail = sim.datacollector.get_model_vars_dataframe().iloc[-FINAL_MONTHS:]
    return [float(tail[column].mean()) for column in OUTPUTS]


def evaluate_many(model: ModelConfig, jobs: list[tuple[RunConfig, dict[str, float]]], n_jobs: int,
                  label: str = "", progress: bool = True) -> np.ndarray:
    """Many runs in parallel (joblib processes): one row of outputs per (run, values) job."""
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(evaluate)(model, run, values) for run, values in jobs)
    rows = list(tqdm(results, total=len(jobs), desc=label, unit="run", disable=not progress, leave=False,
                     file=sys.stderr))
    Y = np.asarray(rows, dtype=float).reshape(len(jobs), len(OUTPUTS))
    bad = ~np.isfinite(Y).all(axis=1)
    if bad.any():
        run, values = jobs[int(np.flatnonzero(bad)[0])]
        raise RuntimeError(f"a model run gave a non-finite output (seed {run.seed}, {values})")
    return Y


def evaluate_all(model: ModelConfig, run: RunConfig, names: list[str], X: np.ndarray, n_jobs: int,
                 label: str = "", progress: bool = True) -> np.ndarray:
    """Every row of a design (columns = names), all with the run's seed; one row of outputs per row of X."""
    jobs = [(run, dict(zip(names, map(float, row)))) for row in X]
    return evaluate_many(model, jobs, n_jobs, label, progress)


def seed_noise(model: ModelConfig, run: RunConfig, seeds: int, n_jobs: int, progress: bool = True) -> pd.DataFrame:
    """Each output at the configured values over `seeds` seeds (run.seed, run.seed + 1, ...): mean and SD."""
    jobs = [(dataclasses.replace(run, seed=run.seed + k), {}) for k in range(seeds)]
    Y = evaluate_many(model, jobs, n_jobs, "seeds", progress)
    return pd.DataFrame({"output": list(OUTPUTS), "mean": Y.mean(axis=0),
                         "sd": Y.std(axis=0, ddof=1) if seeds > 1 else np.nan, "seeds": seeds})


# ---------------------------------------------------------------- the analysis
def morris_table(prob: dict[str, Any], X: np.ndarray, Y: np.ndarray, levels: int, seed: int) -> pd.DataFrame:
    """Morris indices per output and parameter (tidy: one row per output and parameter)."""
    from SALib.analyze import morris

    frames = []
    for j, output in enumerate(OUTPUTS):
        res = morris.analyze(prob, X, Y[:, j], num_levels=levels, seed=seed)
        frame = pd.DataFrame({"output": output, "parameter": prob["names"], "mu": res["mu"],
                              "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                              "sigma": res["sigma"]})
        top = frame["mu_star"].max()
        frame["mu_star_normalised"] = frame["mu_star"] / top if top > 0 else 0.0
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def rank_parameters(morris: pd.DataFrame) -> list[str]:
    """Parameters, most influential first, by mu_star normalised within each output.

    A parameter's score is its largest normalised mu_star over the outputs (so the
    strongest driver of any one output ranks high); ties go to the larger mean over the
    outputs, then to the order the parameters were given in.
    """
    frame = morris[["output", "parameter", "mu_star"]].copy()
    top = frame.groupby("output")["mu_star"].transform("max")
    frame["normalised"] = np.where(top > 0, frame["mu_star"] / top.where(top > 0, 1.0), 0.0)
    order = {name: i for i, name in enumerate(dict.fromkeys(frame["parameter"]))}
    score = frame.groupby("parameter", sort=False)["normalised"].agg(["max", "mean"])
    score["order"] = [order[name] for name in score.index]
    score = score.sort_values(["max", "mean", "order"], ascending=[False, False, True])
    return list(score.index)


def top_parameters(morris: pd.DataFrame, k: int) -> list[str]:
    """The k most influential parameters by Morris screening (see rank_parameters)."""
    return rank_parameters(morris)[:k]


def sobol_table(prob: dict[str, Any], Y: np.ndarray, seed: int) -> pd.DataFrame:
    """First-order and total Sobol indices per output and parameter (tidy)."""
    from SALib.analyze import sobol

    frames = []
    for j, output in enumerate(OUTPUTS):
        y = Y[:, j]
        if np.ptp(y) == 0:  # the output does not move at all: no parameter explains any variance
            zeros = np.zeros(prob["num_vars"])
            res = {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
        else:
            res = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
        frames.append(pd.DataFrame({"output": output, "parameter": prob["names"],
                                    **{k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}}))
    return pd.concat(frames, ignore_index=True)


def analyse(model: ModelConfig, run: RunConfig, cfg: SensitivityConfig,
            table: tuple[Uncertain, ...] = UNCERTAIN, progress: bool = True) -> dict[str, Any]:
    """Morris screening of every uncertain parameter, then Sobol on the top `cfg.sobol_top`."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    prob = problem(table)
    X_m = morris_sample.sample(prob, cfg.morris_trajectories, num_levels=cfg.morris_levels, seed=cfg.seed)
    Y_m = evaluate_all(model, run, prob["names"], X_m, cfg.n_jobs, "morris", progress)
    morris = morris_table(prob, X_m, Y_m, cfg.morris_levels, cfg.seed)
    chosen = top_parameters(morris, min(cfg.sobol_top, len(table)))
    sub = problem(tuple(next(u for u in table if u.key == key) for key in chosen))  # in rank order
    X_s = sobol_sample.sample(sub, cfg.sobol_samples, calc_second_order=False, seed=cfg.seed)
    Y_s = evaluate_all(model, run, chosen, X_s, cfg.n_jobs, "sobol", progress)
    sobol = sobol_table(sub, Y_s, cfg.seed)
    runs = {"morris": len(X_m), "sobol": len(X_s), "seeds": cfg.noise_seeds}
    spread = pd.DataFrame({"output": list(OUTPUTS), "sd_morris_sample": Y_m.std(axis=0, ddof=1),
                           "sd_sobol_sample": Y_s.std(axis=0, ddof=1)})
    noise = seed_noise(model, run, cfg.noise_seeds, cfg.n_jobs, progress) if cfg.noise_seeds else None
    morris["seed_sd"] = morris["output"].map(dict(zip(noise["output"], noise["sd"]))) if noise is not None else np.nan
    return {"morris": morris, "sobol": sobol, "noise": noise, "spread": spread, "ranking": rank_parameters(morris),
            "chosen": chosen, "runs": runs}


def check_settings(app) -> None:
    """What the schema's ranges cannot say; the command line checks it before creating any output."""
    cfg: SensitivityConfig = app.sensitivity
    if cfg.morris_levels % 2:
        raise ConfigError(f"sensitivity.morris_levels={cfg.morris_levels} is odd; allowed: an even number")
    if month_index(cfg.end) < month_index(app.run.start):
        raise ConfigError(f"sensitivity.end={cfg.end} is before run.start={app.run.start}; "
                          "allowed: an end on or after the start")
    check_bounds()


FILES = ("sensitivity_morris.csv", "sensitivity_sobol.csv", "sensitivity.md", "sensitivity.png",
         "config.yaml", "manifest.json")


def run_mode(app, out: Path, resolved: str) -> None:
    """The `sensitivity` mode: Morris screening, then Sobol on the top parameters, with all outputs.

    Recorded in status.json like a run (``jobs.tracked``): an analysis stopped part-way
    says so, and one that completed is not redone when run again into its directory.
    """
    from commonsabm.runs.jobs import tracked

    check_settings(app)
    tracked(out, FILES, resolved, lambda: write_analysis(app, out, resolved), overwrite=app.run.overwrite)


def write_analysis(app, out: Path, resolved: str) -> None:
    from importlib.metadata import version

    from commonsabm.params.schema import SECTIONS
    from commonsabm.analysis.sensitivity_report import figure, print_summary, report
    from commonsabm.runs.jobs import MANIFEST, checksums
    from commonsabm.runs.outputs import atomic_write, manifest

    cfg: SensitivityConfig = app.sensitivity
    model = ModelConfig(**{name: getattr(app, name) for name in SECTIONS})
    run = RunConfig(seed=cfg.seed, population=cfg.population, start=app.run.start, end=cfg.end)
    started = time.perf_counter()
    result = analyse(model, run, cfg)
    wall = time.perf_counter() - started

    def csv(frame: pd.DataFrame):
        # full precision: the ranking that chose the Sobol parameters must be recomputable
        # from the file (at six digits, near-tied Morris scores swapped places on reading)
        return lambda path: frame.to_csv(path, index=False, float_format="%.17g")

    atomic_write(out / "sensitivity_morris.csv", csv(result["morris"]))
    atomic_write(out / "sensitivity_sobol.csv", csv(result["sobol"]))
    text = report(result, model, run, cfg, app.scenario, wall)
    atomic_write(out / "sensitivity.md", lambda path: path.write_text(text))
    atomic_write(out / "sensitivity.png", lambda path: figure(
        result, path, title=f"{app.scenario}: {run.population:,} residents to {run.end}, seed {run.seed}"))
    atomic_write(out / "config.yaml", lambda path: path.write_text(resolved))
    info = manifest(run, app.scenario, wall)
    info["libraries"].update({"SALib": version("SALib"), "joblib": version("joblib")})
    info.update({
        "mode": "sensitivity", "sensitivity": dataclasses.asdict(cfg),
        "uncertain": [u._asdict() for u in UNCERTAIN], "outputs": OUTPUTS, "final_months": FINAL_MONTHS,
        "runs": result["runs"], "sobol_parameters": result["chosen"], "morris_ranking": result["ranking"],
        "seed_noise": None if result["noise"] is None else result["noise"].to_dict(orient="records"),
        "config": dataclasses.asdict(model),
        "checksums": checksums(out, [name for name in FILES if name != MANIFEST]),  # proof without status.json
    })
    atomic_write(out / "manifest.json", lambda path: path.write_text(json.dumps(info, indent=2)))
    print_summary(result, out)
