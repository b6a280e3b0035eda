"""History matching: which worlds of the uncertain parameters reproduce every calibration band?

A world is one draw of every uncertain parameter (``problem.uncertainties``) from a Latin
hypercube, drawn by EMA Workbench's own sampler through ``perform_experiments``. Each world
runs the calibrated baseline (no debate lever changed) over the same replicates (common random
numbers), and each calibration target is measured over them as the calibration measures it
(``calibration.measure``), with its standard deviation over the replicates.

A world is *kept* (not ruled out) by history matching's implausibility (Vernon, Goldstein &
Bower 2010; Andrianakis et al. 2015): for every target, the distance of the world's value
from its band (``calibration.TARGETS``), max(0, low - m, m - high), is at most 3 standard
errors of that value over the seeds (sd / sqrt(seeds)). A few seeds of a small place leave
the targets noisy, and rejecting a world whose mean fell just outside a band would reject
on noise. With no spread (one seed) the value must be inside, as under ``--rule strict``,
which keeps a world only if every target is inside its band. The kept worlds are the
calibrated ensemble the debate is argued over (+experiment=debate_ensemble).

    python -m commonsabm.analysis.ensemble.worlds --worlds 200 --seeds 4 --population 10000 \\
        --out outputs/worlds --jobs 2 --conf conf

writes worlds.parquet (one row per world tried: its parameter values, each target's value,
spread and implausibility, the claims' metrics, whether every band holds (``inside``) and
whether it was kept) and worlds.md (both counts, each parameter's kept range and its
acceptance rate across its range, and each kept world's implausibility) into --out; with
--conf, each kept world as the config group DIR/world/ (``group.py``; --keep N writes the
first N). The same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from commonsabm.analysis.calibration import TARGETS
from commonsabm.analysis.ensemble.adapter import SPREAD
from commonsabm.analysis.ensemble.problem import KEYS
from commonsabm.analysis.ensemble.problem import WORLD as UNCERTAIN
from commonsabm.analysis.sensitivity import Uncertain
from commonsabm.params.months import month_index
from commonsabm.params.schema import ConfigError

LHS_SEED = 17  # the Latin hypercube's seed: fixed, so that the same arguments draw the same worlds
TARGETS_END = "2020-12"  # the last month any target reads (co-ops 2018-2020): a shorter run cannot be judged
FIFTHS = 5
CUTOFF = 3.0  # history matching's cut-off: Pukelsheim's three-sigma rule (Vernon, Goldstein & Bower 2010)
RULES = ("implausibility", "strict")
IMPLAUSIBILITY = "_implausibility"  # the column beside each target's value and spread (SPREAD)
TABLE, REPORT = "worlds.parquet", "worlds.md"


def bands(targets=TARGETS) -> dict[str, tuple[float, float]]:
    """Each target's band, low to high, as the calibration states it."""
    return {t.name: (t.low, t.high) for t in targets}


def implausibility(value, sd, seeds: int, low: float, high: float) -> np.ndarray:
    """How far a world's value lies outside a band, in standard errors of that value over its seeds.

    The distance is max(0, low - m, m - high); the standard error sd/sqrt(seeds). A target
    with no spread over seeds (one seed, or a deterministic target) has no error to excuse a
    miss: inside its band it scores 0, outside it infinitely implausible, whatever the band's
    width (a half-open band included). A value that could not be measured (NaN) is
    infinitely implausible.
    """
    value, sd = np.asarray(value, dtype=float), np.nan_to_num(np.asarray(sd, dtype=float), nan=0.0)
    distance = np.maximum(0.0, np.maximum(low - value, value - high))
    error = sd / np.sqrt(max(int(seeds), 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(distance > 0, distance / error, 0.0)  # distance > 0 and no error: inf
    return np.where(np.isnan(value), np.inf, score)


def implausibilities(table: pd.DataFrame, within: Mapping[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Each target's implausibility in each world; a table without spreads (``{target}_sd``) has none over seeds."""
    within = bands() if within is None else within
    seeds = int(table["seeds"].iloc[0]) if "seeds" in table.columns and len(table) else 1
    zero = pd.Series(0.0, index=table.index)
    return pd.DataFrame({name: implausibility(table[name], table.get(f"{name}{SPREAD}", zero), seeds, low, high)
                         for name, (low, high) in within.items()}, index=table.index)


def judge(table: pd.DataFrame, within: Mapping[str, tuple[float, float]] | None = None,
          rule: str = "implausibility", cutoff: float = CUTOFF) -> pd.Series:
    """Whether each world is kept.

    ``implausibility`` (history matching, Vernon, Goldstein & Bower 2010): not ruled out while
    every target's implausibility is at most ``cutoff``, so a world is not rejected for a mean
    that noise over a few seeds put just outside a band. ``strict``: every target inside its
    band. With one seed, or no spread over seeds, the two agree. A target that could not be
    measured keeps no world.
    """
    if rule not in RULES:
        raise ConfigError(f"rule={rule!r}; allowed: one of {', '.join(RULES)}")
    if rule == "implausibility":
        return (implausibilities(table, within) <= cutoff).all(axis=1)
    within = bands() if within is None else within
    kept = pd.Series(True, index=table.index)
    for name, (low, high) in within.items():
        kept &= table[name].between(low, high)  # NaN is outside every band
    return kept


def draw(worlds: int, seeds: int, population: int, end: str = TARGETS_END, seed: int = 42,
         lhs_seed: int = LHS_SEED, jobs: int = 1,
         within: Mapping[str, tuple[float, float]] | None = None,
         rule: str = "implausibility", cutoff: float = CUTOFF) -> pd.DataFrame:
    """Draw ``worlds`` Latin-hypercube worlds, run the baseline in each over ``seeds`` replicates,
    and judge each against the bands; one row per world, in the order drawn: its values, each
    target's value, spread over seeds and implausibility, the claims' metrics, the largest
    implausibility, whether every band holds outright (``inside``) and whether it is ``kept``
    by ``rule``."""
    from ema_workbench import MultiprocessingEvaluator, Samplers, SequentialEvaluator

    from commonsabm.analysis.ensemble.adapter import OUTCOMES, SPREADS, model

    ema = model(population=population, end=end, seed=seed, seeds=seeds, with_levers=False)
    evaluator = (SequentialEvaluator(ema) if jobs == 1 else MultiprocessingEvaluator(ema, n_processes=jobs))
    with evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=worlds, uncertainty_sampling=Samplers.LHS, uncertainty_sampling_kwargs={"rng": lhs_seed})
    table = pd.DataFrame({"world": np.arange(len(experiments), dtype=np.int64)})
    for name, key in KEYS.items():
        table[key] = experiments[name].to_numpy(dtype=float)
    for name in OUTCOMES + SPREADS:
        table[name] = np.asarray(outcomes[name], dtype=float)
    table["seeds"] = np.int64(seeds)
    scores = implausibilities(table, within)
    for name in scores.columns:
        table[f"{name}{IMPLAUSIBILITY}"] = scores[name]
    table["implausibility"] = scores.max(axis=1)
    table["inside"] = judge(table, within, "strict")
    table["kept"] = judge(table, within, rule, cutoff)
    return table


# ---------------------------------------------------------------- what the kept worlds say
def tally(table: pd.DataFrame) -> tuple[int, int]:
    """Worlds kept, of worlds tried."""
    return int(table["kept"].sum()), len(table)


def kept_ranges(table: pd.DataFrame, uncertain: tuple[Uncertain, ...] = UNCERTAIN) -> pd.DataFrame:
    """Each parameter's explored range and the range its kept worlds span (NaN when none is kept)."""
    kept = table[table["kept"]]
    return pd.DataFrame({"parameter": [u.key for u in uncertain], "lo": [u.lo for u in uncertain],
                         "hi": [u.hi for u in uncertain],
                         "kept_lo": [kept[u.key].min() if len(kept) else np.nan for u in uncertain],
                         "kept_hi": [kept[u.key].max() if len(kept) else np.nan for u in uncertain]})


def acceptance(table: pd.DataFrame, uncertain: tuple[Uncertain, ...] = UNCERTAIN, bins: int = FIFTHS) -> pd.DataFrame:
    """Each parameter's acceptance rate across its range: worlds tried and kept in each of ``bins``
    equal parts of the explored range (the last part includes its top)."""
    rows = []
    for u in uncertain:
        part = np.clip(((table[u.key] - u.lo) / (u.hi - u.lo) * bins).astype(int), 0, bins - 1)
        for b in range(bins):
            chosen = part == b
            tried, kept = int(chosen.sum()), int((chosen & table["kept"]).sum())
            rows.append({"parameter": u.key, "part": b + 1, "from": u.lo + (u.hi - u.lo) * b / bins,
                         "to": u.lo + (u.hi - u.lo) * (b + 1) / bins, "tried": tried, "kept": kept,
                         "rate": kept / tried if tried else np.nan})
    return pd.DataFrame(rows)


def rule_words(rule: str, cutoff: float = CUTOFF) -> str:
    return ("every calibration band held" if rule == "strict" else
            f"every target's implausibility at most {cutoff:g}: no mean further outside its band than "
            f"{cutoff:g} standard errors over the seeds")


def markdown(table: pd.DataFrame, uncertain: tuple[Uncertain, ...] = UNCERTAIN, bins: int = FIFTHS,
             rule: str = "implausibility", cutoff: float = CUTOFF) -> str:
    """The table for docs/validation.md: each parameter's explored and kept range, and worlds kept
    of worlds tried in each part of its range (a flat row says the bands do not constrain it)."""
    kept, tried = tally(table)
    ranges = kept_ranges(table, uncertain).set_index("parameter")
    rates = acceptance(table, uncertain, bins)
    parts = " | ".join(f"part {b + 1}" for b in range(bins))
    inside = int(table["inside"].sum()) if "inside" in table.columns else kept
    lines = [f"{kept} of {tried} worlds kept ({rule_words(rule, cutoff)}); {inside} of {tried} hold every "
             "calibration band outright.", "",
             f"| parameter | explored | kept range | {parts} |", "|---|---|---|" + "---|" * bins]
    for u in uncertain:
        r = ranges.loc[u.key]
        span = "none kept" if np.isnan(r["kept_lo"]) else f"{r['kept_lo']:.4g} to {r['kept_hi']:.4g}"
        cells = " | ".join(f"{row.kept}/{row.tried}" for row in rates[rates["parameter"] == u.key].itertuples())
        lines.append(f"| {u.key} | {u.lo:g} to {u.hi:g} | {span} | {cells} |")
    lines += ["", f"Each part is one of {bins} equal parts of the explored range, lowest first: "
                  "worlds kept of worlds tried with the parameter in that part."]
    worst = [c for c in table.columns if c.endswith(IMPLAUSIBILITY)]
    if worst and kept:  # each kept world, and the target it comes closest to failing on
        lines += ["", "| kept world | implausibility | at target |", "|---|---|---|"]
        for i, row in table[table["kept"]].iterrows():
            at = max(worst, key=lambda c: row[c]).removesuffix(IMPLAUSIBILITY)
            lines.append(f"| {world_name(int(row['world']))} | {row['implausibility']:.2f} | {at} |")
    return "\n".join(lines)


def world_name(world: int) -> str:
    """A kept world's option name in the conf group ``world``: its place in the draw."""
    return f"w{world:03d}"


# ---------------------------------------------------------------- the command
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m commonsabm.analysis.ensemble.worlds", description=(
        "Draw Latin-hypercube worlds of the uncertain parameters, run the baseline in each and keep those "
        f"that hold every calibration band; write {TABLE} and {REPORT} into --out."))
    parser.add_argument("--worlds", type=int, required=True, help="worlds to draw (1 or more)")
    parser.add_argument("--seeds", type=int, required=True, help="replicates per world (1 or more)")
    parser.add_argument("--population", type=int, required=True, help="residents per run")
    parser.add_argument("--out", required=True, help=f"directory for {TABLE} and {REPORT} (made if absent)")
    parser.add_argument("--end", default=TARGETS_END, help=f"last month, YYYY-MM (default and earliest {TARGETS_END})")
    parser.add_argument("--seed", type=int, default=42, help="run seed; replicate k uses its k-th child (default 42)")
    parser.add_argument("--lhs-seed", type=int, default=LHS_SEED, help=f"Latin hypercube seed (default {LHS_SEED})")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (EMA's multiprocessing evaluator when 2+)")
    parser.add_argument("--rule", choices=RULES, default="implausibility", help=(
        f"which worlds are kept: implausibility (history matching; default) or strict (every band held)"))
    parser.add_argument("--cutoff", type=float, default=CUTOFF, help=f"implausibility cut-off (default {CUTOFF:g})")
    parser.add_argument("--conf", help="also write each kept world as DIR/world/wNNN.yaml, a Hydra config group "
                                       "(+world=wNNN); --conf conf replaces the project's default ensemble")
    parser.add_argument("--keep", type=int, help="with --conf: write only the first N kept worlds, in the order drawn")
    return parser


def _check_arguments(args: argparse.Namespace) -> None:
    from commonsabm.analysis.ensemble.adapter import settings

    for option, value in (("--worlds", args.worlds), ("--seeds", args.seeds), ("--jobs", args.jobs)):
        if value < 1:
            raise ConfigError(f"{option}={value}; allowed: 1 or more")
    if args.seed < 0 or args.lhs_seed < 0:
        option, value = ("--seed", args.seed) if args.seed < 0 else ("--lhs-seed", args.lhs_seed)
        raise ConfigError(f"{option}={value}; allowed: 0 or more")
    try:
        late = month_index(args.end) < month_index(TARGETS_END)
    except ValueError:
        raise ConfigError(f"--end={args.end!r} is not a month; allowed: YYYY-MM, e.g. {TARGETS_END}") from None
    if late:
        raise ConfigError(f"--end={args.end} stops before the calibration targets' last month; "
                          f"allowed: {TARGETS_END} or later")
    if not args.cutoff > 0:
        raise ConfigError(f"--cutoff={args.cutoff}; allowed: a number above 0")
    if args.keep is not None and (args.keep < 1 or not args.conf):
        raise ConfigError(f"--keep={args.keep}; allowed: 1 or more, with --conf")
    for option, path in (("--out", args.out), ("--conf", args.conf)):
        if path and Path(path).exists() and not Path(path).is_dir():
            raise ConfigError(f"{option}={path} is a file; allowed: a directory (made if absent)")
    try:  # the baseline's settings at this size, checked before anything runs
        settings({}, {}, args.population, args.end)
    except ConfigError as exc:
        raise ConfigError(f"--population/--end: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    from commonsabm.runs.outputs import atomic_write

    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        _check_arguments(args)
    except ConfigError as exc:
        print(f"commonsabm.analysis.ensemble.worlds: error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    table = draw(args.worlds, args.seeds, args.population, args.end, args.seed, args.lhs_seed, args.jobs,
                 rule=args.rule, cutoff=args.cutoff)
    wall = time.perf_counter() - started
    out = Path(args.out)
    atomic_write(out / TABLE, lambda p: table.to_parquet(p, index=False, engine="pyarrow"))
    text = (f"Worlds: {args.worlds} Latin-hypercube draws (seed {args.lhs_seed}) of {len(UNCERTAIN)} uncertain "
            f"parameters; the baseline at {args.population:,} residents to {args.end} over {args.seeds} "
            f"replicate(s) (children of seed {args.seed}).\n\n" + markdown(table, rule=args.rule, cutoff=args.cutoff)
            + "\n")
    atomic_write(out / REPORT, lambda p: p.write_text(text))
    kept, tried = tally(table)
    inside = int(table["inside"].sum())
    print(f"{kept} of {tried} worlds kept ({args.rule}; {inside} inside every band) in {wall / 60:.1f} minutes "
          f"on {args.jobs} process(es); outputs: {out}")
    if args.conf:
        from commonsabm.analysis.ensemble.group import write_group

        command = " ".join(["python -m commonsabm.analysis.ensemble.worlds",
                            *(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))])
        written = write_group(table, Path(args.conf), command, args.keep)
        print(f"config group: {len(written)} world(s) in {Path(args.conf) / 'world'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
