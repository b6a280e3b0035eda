"""Stage 3 of the ensemble verdict: the debate judged in every calibrated world, and what it depends on.

    python -m commonsabm.analysis.ensemble.verdict SWEEP_DIR [--worlds WORLDS] [--debate DEBATE_DIR] [--out DIR]

SWEEP_DIR is a gathered ``+experiment=debate_ensemble`` sweep: the debate's factorial crossed
with every kept world, its ``sweep_summary.parquet`` and ``sweep_monthly.parquet`` as the
debate sweep's, with a ``world`` column naming each job's world ("w003"). WORLDS is the
worlds table (``worlds.parquet``, or the directory holding it; by default SWEEP_DIR's own),
whose kept rows give each world's parameter values.

Per world, every claim is judged as the debate sweep judges it (``claims.judge`` on that
world's rows, as ``analysis.verdict.compute`` judges a sweep's); the share of worlds in which
each holds, with its interval and its verdict, is ``shares.shares``; a contested claim gets
PRIM's box over the worlds' parameters (``discovery.discover``); each claim's primary effect (its first part) is estimated year by
year from the policy's start, exactly as for the final year but on that year's mean, and
banded across worlds (``over_time``); the per-cell replicates of the claims' metrics go
through the variance-stability check (``stability.check``).

The seed-only verdict beside it is the debate sweep's own when ``--debate`` names one (the
verdict "as now"), else the verdict of the ensemble's rows pooled over the worlds: each
cell's replicate k averaged over the worlds, so the interval is the seeds' alone, as if the
mix of worlds were known.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from commonsabm.analysis.claims import CLAIMS, judge
from commonsabm.analysis.ensemble import discovery, over_time, shares, stability
from commonsabm.analysis.ensemble._report import markdown
from commonsabm.analysis.estimates import completed
from commonsabm.analysis.findings import Findings
from commonsabm.analysis.ensemble.problem import WORLD as UNCERTAIN
from commonsabm.analysis.verdict import compute, sweep_end
from commonsabm.params.months import month_index
from commonsabm.runs.jobs import atomic_write
from commonsabm.runs.sweep import MONTHLY_FILE, SUMMARY_FILE, load_sweep

REPORT = "ensemble_verdict.md"
CLAIMS_TABLE = "ensemble_claims.parquet"  # one row per (world, claim): status, holds, the primary effect
BY_YEAR_TABLE = "ensemble_by_year.parquet"  # one row per (world, claim, year): the primary effect that year
BOXES_TABLE = "ensemble_boxes.parquet"  # one row per contested claim and parameter its box restricts
OVER_TIME_FIGURE = "ensemble_over_time.png"
WORLDS_TABLE = "worlds.parquet"
SCENARIO = "debate_ensemble"  # where `+experiment=debate_ensemble` puts its sweeps: multirun/debate_ensemble/
ENV = "COMMONSABM_ENSEMBLE"
PARAMETERS = tuple(u.key for u in UNCERTAIN)  # the worlds' parameters: the uncertain list every stage shares
NAME = "commonsabm.analysis.ensemble.verdict"


def box_figure(claim: str) -> str:
    return f"ensemble_box_{claim}.png"


# ---------------------------------------------------------------- reading, every check before anything is written
def claim_series() -> list[str]:
    """The monthly metrics the claims' estimators read: each part's final-year metric, and the kinds of
    organisation a change claim sums (``adapter.GROWTH`` names them for the same claims)."""
    from commonsabm.analysis.ensemble.adapter import GROWTH

    columns = []
    for part in (p for c in CLAIMS for p in c.parts):
        final = part.metric.endswith("_final")
        columns += [part.metric[: -len("_final")]] if final else list(GROWTH.get(part.metric, ()))
    return list(dict.fromkeys(columns))


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's summary and monthly tables: the gathered files, else its jobs read as the gatherer reads them.

    Of the monthly table only the claims' series are read: an ensemble's holds every reporter for every
    month of every world's cells, most of which no claim looks at."""
    if (root / SUMMARY_FILE).is_file() and (root / MONTHLY_FILE).is_file():
        import pyarrow.parquet as pq

        wanted = {"job", "replicate", "month", "date", "world", *claim_series()}
        names = [n for n in pq.read_schema(root / MONTHLY_FILE).names if n in wanted]
        return pd.read_parquet(root / SUMMARY_FILE), pd.read_parquet(root / MONTHLY_FILE, columns=names)
    gathered = load_sweep(root)
    return gathered.summary, gathered.monthly


def read_sweep(sweep_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ensemble sweep's completed summary rows and its monthly rows, each with its job's world."""
    root = Path(sweep_dir)
    if not root.is_dir():
        raise ValueError(f"SWEEP_DIR={root}: no such directory; allowed: a gathered +experiment={SCENARIO} sweep")
    summary, monthly = _tables(root)
    if "world" not in summary.columns:
        raise ValueError(f"SWEEP_DIR={root}: the sweep has no 'world' column; allowed: a sweep of "
                         f"+experiment={SCENARIO}, whose every job names its world")
    summary = completed(summary)
    if summary.empty:
        raise ValueError(f"SWEEP_DIR={root}: no completed jobs to judge")
    summary["world"] = summary["world"].astype(str)
    # the job's world on each month, whether or not the gatherer copied it there
    worlds = summary.drop_duplicates("job").set_index("job")["world"]
    monthly = monthly[monthly["job"].isin(worlds.index)].drop(columns="world", errors="ignore")
    monthly = monthly.assign(world=monthly["job"].map(worlds))
    return summary, monthly


def read_worlds(path: str | os.PathLike | None, sweep_dir: str | os.PathLike, needed: list[str]) -> pd.DataFrame:
    """The kept worlds' parameter values, one row per world id, for every world in ``needed``.

    Ids are the table's ``world`` column when it holds names ("w003"); otherwise (no such column,
    or the tried worlds' numbers) the kept worlds in the table's order are w000, w001, ...
    """
    table_path = Path(path) if path is not None else Path(sweep_dir) / WORLDS_TABLE
    if table_path.is_dir():
        table_path = table_path / WORLDS_TABLE
    if not table_path.is_file():
        given = "--worlds" if path is not None else f"--worlds (not given, and SWEEP_DIR has no {WORLDS_TABLE})"
        raise ValueError(f"{given}: no worlds table at {table_path}; allowed: a {WORLDS_TABLE} or its directory")
    table = pd.read_parquet(table_path)
    if "kept" in table.columns:
        table = table[table["kept"].astype(bool)]
    absent = [key for key in PARAMETERS if key not in table.columns]
    if absent:
        raise ValueError(f"--worlds={table_path}: the table lacks parameter(s) {', '.join(absent)}; "
                         f"allowed: a worlds table with every uncertain parameter")
    named = "world" in table.columns and not pd.api.types.is_numeric_dtype(table["world"])
    ids = table["world"].astype(str) if named else pd.Series([f"w{k:03d}" for k in range(len(table))])
    worlds = pd.DataFrame(table[list(PARAMETERS)].to_numpy(dtype=float), index=pd.Index(ids, name="world"),
                          columns=list(PARAMETERS))
    unknown = [w for w in needed if w not in worlds.index]
    if unknown:
        raise ValueError(f"--worlds={table_path}: world(s) {', '.join(unknown[:5])} of the sweep are not among its "
                         f"{len(worlds)} kept worlds; allowed: the worlds table the sweep was made from")
    return worlds.loc[needed]


# ---------------------------------------------------------------- the analysis
def policy_start() -> str:
    """The month the debate's levers start (the earliest ``*.start`` conf/experiment/debate.yaml sets)."""
    from commonsabm.analysis.ensemble.problem import debate_settings

    starts = [str(v) for k, v in debate_settings().items() if k.endswith(".start")]
    return min(starts, key=month_index)


def judge_worlds(summary: pd.DataFrame, monthly: pd.DataFrame, findings: Findings) -> pd.DataFrame:
    """One row per (world, claim): its status in that world and its primary effect with the interval."""
    rows = []
    for world, cells in summary.groupby("world", sort=True):
        # the claims as ``verdict.compute`` judges them, without the main-effects tables it also builds,
        # which the ensemble does not read and which would be most of the time over a hundred worlds
        end = sweep_end(monthly[monthly["world"] == world])
        for result in (judge(cells, claim, findings, end) for claim in CLAIMS):
            first = result.estimates[0]
            rows.append({"world": world, "claim": result.claim.key, "status": result.status,
                         "effect": first.mean, "low": first.low, "high": first.high,
                         "effect_of": result.claim.parts[0].label})
    table = pd.DataFrame(rows)
    table.insert(3, "holds", shares.holds_column(table))
    return table


def by_year(summary: pd.DataFrame, monthly: pd.DataFrame, start: str) -> pd.DataFrame:
    """Each claim's primary effect in each world and each complete year from ``start`` (year 0).

    The year's mean of every metric stands in for its final-year mean (``X_final``) and the claim's
    own estimator runs on that, so a year's effect is paired by replicate exactly as the final year's.
    """
    metrics = [m for m in claim_series() if m in monthly.columns and f"{m}_final" in summary.columns]
    index = {d: month_index(d) for d in monthly["date"].astype(str).unique()}
    months = monthly.assign(year=(monthly["date"].astype(str).map(index) - month_index(start)) // 12)
    months = months[months["year"] >= 0]
    whole = months.groupby(["job", "replicate", "year"])["date"].transform("size") == 12  # complete years only
    annual = months[whole].groupby(["job", "replicate", "year"])[metrics].mean()
    rows = []
    keyed = summary.assign(replicate=summary["replicate"].astype("int64")).set_index(["job", "replicate"])
    for year, values in annual.groupby(level="year", sort=True):
        frame = keyed.copy()
        that_year = values.droplevel("year").reindex(frame.index)
        frame[[f"{m}_final" for m in metrics]] = that_year[metrics].to_numpy()
        frame = frame.reset_index()
        for world, cells in frame.groupby("world", sort=True):
            for claim in CLAIMS:
                rows.append({"world": world, "claim": claim.key, "year": int(year),
                             "effect": claim.parts[0].estimate(cells, None).mean})
    return pd.DataFrame(rows, columns=["world", "claim", "year", "effect"])


def claim_metrics(summary: pd.DataFrame) -> list[str]:
    """The summary columns the claims rest on, in the claims' order (a change claim's metric is not a column)."""
    return list(dict.fromkeys(p.metric for c in CLAIMS for p in c.parts if p.metric in summary.columns))


def discover(statuses: pd.DataFrame, table: pd.DataFrame, worlds: pd.DataFrame) -> dict[str, discovery.Discovery]:
    """PRIM's box for each contested claim, over the worlds that answer it."""
    found = {}
    for claim in table.loc[table["verdict"] == "contested", "claim"]:
        answered = statuses[(statuses["claim"] == claim) & statuses["holds"].notna()]
        found[claim] = discovery.discover(worlds.loc[answered["world"]], answered["holds"].astype(bool).to_numpy())
    return found


def boxes_table(found: dict[str, discovery.Discovery]) -> pd.DataFrame:
    """One row per contested claim and restricted parameter (one row with no parameter when there is no box)."""
    rows = []
    for claim, d in found.items():
        head = {"claim": claim, "status": d.status, "coverage": d.coverage, "density": d.density, "mass": d.mass,
                "worlds": d.worlds, "holds": d.holds}
        limits = d.limits.reset_index(names="parameter").to_dict("records") or [{"parameter": None}]
        rows += [{**head, **{"low": np.nan, "high": np.nan, "qp_low": np.nan, "qp_high": np.nan}, **lim}
                 for lim in limits]
    columns = ["claim", "status", "parameter", "low", "high", "qp_low", "qp_high", "coverage", "density", "mass",
               "worlds", "holds"]
    return pd.DataFrame(rows, columns=columns)


def seed_only(summary: pd.DataFrame, monthly: pd.DataFrame, findings: Findings,
              debate: str | os.PathLike | None) -> tuple[dict[str, str], str]:
    """Each claim's seed-only status, and where it comes from (the debate sweep's, else the pooled worlds')."""
    if debate is not None:
        debate_summary, debate_monthly = _tables(Path(debate))
        verdict = compute(debate_summary, findings, sweep_end(debate_monthly))
        source = f"the debate sweep `{Path(debate).name}` (its own verdict)"
    else:
        verdict = compute(summary, findings, sweep_end(monthly))
        source = ("the ensemble's rows pooled over the worlds (each cell's replicate averaged over the worlds, "
                  "so the interval is the seeds' alone, as if the mix of worlds were known)")
    return {r.claim.key: r.status for r in verdict.claims}, source


# ---------------------------------------------------------------- the command
def write(sweep_dir: str | os.PathLike, worlds_path: str | os.PathLike | None = None,
          out: str | os.PathLike | None = None, debate: str | os.PathLike | None = None,
          sensitivity: str | os.PathLike | None = None) -> Path:
    """Judge the sweep in every world and write the report, its tables and figures into ``out`` (the sweep)."""
    summary, monthly = read_sweep(sweep_dir)
    if debate is not None and not Path(debate).is_dir():
        raise ValueError(f"--debate={debate}: no such directory; allowed: a debate sweep's directory")
    out = Path(sweep_dir if out is None else out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out={out} is a file; allowed: a directory (made if absent)")
    worlds = read_worlds(worlds_path, sweep_dir, sorted(summary["world"].unique()))
    findings = Findings.read(sensitivity)

    statuses = judge_worlds(summary, monthly, findings)
    table = shares.shares(statuses)
    found = discover(statuses, table, worlds)
    yearly = by_year(summary, monthly, start := policy_start())
    banded = over_time.bands(yearly)
    metrics = claim_metrics(summary)
    checked = stability.check(summary.assign(replicate=summary["replicate"].astype("int64")), metrics)
    seed, source = seed_only(summary, monthly, findings, debate)

    out.mkdir(parents=True, exist_ok=True)
    figures = {claim: discovery.draw(d, out / box_figure(claim), title=f"{claim}: where it holds")
               for claim, d in found.items()}
    over_time_figure = over_time.draw(banded, out / OVER_TIME_FIGURE) if not banded.empty else None
    for name, frame in ((CLAIMS_TABLE, statuses), (BY_YEAR_TABLE, yearly), (BOXES_TABLE, boxes_table(found))):
        atomic_write(out / name, lambda p, f=frame: f.to_parquet(p, index=False, engine="pyarrow"))
    text = markdown(Path(sweep_dir), worlds, summary, table, seed, source, found, figures, checked, start,
                    over_time_figure)
    atomic_write(out / REPORT, lambda p: p.write_text(text, encoding="utf-8"))
    return out / REPORT


def latest(*roots: str | os.PathLike) -> Path:
    """The ensemble verdict the notebook reads: ``$COMMONSABM_ENSEMBLE``, else the newest
    multirun/debate_ensemble/* holding one, in the working directory or the one above it."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    here = Path.cwd()
    roots = roots or (here, here.parent)
    found = [p.parent for root in roots for p in Path(root).glob(f"multirun/{SCENARIO}/*/{REPORT}")]
    if not found:
        looked = " or ".join(str(Path(r).resolve()) for r in roots)
        raise FileNotFoundError(f"no ensemble verdict found under {looked} (looked for multirun/{SCENARIO}/*/"
                                f"{REPORT}); write one with `python -m {NAME} SWEEP_DIR`, "
                                f"or set {ENV}=/path/to/the/sweep")
    return max(found, key=lambda p: ((p / REPORT).stat().st_mtime, str(p)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {NAME}", description=(
        f"Judge the debate's claims in every calibrated world of a +experiment={SCENARIO} sweep; write {REPORT}, "
        f"{CLAIMS_TABLE}, {BY_YEAR_TABLE}, {BOXES_TABLE} and the figures."))
    parser.add_argument("sweep_dir", help="the gathered ensemble sweep's directory")
    parser.add_argument("--worlds", default=None, help=f"the worlds table ({WORLDS_TABLE}) or its directory "
                                                       f"(default: SWEEP_DIR/{WORLDS_TABLE})")
    parser.add_argument("--debate", default=None, help="a debate sweep whose verdict is the seed-only column "
                                                       "(default: the ensemble's rows pooled over the worlds)")
    parser.add_argument("--out", default=None, help="directory for the outputs (default: SWEEP_DIR)")
    parser.add_argument("--sensitivity", default=None, help="a sensitivity analysis's output directory "
                                                            "(default: the packaged copy)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        path = write(args.sweep_dir, args.worlds, args.out, args.debate, args.sensitivity)
    except (ValueError, OSError) as exc:
        print(f"{NAME}: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    print(f"ensemble verdict: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
