"""The interactive explorer: what the page reads from a model, and the page itself in Chromium.

The browser test drives a system Chromium (Debian's ``chromium``, which ``make test`` installs where it can; see ``tests/browser.py``)
through Playwright, without downloading a browser of its own.
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, user_env

pytest.importorskip("solara", reason="the explorer needs the app extra: pip install -e '.[app]'")

from commonsabm.explorer import page as app  # noqa: E402
from commonsabm.sim.terms import CAUSES  # noqa: E402
from browser import require_chromium  # noqa: E402

from commonsabm.explorer.launcher import DEFAULT_HOST, HEADLESS_CHROMIUM, options, solara_command  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


def small_model(population: int = 2000, **levers) -> app.ExplorerModel:
    return app.ExplorerModel(population=population, rng="7", **levers)


def stepped(months: int, **levers) -> app.ExplorerModel:
    model = small_model(**levers)
    for _ in range(months):
        model.step()
    return model


# ---------------------------------------------------------------- what the page shows
def test_the_date_is_the_last_simulated_month_in_words():
    model = small_model()
    assert app.simulated_month(model).startswith("Not started: the run begins in January 2010")
    for _ in range(14):
        model.step()
    assert app.simulated_month(model) == "February 2011 (month 14 of 252)"


def test_every_lever_value_builds_a_model_that_says_what_was_set():
    for name, spec in app.levers().items():
        for value in spec.get("values", [spec["value"]]):
            if name in ("population", "rng"):
                continue  # sizes are the model's own tests' business (and 200,000 is slow); seeds below
            model = small_model(**{name: value})
            described = "\n".join(app.describe_run(model))
            if name in ("place", "austerity", "procurement"):
                assert f"{value}" in described
            if name == "ubi_level":
                assert model.config.ubi.level == value
            if name == "sanctions_monthly_rate":
                assert f"{value:.2%}" in described
            if name == "investment_fund":
                assert model.config.investment_fund.enabled == (value != "none")


def test_a_seed_that_is_not_a_number_falls_back_and_says_so():
    model = app.ExplorerModel(population=2000, rng="forty")
    assert model.levers["rng"] == app.DEFAULT_SEED
    assert "'forty' is not a whole number" in "\n".join(app.describe_run(model))


@pytest.mark.parametrize("text", ["-5", str(2**32)])
def test_a_seed_out_of_range_falls_back_and_says_so(text):
    model = app.ExplorerModel(population=2000, rng=text)
    assert model.levers["rng"] == app.DEFAULT_SEED
    assert f"seed={text} is out of range" in "\n".join(app.describe_run(model))


def test_the_history_grows_by_one_dated_row_a_month():
    model = stepped(5)
    frame = app.history(model)
    assert len(frame) == 5
    assert list(frame["month"].dt.strftime("%Y-%m")) == ["2010-01", "2010-02", "2010-03", "2010-04", "2010-05"]
    model.step()
    assert len(app.history(model)) == 6


def test_recent_events_are_the_latest_foundings_and_closures_with_causes():
    model = stepped(120, population=20_000, austerity="deep")
    events = app.recent_events(model, n=10_000)
    founded = [o for o in model.organisations if o.born >= model.start_month]
    closed = [o for o in model.organisations if o.died is not None and o.died >= model.start_month]
    assert founded and closed, "ten years of deep cuts should see both foundings and closures"
    assert len(events) == len(founded) + len(closed)
    months = [e["month"] for e in events]
    assert months == sorted(months, reverse=True)
    reasons = {e["why"] for e in events}
    assert reasons <= {"founder's savings", "local share capital", "social investment fund",
                       "council start-up grant", *app.CLOSURE_REASONS.values()}
    assert set(app.CLOSURE_REASONS) == set(CAUSES)  # every cause the model records has its words
    assert len(app.recent_events(model)) == min(app.RECENT_EVENTS, len(events))


def test_the_map_has_one_point_per_live_organisation_inside_its_neighbourhood():
    model = stepped(12)
    points = app.organisation_points(model)
    assert len(points) == len(model.live_organisations)
    assert list(points["members"]) == [o.members for o in model.live_organisations]
    side = math.ceil(math.sqrt(model.citizens.n_nbhd))
    cells = (points["y"].astype(int) * side + points["x"].astype(int)).tolist()
    assert cells == [o.nbhd for o in model.live_organisations]
    assert set(points["type"]) <= set(app.KIND_LABELS.values())


def test_drawing_the_page_does_not_draw_on_the_models_generator():
    """The page must not change the run it shows: same seed, same run, watched or not."""
    import solara

    @solara.component
    def Everything(model, month):
        with solara.Column() as column:
            for component in app.COMPONENTS:
                component(model)
        return column

    watched, unwatched = small_model(), small_model()
    for _ in range(6):
        watched.step()
        unwatched.step()
        _, context = solara.render(Everything(watched, watched.month), handle_error=False)
        context.close()
    assert watched.rng.random() == unwatched.rng.random()
    assert app.history(watched).drop(columns="month").equals(app.history(unwatched).drop(columns="month"))


# ---------------------------------------------------------------- the served page
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    found.add(address)
    return found


@pytest.fixture(scope="module")
def explorer():
    """The explorer as a user starts it, with HOST set to every interface in its environment."""
    port = free_port()
    # Solara's CDN made unreachable (nothing listens on that port), so the page must come from this machine
    env = {**os.environ, "HOST": "0.0.0.0", "SOLARA_HOST": "0.0.0.0",
           "SOLARA_ASSETS_CDN": f"http://127.0.0.1:{free_port()}/npm/"}
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "explorer-server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "commonsabm.explorer", "--port", str(port),
                               "--population", "5000"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not listening_addresses(port):
        assert server.poll() is None, f"the explorer exited; see {log.name}"
        assert time.monotonic() < deadline, f"the explorer did not start; see {log.name}"
        time.sleep(0.5)
    yield port
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_explorer_listens_on_loopback_only_by_default(explorer):
    assert DEFAULT_HOST == "127.0.0.1"
    assert listening_addresses(explorer) == {"127.0.0.1"}


def test_a_host_is_only_used_when_given(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")  # Solara alone would take this
    assert options([]).host == "127.0.0.1"
    assert options(["--host", "0.0.0.0"]).host == "0.0.0.0"
    command = solara_command("127.0.0.1", 8765)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    # Solara is pinned for its offline scripts: it must not advise an upgrade, nor ask PyPI at each start
    assert "--no-check-version" in command


BAD_OPTIONS = {
    "negative_population": (["--population", "-5"], ["--population=-5", "500 to 5,000,000"]),
    "small_population": (["--population=499"], ["--population=499", "500 to 5,000,000"]),
    "population_not_a_number": (["--population", "many"], ["--population='many'", "500 to 5,000,000"]),
    "population_not_whole": (["--population", "2500.5"], ["--population='2500.5'", "(int)"]),
    "port_out_of_range": (["--port", "70000"], ["--port=70000", "0 to 65535"]),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_stop_the_explorer_with_one_line_before_it_serves(case, tmp_path):
    """Issue #13: the explorer took --population -5 and failed only when a browser opened the page."""
    args, must_name = BAD_OPTIONS[case]
    result = subprocess.run([sys.executable, "-m", "commonsabm.explorer", *args], cwd=tmp_path, env=user_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""  # not even the address it would have served on
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m commonsabm.explorer: error: ")
    for text in must_name:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"


def test_a_population_in_range_is_taken_as_a_whole_number():
    assert options(["--population", "5000"]).population == 5000
    assert options([]).population is None


def chart_pictures(page) -> list[bytes]:
    return [chart.screenshot() for chart in page.locator(".vega-embed").all()]


def test_the_page_in_chromium_lever_step_charts_and_date(explorer):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = require_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=HEADLESS_CHROMIUM)
        page = browser.new_page(viewport={"width": 1600, "height": 1500})
        page.goto(f"http://127.0.0.1:{explorer}/", timeout=120_000)
        page.get_by_text("Not started: the run begins in January 2010").wait_for(timeout=120_000)
        assert page.get_by_text("Austerity: continued").is_visible()

        # one lever: the austerity path, chosen from its list, takes effect on Reset
        page.locator(".v-select").filter(has_text="Austerity path").locator(".v-select__slot").click()
        page.get_by_role("option", name="none", exact=True).click()
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Austerity: none").wait_for(timeout=60_000)

        step = page.get_by_role("button", name="Step")
        for _ in range(2):
            step.click()
        page.get_by_text("February 2010 (month 2 of 252)").wait_for(timeout=60_000)
        page.locator(".vega-embed").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # let the charts finish drawing
        before = chart_pictures(page)
        for _ in range(10):
            step.click()
        page.get_by_text("December 2010 (month 12 of 252)").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        after = chart_pictures(page)
        page.screenshot(path=ARTIFACTS / "explorer.png", full_page=True)
        browser.close()
    assert len(before) == len(after) == 7, "the map and the six charts"
    changed = sum(b != a for b, a in zip(before, after))
    assert changed >= 6, f"only {changed} of 7 charts changed after ten more months"
    assert (ARTIFACTS / "explorer.png").stat().st_size > 10_000


def test_a_major_version_address_links_to_the_release_the_cache_holds(tmp_path):
    from commonsabm.explorer import assets as browser_assets

    for release in ("vega@5.21.0", "vega@5.3.1", "vega@4.9.9", "@scope/widget@2.0.1", "@scope/widget@2.1.0-beta"):
        (tmp_path / release / "build").mkdir(parents=True)
        (tmp_path / release / "build" / "main.js").write_text(release)
    needed = {("vega", "5"), ("@scope/widget", "2"), ("vega-lite", "5")}
    assert browser_assets.link_major_versions(tmp_path, needed) == ["vega-lite@5"]
    # the newest release of that major, not a pre-release, linked relatively (the folder may move)
    assert (tmp_path / "vega@5" / "build" / "main.js").read_text() == "vega@5.21.0"
    assert os.readlink(tmp_path / "vega@5") == "vega@5.21.0"
    assert (tmp_path / "@scope" / "widget@2" / "build" / "main.js").read_text() == "@scope/widget@2.0.1"
    # a second start changes nothing and leaves no temporary link behind
    assert browser_assets.link_major_versions(tmp_path, needed) == ["vega-lite@5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["@scope", "vega@4.9.9", "vega@5", "vega@5.21.0",
                                                          "vega@5.3.1"]


def test_every_chart_script_solara_asks_for_is_in_the_installed_offline_copy(tmp_path):
    """The pinned solara-assets holds what the pinned Solara's Altair widget loads: upgrading one alone fails here."""
    import solara
    from commonsabm.explorer import assets as browser_assets

    needed = browser_assets.major_version_addresses()
    assert {"vega", "vega-lite", "vega-embed"} <= {name for name, _ in needed}
    # a copy of the installed cache made of links, so that the test leaves the environment as it was
    for entry in browser_assets.cache_dir().iterdir():
        (tmp_path / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    assert browser_assets.link_major_versions(tmp_path, needed) == []
    widget = (Path(solara.__file__).parent / "widgets" / "vue" / "vegalite.vue").read_text()
    addresses = re.findall(r"getCdn\(\)\}/((?:vega|vega-lite|vega-embed)@\d+/[\w./-]+)`", widget)
    assert len(addresses) == 3
    for address in addresses:
        assert (tmp_path / address).is_file(), f"{address} is not in the offline copy"


def test_the_launcher_says_in_one_line_when_the_charts_will_need_the_cdn(monkeypatch, capsys):
    from commonsabm.explorer import assets as browser_assets
    from commonsabm.explorer.launcher import serve_charts_offline

    monkeypatch.setattr(browser_assets, "link_major_versions", lambda: ["vega@5", "vega-lite@5"])
    serve_charts_offline()
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and "vega@5, vega-lite@5" in said[0] and "cdn.jsdelivr.net" in said[0]

    def read_only():
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(browser_assets, "link_major_versions", read_only)
    serve_charts_offline()
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and "Permission denied" in said[0] and "cdn.jsdelivr.net" in said[0]
