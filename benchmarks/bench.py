"""Speed and scale benchmarks for commonsabm, run on demand with `make bench`: issue 16's targets.

Every figure is a median over repeated runs on this machine, shown with Mesa's Boltzmann
wealth model (benchmarks/boltzmann.py) measured in the same bench at the same population,
alternating with this model, so that readers can compare machines and a busy machine
affects both alike. "Today's code" (the commit in benchmarks/reference.txt, or --reference)
is unpacked from git and its default run timed in turn with this checkout's (paired runs).

    python benchmarks/bench.py              # everything, the debate sweep included (~20 min)
    python benchmarks/bench.py --quick      # 3 repeats, 10k/100k/300k, no 1M run, no sweep
    python benchmarks/bench.py --skip-sweep # everything but the debate sweep
    python benchmarks/bench.py --sweep-only --sweep-override run.replications=5

Prints a table (measure, measured, target, stretch, holds) and writes every figure, the
anchor, the commit, Python's version and the date as JSON (benchmarks/results/latest.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measure  # noqa: E402

DEFAULT_POPULATION, DEFAULT_END, MILLION = 100_000, "2030-12", 1_000_000
# issue 16's targets (2-core machine): (target, stretch), compared as the row says
RATIO, DEFAULT_RUN, REFERENCE_SHARE, STRETCH_RUN = (15, 30), 2.5, 0.5, 1.5
MILLION_SECONDS, MILLION_GIB, SCALING, SWEEP_MINUTES = (40, 25), 1.5, 1.05, (10, 5)
# the model's targets as printed when --sweep-only leaves them out: name, target, stretch
UNMEASURED = {
    "ratio": ("citizen-steps/s over Boltzmann agent-steps/s, same run", f">= {RATIO[0]}x", f">= {RATIO[1]}x"),
    "default_run": ("default run, model time", f"<= {DEFAULT_RUN} s or <= {REFERENCE_SHARE:.0%} of reference",
                    f"<= {STRETCH_RUN} s"),
    "million_seconds": ("1,000,000 residents, full horizon, model time", f"<= {MILLION_SECONDS[0]} s",
                        f"<= {MILLION_SECONDS[1]} s"),
    "million_memory": ("1,000,000 residents, peak resident memory", f"<= {MILLION_GIB} GiB", ""),
    "scaling": ("scaling exponent, time per step", f"<= {SCALING}", ""),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, scaling over 10k/100k/300k (no 1M run), no debate sweep, no extras")
    parser.add_argument("--reference", default=None,
                        help="commit timed as today's code (default: benchmarks/reference.txt; 'none' skips it)")
    sweep = parser.add_mutually_exclusive_group()
    sweep.add_argument("--skip-sweep", action="store_true", help="leave out the debate sweep")
    sweep.add_argument("--sweep-only", action="store_true", help="only the anchor and the debate sweep")
    parser.add_argument("--sweep-override", action="append", default=[], metavar="KEY=VALUE",
                        help="a Hydra override for the sweep, e.g. run.replications=5 (time scaled up, and said)")
    parser.add_argument("--skip-extras", action="store_true", help="leave out the whole command and heap growth")
    parser.add_argument("--repeats", type=int, help="paired repeats of the default run (default 5, quick 3)")
    parser.add_argument("--population", type=int, default=DEFAULT_POPULATION, help="the default run's residents")
    parser.add_argument("--end", default=DEFAULT_END, help="the last month of every run (YYYY-MM)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        help="populations of the scaling fit, the largest timed once (default 10k,100k,1M)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.sizes = sorted(args.sizes or [10_000, DEFAULT_POPULATION, 300_000 if args.quick else MILLION])
    args.sweep = not (args.quick or args.skip_sweep)
    if len(args.sizes) < 2 or args.repeats < 1:
        parser.error("--sizes needs at least two populations and --repeats at least 1")
    return args


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def model_figures(args: argparse.Namespace) -> dict:
    """The default run paired with the reference's, the anchor between them, the scaling runs."""
    src = measure.current_src()
    runs: dict[str, list] = {"current": [], "reference": []}
    anchor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        wanted = measure.default_reference() if args.reference is None else args.reference
        ref_src, ref_commit = (None, "skipped (--reference none)") if wanted == "none" else \
            measure.unpack_reference(wanted, Path(tmp))
        if ref_src is None:
            say(f"reference run skipped: {ref_commit}")
        for i in range(args.repeats):
            pair = [("current", src)] + ([("reference", ref_src)] if ref_src else [])
            for name, tree in pair if i % 2 == 0 else pair[::-1]:  # alternate who goes first
                say(f"default run {i + 1}/{args.repeats}, {name} code, {args.population:,} residents")
                runs[name].append(measure.model_run(tree, args.population, args.end))
            anchor.append(measure.boltzmann_rate(args.population))
    scaling = {}
    for size in args.sizes:
        if size == args.population:
            scaling[size] = runs["current"]
            continue
        times = 1 if size == args.sizes[-1] else max(args.repeats // 2, 1)
        say(f"scaling: {times} run(s) at {size:,} residents")
        scaling[size] = [measure.model_run(src, size, args.end) for _ in range(times)]
    extras = {}
    if not (args.quick or args.skip_extras):
        say("the whole command, outputs written")
        extras["command_seconds"] = [measure.command_seconds(args.population, args.end)
                                     for _ in range(args.repeats)]
        say("heap growth with no foundings (tracemalloc)")
        extras["heap_no_foundings"] = measure.heap_growth(src, 3 * args.population, args.end,
                                                          behaviour_founding_rate=0.0)
    return {"runs": runs, "anchor": anchor, "reference_commit": ref_commit if ref_src else None,
            "reference_skipped": None if ref_src else ref_commit, "scaling": scaling, "extras": extras}


def sweep_figures(args: argparse.Namespace) -> dict:
    configured = measure.sweep_config([])
    used = measure.sweep_config(args.sweep_override)
    say(f"debate sweep: {used['cells']} cells x {used['replications']} replicates of {used['population']:,} "
        f"residents, {used['n_jobs']} jobs at once")
    try:
        timed = measure.sweep_seconds(args.sweep_override)
    except RuntimeError as e:
        say(str(e))
        timed = {"seconds": None, "error": str(e)}
    return {"configured": configured, "used": used, "overrides": args.sweep_override, **timed}


def row(key: str, measure_: str, measured: float | None, shown: str, target: str = "", stretch: str = "",
        holds: bool | None = None, stretch_holds: bool | None = None, note: str = "") -> dict:
    return {"key": key, "measure": measure_, "measured": measured, "shown": shown, "target": target,
            "stretch": stretch, "holds": holds, "stretch_holds": stretch_holds, "note": note}


def median_of(runs: list[dict], field: str) -> float:
    return statistics.median(r[field] for r in runs)


def target_rows(args: argparse.Namespace, model: dict | None, sweep: dict | None, anchor: float) -> list[dict]:
    """Issue 16's targets, in its order; a target not measured in this bench says why."""
    rows = []
    skipped = "not measured (--sweep-only)"
    if model:
        current = model["runs"]["current"]
        seconds = median_of(current, "seconds")
        months = current[0]["steps"] + current[0]["spin_up"]
        rate = args.population * months / seconds
        ratio = rate / anchor
        rows.append(row("ratio", "citizen-steps/s over Boltzmann agent-steps/s, same run", ratio, f"{ratio:.1f}x",
                        f">= {RATIO[0]}x", f">= {RATIO[1]}x", ratio >= RATIO[0], ratio >= RATIO[1],
                        f"{rate:,.0f} citizen-steps/s ({months} months incl. spin-up)"))
        reference = model["runs"]["reference"]
        share = seconds / median_of(reference, "seconds") if reference else None
        shown = f"{seconds:.2f} s" + (f" ({share:.2f} x reference)" if share else "")
        rows.append(row("default_run", f"default run, model time ({args.population:,} residents, "
                                       f"to {args.end}, spin-up included)", seconds, shown,
                        f"<= {DEFAULT_RUN} s or <= {REFERENCE_SHARE:.0%} of reference", f"<= {STRETCH_RUN} s",
                        seconds <= DEFAULT_RUN or (share is not None and share <= REFERENCE_SHARE),
                        seconds <= STRETCH_RUN, model["reference_skipped"] or ""))
        largest = args.sizes[-1]
        big = model["scaling"][largest][0]
        at_million = largest == MILLION and args.end == DEFAULT_END
        where = "" if at_million else f" (at {largest:,}; not judged)"
        rows.append(row("million_seconds", "1,000,000 residents, full horizon, model time", big["seconds"],
                        f"{big['seconds']:.1f} s{where}", f"<= {MILLION_SECONDS[0]} s", f"<= {MILLION_SECONDS[1]} s",
                        big["seconds"] <= MILLION_SECONDS[0] if at_million else None,
                        big["seconds"] <= MILLION_SECONDS[1] if at_million else None))
        gib = big["peak_mib"] / 1024
        rows.append(row("million_memory", "1,000,000 residents, peak resident memory", gib,
                        f"{gib:.2f} GiB{where}", f"<= {MILLION_GIB} GiB", "",
                        gib <= MILLION_GIB if at_million else None))
        per_step = [median_of(model["scaling"][s], "run") / model["scaling"][s][0]["steps"] for s in args.sizes]
        exponent = float(np.polyfit(np.log(args.sizes), np.log(per_step), 1)[0])
        span = f"{args.sizes[0]:,} to {largest:,}" + ("" if largest == MILLION else " (quick: not 1M)")
        rows.append(row("scaling", f"scaling exponent, time per step, {span}", exponent, f"{exponent:.2f}",
                        f"<= {SCALING}", "", exponent <= SCALING))
    else:
        rows += [row(key, name, None, skipped, target, stretch) for key, (name, target, stretch) in UNMEASURED.items()]
    rows.append(sweep_row(args, sweep))
    return rows


def sweep_row(args: argparse.Namespace, sweep: dict | None) -> dict:
    name = "debate sweep at its configured population, wall time"
    target, stretch = f"<= {SWEEP_MINUTES[0]} min", f"<= {SWEEP_MINUTES[1]} min"
    if sweep is None:
        why = "--quick" if args.quick else "--skip-sweep"
        return row("sweep", name, None, f"not measured ({why})", target, stretch)
    if sweep["seconds"] is None:
        return row("sweep", name, None, "failed (see below)", target, stretch, note=sweep["error"])
    configured, used = sweep["configured"], sweep["used"]
    minutes = sweep["seconds"] / 60
    shown = f"{int(minutes)} min {sweep['seconds'] % 60:02.0f} s"
    note = f"{used['cells']} cells x {used['replications']} x {used['population']:,} residents"
    changed = [key for key in configured if key != "replications" and used[key] != configured[key]]
    if changed:
        return row("sweep", name, minutes, shown + f" (not judged: {', '.join(changed)} overridden)",
                   target, stretch, note=note)
    if used["replications"] != configured["replications"]:
        # every replicate of a cell costs the same, so the full sweep is scaled up (an upper
        # bound: start-up, gathering and the verdict are scaled too)
        minutes *= configured["replications"] / used["replications"]
        shown += f" for {used['replications']} replicates; est. {minutes:.1f} min for {configured['replications']}"
    return row("sweep", name, minutes, shown, target, stretch, minutes <= SWEEP_MINUTES[0],
               minutes <= SWEEP_MINUTES[1], note)


def other_rows(args: argparse.Namespace, model: dict | None, anchor: float) -> list[dict]:
    """Figures without an issue-16 target: the anchor itself, the reference, per-step times, memory."""
    rows = [row("anchor", f"Boltzmann anchor, agent-steps/s ({args.population:,} agents)", anchor, f"{anchor:,.0f}")]
    if not model:
        return rows
    reference = model["runs"]["reference"]
    if reference:
        seconds = median_of(reference, "seconds")
        rows.append(row("reference_run", f"reference {model['reference_commit'][:9]}, default run", seconds,
                        f"{seconds:.2f} s"))
    per_step = " / ".join(f"{median_of(model['scaling'][s], 'run') / model['scaling'][s][0]['steps'] * 1e3:.1f}"
                          for s in args.sizes)
    rows.append(row("per_step", "time per step at " + " / ".join(f"{s:,}" for s in args.sizes), None,
                    f"{per_step} ms"))
    big = model["scaling"][args.sizes[-1]][0]
    per_resident = (big["start_mib"] - big["base_mib"]) * 2**20 / args.sizes[-1]
    rows.append(row("memory_per_resident", f"memory per resident after set-up ({args.sizes[-1]:,})",
                    per_resident, f"{per_resident:,.0f} bytes"))
    extras = model["extras"]
    if "command_seconds" in extras:
        command = statistics.median(extras["command_seconds"])
        rows.append(row("command", "whole command `python -m commonsabm`, outputs written", command,
                        f"{command:.2f} s"))
        heap = extras["heap_no_foundings"]
        series_kib = heap["series"] * heap["months"] * 32 / 1024  # one boxed float and a list slot a value
        rows.append(row("heap_no_foundings", f"heap growth after year one, no foundings ({3 * args.population:,})",
                        heap["growth_kib"], f"{heap['growth_kib'] / 1024:.2f} MiB",
                        f"<= 2 x series ({2 * series_kib / 1024:.2f} MiB)", "",
                        heap["growth_kib"] <= 2 * series_kib))
    return rows


def verdict(holds: bool | None, has_target: bool, measured: bool = True) -> str:
    if not has_target:
        return ""
    if holds is None:
        return "not judged" if measured else "not measured"
    return "yes" if holds else "MISSED"


def print_table(rows: list[dict], header: str) -> None:
    cells = [(r["measure"], r["shown"], r["target"],
              r["stretch"] + (f" ({verdict(r['stretch_holds'], True, r['measured'] is not None).lower()})"
                              if r["stretch"] else ""),
              verdict(r["holds"], bool(r["target"]), r["measured"] is not None)) for r in rows]
    titles = ("measure", "measured", "target", "stretch", "holds")
    widths = [max(len(c[i]) for c in [titles, *cells]) for i in range(5)]
    print(f"\n{header}\n")
    for line in [titles, tuple("-" * w for w in widths), *cells]:
        print("  ".join(f"{c:{w}}" for c, w in zip(line, widths)).rstrip())
    for r in rows:
        if r["note"]:
            print(f"  {r['key']}: {r['note']}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    load_start = os.getloadavg()
    model = None if args.sweep_only else model_figures(args)
    anchor_runs = model["anchor"] if model else [measure.boltzmann_rate(args.population) for _ in range(3)]
    sweep = sweep_figures(args) if (args.sweep or args.sweep_only) else None
    anchor = statistics.median(anchor_runs)
    targets = target_rows(args, model, sweep, anchor)
    others = other_rows(args, model, anchor)
    result = {
        "commit": measure.commit_here(), "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "system": platform.platform()},
        "load": {"start": load_start, "end": os.getloadavg()},
        "conditions": {"population": args.population, "end": args.end, "repeats": args.repeats,
                       "sizes": args.sizes, "quick": args.quick, "sweep": bool(sweep)},
        "anchor": {"agent_steps_per_second": anchor, "runs": anchor_runs},
        "targets": targets, "figures": others,
        "raw": {"model": model and {**model, "scaling": {str(k): v for k, v in model["scaling"].items()}},
                "sweep": sweep},
    }
    issue = args.population == DEFAULT_POPULATION and args.end == DEFAULT_END
    header = (f"commonsabm bench at {result['commit'][:12]} ({result['machine']['processor']}, "
              f"{result['machine']['cores']} cores, Python {result['python']}, medians of {args.repeats}, "
              f"load {load_start[0]:.2f} -> {result['load']['end'][0]:.2f})\n"
              f"Boltzmann anchor, same run: {anchor:,.0f} agent-steps/s"
              + ("" if issue else f"\nNOT the issue's conditions: {args.population:,} residents to {args.end}"))
    print_table(targets, header + "\n\nissue 16's targets")
    print_table(others, "other figures")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
