"""Where the browser tests find Chromium, and what happens when there is none.

``make test`` installs Chromium where it can (``scripts/install-browser.sh``). Where it
could not, a browser test skips with one line saying why and how to install it; under
``CI=true`` a missing browser is a failure, because CI must run the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping

import pytest

ADVICE = ("no Chromium found (chromium or chromium-browser on PATH); install it with "
          "`sudo apt-get install chromium` or run `make test` as root, which installs it")


def find_chromium(which: Callable[[str], str | None] = shutil.which) -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = which(name)
        if found:
            return found
    return None


def require_chromium(which: Callable[[str], str | None] = shutil.which,
                     environ: Mapping[str, str] = os.environ) -> str:
    """The path of Chromium; without one, skip the calling test, or fail it under CI=true."""
    found = find_chromium(which)
    if found:
        return found
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and {ADVICE}", pytrace=False)
    pytest.skip(ADVICE)
