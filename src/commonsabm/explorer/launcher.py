"""Serve the interactive explorer (``commonsabm.explorer.page``) with Solara: ``python -m commonsabm.explorer``.

It listens on 127.0.0.1 unless a host is given with ``--host``: Solara on its own would
take the host from the ``HOST`` environment variable, which some machines set to every
interface, and the page lets anyone who reaches it run the model on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys

from commonsabm.explorer import assets as browser_assets
from commonsabm.params.checks import check_one
from commonsabm.params.schema import ConfigError, RunConfig

DEFAULT_HOST = "127.0.0.1"
# Driving the page headless (its tests, its benchmark, the README's screenshot) with Debian's
# Chromium: without the networking flags Chromium keeps calling Google's hosts, which a closed
# network refuses.
HEADLESS_CHROMIUM = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def solara_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "commonsabm.explorer.page", "--host", host, "--port", str(port),
            "--production", "--no-open", "--log-level", "warning",
            # Solara is pinned to the release that has an offline copy of its scripts (pyproject.toml):
            # its advice to upgrade would lose that copy, and asking PyPI delays every start offline
            "--no-check-version"]


def serve_charts_offline() -> None:
    """Link the chart scripts Solara asks for by major version to the copies solara-assets ships."""
    # Solara falls back to its CDN for whatever is missing, which may be reachable: say so and go on
    try:
        missing = browser_assets.link_major_versions()
    except OSError as error:
        print(f"could not link the chart scripts in Solara's asset folder ({error}); "
              "the charts will load from cdn.jsdelivr.net if it is reachable", file=sys.stderr, flush=True)
        return
    if missing:
        print(f"not in this environment: {', '.join(missing)} (the app extra installs them with solara-assets); "
              "the charts will load from cdn.jsdelivr.net if it is reachable", file=sys.stderr, flush=True)


PORTS = (0, 65535)


class OneLineParser(argparse.ArgumentParser):
    """Bad options are one line and exit status 2, as on the model's command line."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def whole_number(text: str) -> int | str:
    """The text as an int if it is one; otherwise as it is, for the schema's check to word."""
    try:
        return int(text)
    except ValueError:
        return text


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, checked before anything is fetched or served."""
    parser = OneLineParser(prog="python -m commonsabm.explorer", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--population", type=whole_number, default=None,
                        help="adults simulated when the page opens (default: the model's default; "
                        "allowed: the range of run.population)")
    args = parser.parse_args(argv)
    if not PORTS[0] <= args.port <= PORTS[1]:
        parser.error(f"--port={args.port} is out of range; allowed: {PORTS[0]} to {PORTS[1]}")
    if args.population is not None:  # the page would only fail on it when a browser opens it
        try:
            args.population = check_one(RunConfig, "population", args.population, "--population")
        except ConfigError as error:
            parser.error(str(error))
    return args


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    if args.population is not None:
        os.environ["COMMONSABM_EXPLORER_POPULATION"] = str(args.population)
    serve_charts_offline()
    print(f"commonsabm explorer: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    # Solara warns at every page load that a plain-http session cookie falls back to
    # SameSite=Lax, which is what a page on this machine wants; keep the terminal readable
    os.environ.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none require https:UserWarning")
    command = solara_command(args.host, args.port)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
