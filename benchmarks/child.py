"""One model run in a fresh process, for benchmarks/bench.py; prints one line of JSON.

It is run with a source tree's ``src`` first on PYTHONPATH (this checkout's, or a reference
commit's unpacked by the bench), so it uses only what every version offers: ``CommonsModel``
with ``population``, ``end`` and ``rng``, ``run()`` and ``step()``. A fresh process gives each
run a clean heap and its own peak resident memory (ru_maxrss).

    python benchmarks/child.py run 100000 2030-12
    python benchmarks/child.py heap 300000 2030-12 behaviour_founding_rate=0.0
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def rss_mib() -> float:
    """Resident memory of this process now, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed_run(population: int, end: str) -> dict:
    """Model time: the constructor (which runs the spin-up) and the reported months."""
    from commonsabm import CommonsModel

    base = rss_mib()
    started = time.perf_counter()
    model = CommonsModel(population=population, end=end, rng=1)
    built = time.perf_counter()
    start_mib = rss_mib()
    model.run()
    done = time.perf_counter()
    spin_up = getattr(getattr(model, "run_config", None), "spin_up", 0)
    return {"seconds": done - started, "build": built - started, "run": done - built,
            "steps": model.steps, "spin_up": spin_up, "base_mib": base, "start_mib": start_mib,
            "end_mib": rss_mib(), "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "module": sys.modules["commonsabm"].__file__}


def heap_growth(population: int, end: str, keywords: dict) -> dict:
    """Python heap growth (tracemalloc) from the end of the first reported year to the end.

    Resident memory also holds what the allocator keeps after month-sized temporaries, so
    the heap itself is traced; with nothing founded it should grow only by the monthly series.
    """
    import tracemalloc

    from commonsabm import CommonsModel

    tracemalloc.start(1)  # from the start, so arrays replaced later are seen being freed
    model = CommonsModel(population=population, end=end, rng=1, **keywords)
    for _ in range(12):
        model.step()
    before = tracemalloc.get_traced_memory()[0]
    months = 0
    while model.running:
        model.step()
        months += 1
    growth = tracemalloc.get_traced_memory()[0] - before
    return {"growth_kib": growth / 1024, "months": months,
            "series": len(model.datacollector.model_reporters)}


def main() -> None:
    mode, population, end, *rest = sys.argv[1:]
    if mode == "run":
        result = timed_run(int(population), end)
    else:
        keywords = {key: float(value) for key, value in (item.split("=", 1) for item in rest)}
        result = heap_growth(int(population), end, keywords)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
