"""The sensitivity analysis's report: its tables in markdown, its figure and its printed summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commonsabm.analysis.sensitivity import (FINAL_MONTHS, OUTPUTS, UNCERTAIN, SensitivityConfig, Uncertain,
                                             _field, configured)
from commonsabm.params.schema import ModelConfig, RunConfig


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
