"""The browser test's decision when there is no Chromium: skip with one line, or fail under CI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from browser import ADVICE, find_chromium, require_chromium

ROOT = Path(__file__).resolve().parents[1]


def nothing(name: str) -> None:
    return None


def test_a_found_browser_is_used():
    assert require_chromium(which=lambda name: f"/opt/{name}" if name == "chromium-browser" else None,
                            environ={}) == "/opt/chromium-browser"


def test_no_browser_outside_ci_skips_with_one_line():
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium(which=nothing, environ={})
    assert str(skipped.value) == ADVICE and "\n" not in ADVICE
    assert "apt-get install chromium" in ADVICE


@pytest.mark.parametrize("ci", ["true", "1"])
def test_no_browser_under_ci_fails(ci):
    with pytest.raises(pytest.fail.Exception) as failed:
        require_chromium(which=nothing, environ={"CI": ci})
    assert "CI=true" in str(failed.value)


def test_the_installer_never_fails_make_test(tmp_path):
    """Without Chromium, apt-get or root, the script says why in one line and exits 0."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "id", "echo"):  # a PATH with neither chromium nor apt-get
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real.startswith("/"):
            (bin_dir / tool).symlink_to(real)
    result = subprocess.run(["/bin/sh", str(ROOT / "scripts" / "install-browser.sh")], capture_output=True,
                            text=True, env={"PATH": str(bin_dir)}, timeout=60)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "Chromium" in lines[0]


def test_make_test_runs_the_installer_and_ci_only_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    test_rule = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/install-browser.sh" in test_rule
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    assert ci[-1] == "make test" and not any("apt-get" in line for line in ci)


def test_find_chromium_prefers_debian_name():
    assert find_chromium(lambda name: f"/usr/bin/{name}") == "/usr/bin/chromium"
