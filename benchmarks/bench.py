"""Speed and scale benchmarks for commonsabm, run on demand with `make bench`.

Every figure is a median over repeated runs, and speed is compared side by side with
Mesa's canonical Boltzmann wealth model run in the same process, at the same population,
alternating with this model, so that a busy shared machine affects both alike.

    python benchmarks/bench.py            # the full suite (several minutes)
    python benchmarks/bench.py --quick    # fewer repeats and no million-citizen run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from boltzmann import BoltzmannWealth  # noqa: E402

from commonsabm import CommonsModel  # noqa: E402

MONTHS = 252  # 2010-01 to 2030-12


def rss_mib() -> float:
    """Resident memory of this process now, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def model_seconds(population: int, months: int = MONTHS, seed: int = 1) -> float:
    """Wall time to build and run the model (no output files)."""
    end_year, end_month = 2010 + (months - 1) // 12, (months - 1) % 12 + 1
    started = time.perf_counter()
    model = CommonsModel(population=population, end=f"{end_year}-{end_month:02d}", rng=seed)
    model.run()
    return time.perf_counter() - started


def boltzmann_steps_per_second(agents: int, steps: int) -> float:
    model = BoltzmannWealth(agents, rng=1)
    started = time.perf_counter()
    for _ in range(steps):
        model.step()
    return agents * steps / (time.perf_counter() - started)


def command_seconds() -> float:
    """The whole command, start-up to outputs written, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "commonsabm", "+experiment=baseline", f"hydra.run.dir={tmp}/out"],
                       check=True, capture_output=True, cwd=tmp)
        return time.perf_counter() - started


def child_run(population: int, months: int) -> dict:
    """Run in a fresh process and report time, peak memory and memory at start and end."""
    code = f"""
import json, os, resource, sys, time
sys.path.insert(0, {str(HERE)!r})
from bench import rss_mib
from commonsabm import CommonsModel
base = rss_mib()
t0 = time.perf_counter()
m = CommonsModel(population={population}, end="{2010 + (months - 1) // 12}-{(months - 1) % 12 + 1:02d}", rng=1)
built = time.perf_counter()
start_rss = rss_mib()
year_rss = None
while m.running:
    m.step()
    if m.steps == min(12, {months}):
        year_rss = rss_mib()
done = time.perf_counter()
from commonsabm.runs.outputs import organisations, timeseries
end_rss = rss_mib()
outputs = sum(f.memory_usage(deep=True).sum() for f in (timeseries(m), organisations(m))) / 2**20
print(json.dumps({{"seconds": done - t0, "build": built - t0, "base_mib": base, "start_mib": start_rss,
                  "year_mib": year_rss, "end_mib": end_rss, "outputs_mib": outputs,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def traced_growth(population: int, **keywords) -> dict:
    """Python heap growth (tracemalloc) from the end of the first year to the end of the run.

    Resident memory also holds what the allocator keeps after month-sized temporaries,
    so the heap itself is traced. It should grow only with what the outputs record: the
    monthly series, and one record per organisation that ever lived.
    """
    code = f"""
import json, tracemalloc
from commonsabm import CommonsModel
tracemalloc.start(1)  # from the start, so arrays replaced later are seen being freed
m = CommonsModel(population={population}, rng=1, **{keywords!r})
for _ in range(12):
    m.step()
before = len(m.organisations)
start = tracemalloc.get_traced_memory()[0]
m.run()
end = tracemalloc.get_traced_memory()[0]
print(json.dumps({{"growth_kib": (end - start) / 1024, "organisations": len(m.organisations) - before}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no million-citizen run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    rows: list[tuple[str, str, str, bool | None]] = []

    # 1. default run, model time, alternating with the Boltzmann anchor at the same population
    population = 100_000
    model_runs, anchor_rates = [], []
    for _ in range(repeats):
        model_runs.append(model_seconds(population))
        anchor_rates.append(boltzmann_steps_per_second(population, steps=3))
    model_time = statistics.median(model_runs)
    citizen_rate = population * MONTHS / model_time
    anchor = statistics.median(anchor_rates)
    rows.append(("default run, model time (100k citizens, 252 months)", f"{model_time:.2f} s", "<= 4 s",
                 model_time <= 4))
    rows.append(("citizen-steps per second", f"{citizen_rate:,.0f}", "", None))
    rows.append(("Boltzmann anchor agent-steps per second (100k agents)", f"{anchor:,.0f}", "", None))
    ratio = citizen_rate / anchor
    rows.append(("ratio: citizen-steps/s over Boltzmann agent-steps/s", f"{ratio:.1f}x", ">= 15x", ratio >= 15))

    # 2. the whole command with outputs written
    command = statistics.median(command_seconds() for _ in range(repeats))
    rows.append(("whole command `python -m commonsabm`, outputs written", f"{command:.2f} s", "<= 8 s", command <= 8))

    # 3. scaling: time per step at three populations, fitted on a log-log scale
    sizes = [10_000, 100_000] + ([] if args.quick else [1_000_000])
    months = 36
    per_step = []
    for size in sizes:
        runs = [child_run(size, months) for _ in range(1 if size >= 1_000_000 else max(repeats // 2, 1))]
        step = statistics.median((r["seconds"] - r["build"]) / months for r in runs)
        per_step.append(step)
        rows.append((f"time per step at {size:,} citizens", f"{step * 1e3:.1f} ms", "", None))
    exponent = float(np.polyfit(np.log(sizes), np.log(per_step), 1)[0])
    rows.append(("scaling exponent (log-log fit of time per step)", f"{exponent:.2f}", "<= 1.1", exponent <= 1.1))

    # 4. a million citizens over the full horizon, and memory over a long run
    if not args.quick:
        big = child_run(1_000_000, MONTHS)
        rows.append(("1,000,000 citizens, full horizon", f"{big['seconds']:.1f} s", "<= 90 s", big["seconds"] <= 90))
        rows.append(("1,000,000 citizens, peak resident memory", f"{big['peak_mib'] / 1024:.2f} GiB", "<= 3 GiB",
                     big["peak_mib"] <= 3 * 1024))
        per_citizen = (big["start_mib"] - big["base_mib"]) * 2**20 / 1_000_000
        rows.append(("memory per citizen (after set-up)", f"{per_citizen:,.0f} bytes", "", None))
        rows.append(("resident memory after set-up / first year / end", f"{big['start_mib']:,.0f} / "
                     f"{big['year_mib']:,.0f} / {big['end_mib']:,.0f} MiB", "", None))
        traced = traced_growth(300_000)
        rows.append(("heap growth after the first year (300k citizens)", f"{traced['growth_kib'] / 1024:.1f} MiB "
                     f"({traced['organisations']} new organisations)", "", None))
        # with no organisations founded there is nothing new to record but the monthly
        # series (~80 numbers a month), so the heap must stay flat: a leak would show here
        frozen = traced_growth(300_000, behaviour_founding_rate=0.0)
        # what the monthly series itself needs: one boxed float and a list slot per value
        from commonsabm.sim.reporters import REPORTERS
        series_kib = len(REPORTERS) * (MONTHS - 12) * 32 / 1024
        rows.append(("heap growth after the first year, no foundings", f"{frozen['growth_kib'] / 1024:.2f} MiB",
                     f"<= 2 x the series ({2 * series_kib / 1024:.2f} MiB)", frozen["growth_kib"] <= 2 * series_kib))

    width = max(len(r[0]) for r in rows)
    print(f"\ncommonsabm benchmarks ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, medians of {repeats})\n")
    print(f"{'measure':{width}}  {'measured':>22}  {'target':>22}  holds")
    for name, measured, target, ok in rows:
        verdict = "" if ok is None else ("yes" if ok else "MISSED")
        print(f"{name:{width}}  {measured:>22}  {target:>22}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("measure", "measured", "target", "holds"), r)) for r in rows],
                                        indent=2))


if __name__ == "__main__":
    main()
