"""How long the explorer takes to show the next month after Step, in a real browser.

Starts the page at a population (default: the model's, 100,000 adults), opens it in
Debian's Chromium, and times each click of Step until the page shows the next month's
date: the model's step, every chart and the map redrawn on the server, and the page
updated. Prints the median and the slowest tenth; optionally saves a screenshot.

    python benchmarks/explorer.py                       # 24 steps at 100,000 adults
    python benchmarks/explorer.py --steps 96 --screenshot docs/figures/explorer.png
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from commonsabm.explorer.launcher import HEADLESS_CHROMIUM
from commonsabm.explorer.page import readable_month
from commonsabm.params.months import month_index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(port: int, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the explorer exited before it served the page")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("the explorer did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--ubi", default=None, help="choose this UBI level before Reset (e.g. 300)")
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "commonsabm.explorer", "--port", str(port),
                               "--population", str(args.population)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_server(port, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=HEADLESS_CHROMIUM)
            page = browser.new_page(viewport={"width": 1600, "height": 1250})
            page.goto(f"http://127.0.0.1:{port}/", timeout=300_000)
            page.get_by_text("Not started").wait_for(timeout=300_000)
            if args.ubi is not None:
                page.locator(".v-select").filter(has_text="UBI, GBP").locator(".v-select__slot").click()
                page.get_by_role("option", name=args.ubi, exact=True).click()
                page.get_by_role("button", name="Reset").click()
                page.get_by_text("UBI: GBP").wait_for(timeout=60_000)
            step = page.get_by_role("button", name="Step")
            month = month_index("2010-01")
            times = []
            for _ in range(args.steps):
                started = time.perf_counter()
                step.click()
                page.get_by_text(f"{readable_month(month)} (month").wait_for(timeout=60_000)
                times.append(time.perf_counter() - started)
                month += 1
            if args.screenshot:
                page.wait_for_timeout(1500)  # let the last charts draw
                page.screenshot(path=args.screenshot)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    later = sorted(times[1:])  # the first step also builds the charts for the first time
    print(f"explorer at {args.population:,} adults, {args.steps} steps: Step to the next month's date shown "
          f"in {statistics.median(later) * 1000:.0f} ms (median), {later[int(0.9 * (len(later) - 1))] * 1000:.0f} ms "
          f"(90th percentile), first step {times[0] * 1000:.0f} ms; target: well under 1000 ms")


if __name__ == "__main__":
    main()
