"""The `sensitivity` mode: a global sensitivity analysis of the behavioural parameters nobody knows well.

BRIEF §5 asks whether a verdict survives the behavioural assumptions. This mode first
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from commonsabm.params.months import month_index
from commonsabm.params.schema import ConfigError, ModelConfig, RunConfig, p


@dataclass
class SensitivityConfig:
    population: int = p(20_000, 500, 5_000_000, help="adult residents in each model run of the analysis",
                        unit="people", source="not a model parameter: smaller than run.population so that "
                        "hundreds of runs fit in minutes")
    end: str = p("2030-12", help="last simulated month of each run (YYYY-MM); outputs are means over "
                 "its final 12 months", source="BRIEF §2")
    morris_trajectories: int = p(10, 2, 1000, help="Morris trajectories (each costs one run per "
                                 "uncertain parameter, plus one)", source="Campolongo et al. 2007: 10-20 usual")
    morris_levels: int = p(4, 2, 20, help="grid levels of the Morris design (an even number)",
                           source="Saltelli et al. 2008: 4 levels usual")
    sobol_top: int = p(3, 1, 20, help="how many of the most influential parameters (by Morris) go "
                       "on to the Sobol analysis")
    sobol_samples: int = p(64, 2, 1_000_000, help="Sobol base samples N (a power of 2); costs "
                           "N x (sobol_top + 2) runs")
    n_jobs: int = p(2, 1, 1024, help="model runs in parallel (joblib processes)")
    seed: int = p(42, 0, 2**32 - 1, help="seed of every model run (common random numbers) and of "
                  "the Morris and Sobol designs", source="not a model parameter: any seed is valid")
    noise_seeds: int = p(8, 0, 10_000, help="runs at the configured values with seeds seed, seed+1, ...: "
                         "the seed-to-seed spread that Morris effects are compared with (0 = skip)",
                         source="not a model parameter: a yardstick for the indices")


class Uncertain(NamedTuple):
    """One uncertain parameter: its config key, the range explored and why."""
    key: str
    lo: float
    hi: float
    reason: str


# The behavioural and contractual parameters nobody knows well (BRIEF §5), with the range
# the analysis explores. Every range lies inside the parameter's allowed range in config.py.
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
)

# The outputs analysed, each a mean over the final 12 months of a run: column -> label.
OUTPUTS: dict[str, str] = {
    "orgs_total": "commons organisations per 100,000",
    "volunteering_rate": "monthly volunteering (share of residents)",
    "commons_share_total": "commons share of service delivery",
    "local_multiplier": "local multiplier (LM3)",
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
    return out


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


# ---------------------------------------------------------------- reporting
def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def bounds_table(model: ModelConfig, table: tuple[Uncertain, ...] = UNCERTAIN) -> pd.DataFrame:
    from commonsabm.params.checks import allowed

    return pd.DataFrame([{"parameter": f"`{u.key}`", "configured": configured(model, u.key), "low": u.lo,
                          "high": u.hi, "allowed": allowed(_field(u.key)), "why uncertain": u.reason}
                         for u in table])


def report(result: dict[str, Any], model: ModelConfig, run: RunConfig, cfg: SensitivityConfig,
           scenario: str, wall: float) -> str:
    """sensitivity.md: the settings, the ranges explored, and the Morris and Sobol tables."""
    morris = result["morris"].copy()
    morris["parameter"] = "`" + morris["parameter"] + "`"
    sobol = result["sobol"].copy()
    sobol["parameter"] = "`" + sobol["parameter"] + "`"
    morris = morris.sort_values(["output", "mu_star"], ascending=[True, False], key=_output_order)
    sobol = sobol.sort_values(["output", "ST"], ascending=[True, False], key=_output_order)
    ranking = ", ".join(f"`{k}`" for k in result["ranking"])
    return "\n".join([
        f"# Sensitivity analysis: {scenario}",
        "",
        f"{run.population:,} residents, {run.start} to {run.end}, seed {run.seed} for every run "
        f"(common random numbers). Outputs are means over the final {FINAL_MONTHS} months. "
        f"Morris: {cfg.morris_trajectories} trajectories, {cfg.morris_levels} levels, {result['runs']['morris']} runs. "
        f"Sobol: N = {cfg.sobol_samples} on the top {len(result['chosen'])}, {result['runs']['sobol']} runs. "
        f"Wall time {wall:.0f} s with {cfg.n_jobs} process(es).",
        "",
        "## Parameters and the ranges explored",
        "",
        "Every other parameter stays at its configured value.",
        "",
        _markdown(bounds_table(model)),
        "",
        "## Morris screening",
        "",
        "mu_star: mean absolute elementary effect of moving a parameter across its whole range "
        "(in the output's units); sigma: their spread (interaction or non-linearity); "
        "mu_star_normalised: mu_star over the largest mu_star for that output.",
        "",
        "Outputs: " + "; ".join(f"`{k}` = {v}" for k, v in OUTPUTS.items()) + ".",
        "",
        _markdown(morris[["output", "parameter", "mu", "mu_star", "mu_star_conf", "sigma", "mu_star_normalised"]]),
        "",
        f"Ranking (largest normalised mu_star over the outputs): {ranking}.",
        "",
        *_noise_section(result),
        f"## Sobol indices on the top {len(result['chosen'])}",
        "",
        "S1: share of the output's variance due to the parameter alone; ST: including its "
        "interactions. Confidence intervals are 95% bootstrap intervals (+/-).",
        "",
        _markdown(sobol[["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]]),
        "",
    ])


def _noise_section(result: dict[str, Any]) -> list[str]:
    """How the parameters' effects compare with what a change of seed alone does."""
    spread = result["spread"].copy()
    top = result["morris"].groupby("output")["mu_star"].max()
    spread["largest_mu_star"] = spread["output"].map(top)
    noise = result["noise"]
    if noise is None:
        return ["## Spread of each output", "", _markdown(spread), ""]
    table = noise.rename(columns={"mean": "mean_at_configured", "sd": "sd_across_seeds"}).drop(columns="seeds")
    table = table.merge(spread, on="output")
    table["largest_mu_star_over_seed_sd"] = table["largest_mu_star"] / table["sd_across_seeds"]
    return ["## Seed noise", "",
            f"Each output at the configured values over {int(noise['seeds'].iloc[0])} seeds, against its spread "
            "across the Morris and Sobol samples (one seed, parameters varied). An effect not well above "
            "the seed-to-seed SD is within the model's own randomness; where the Sobol sample's spread is "
            "not well above it either, its Sobol indices mostly measure how a fixed-seed run jumps when any "
            "parameter moves (ST far above S1, sums of ST above 1), not a real effect.",
            "", _markdown(table), ""]


def _output_order(column: pd.Series) -> pd.Series:
    if column.name == "output":
        return column.map({k: i for i, k in enumerate(OUTPUTS)})
    return column


def figure(result: dict[str, Any], path: Path, title: str = "") -> None:
    """Morris mu_star per output (top row) and Sobol S1 and ST with 95% intervals (bottom row)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    morris, sobol = result["morris"], result["sobol"]
    short = lambda keys: [k.partition(".")[2] for k in keys]  # noqa: E731
    fig, axes = plt.subplots(2, len(OUTPUTS), figsize=(4.2 * len(OUTPUTS), 8.5),
                             gridspec_kw={"height_ratios": [3, 2]})
    for j, (output, label) in enumerate(OUTPUTS.items()):
        ax = axes[0, j]
        m = morris[morris["output"] == output].iloc[::-1]
        chosen = m["parameter"].isin(result["chosen"])
        ax.barh(short(m["parameter"]), m["mu_star"], xerr=m["mu_star_conf"], capsize=2,
                color=np.where(chosen, "tab:red", "tab:gray"))
        sd = m["seed_sd"].iloc[0]
        if np.isfinite(sd):
            ax.axvline(sd, color="black", linestyle="--", linewidth=1, label="SD across seeds")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("Morris mu* (output units)")
        ax.tick_params(axis="y", labelsize=8)
        if j:
            ax.set_yticklabels([])
        ax = axes[1, j]
        s = sobol[sobol["output"] == output]
        x = np.arange(len(s))
        ax.bar(x - 0.2, s["S1"], 0.4, yerr=s["S1_conf"], capsize=2, label="S1", color="tab:blue")
        ax.bar(x + 0.2, s["ST"], 0.4, yerr=s["ST_conf"], capsize=2, label="ST", color="tab:orange")
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_xticks(x, short(s["parameter"]), rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("Sobol index" if j == 0 else "")
        if j == 0:
            ax.legend(fontsize=8)
    fig.suptitle(f"{title}\nTop: Morris screening (red: taken on to Sobol; dashed: seed-to-seed SD at the "
                 "configured values). Bottom: Sobol first-order (S1) and total (ST) indices, 95% intervals",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def print_summary(result: dict[str, Any], out: Path) -> None:
    morris, sobol = result["morris"], result["sobol"]
    print(f"\nMorris ({result['runs']['morris']} runs): the strongest driver of each output")
    for output in OUTPUTS:
        row = morris[morris["output"] == output].sort_values("mu_star", ascending=False).iloc[0]
        noise = f"  (seed SD {row['seed_sd']:.4g})" if np.isfinite(row["seed_sd"]) else ""
        print(f"  {output:22s}{row['parameter']:40s} mu*={row['mu_star']:.4g}{noise}")
    print(f"Sobol ({result['runs']['sobol']} runs) on: {', '.join(result['chosen'])}")
    for output in OUTPUTS:
        s = sobol[sobol["output"] == output]
        cells = "  ".join(f"{k.partition('.')[2]} ST={st:.2f}" for k, st in zip(s["parameter"], s["ST"]))
        print(f"  {output:22s}{cells}")
    print(f"\noutputs: {out.resolve()}")


# ---------------------------------------------------------------- the mode
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
    tracked(out, FILES, resolved, lambda: write_analysis(app, out, resolved))


def write_analysis(app, out: Path, resolved: str) -> None:
    from importlib.metadata import version

    from commonsabm.params.schema import SECTIONS
    from commonsabm.runs.outputs import atomic_write, manifest

    cfg: SensitivityConfig = app.sensitivity
    model = ModelConfig(**{name: getattr(app, name) for name in SECTIONS})
    run = RunConfig(seed=cfg.seed, population=cfg.population, start=app.run.start, end=cfg.end)
    started = time.perf_counter()
    result = analyse(model, run, cfg)
    wall = time.perf_counter() - started

    def csv(frame: pd.DataFrame):
        return lambda path: frame.to_csv(path, index=False, float_format="%.6g")

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
    })
    atomic_write(out / "manifest.json", lambda path: path.write_text(json.dumps(info, indent=2)))
    print_summary(result, out)
