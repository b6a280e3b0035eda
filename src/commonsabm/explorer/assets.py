"""The page's JavaScript and CSS, from the npm registry into Solara's CDN cache.

Solara serves its front end through a proxy that fetches files from cdn.jsdelivr.net
on first use and caches them. Machines that reach package registries but not that CDN
(teaching labs, clusters, CI runners) would show a blank page. jsdelivr's ``/npm/``
paths are the files of npm packages, so the same files come from the npm registry's
tarballs; this module puts them where Solara's proxy looks first.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

NPM_REGISTRY = "https://registry.npmjs.org"
# @scope/name@1.2.3/, name@1.2.3/ or name@5/ (a major version, which the CDN resolves) in an address
_PACKAGE = re.compile(r"((?:@[\w.-]+/)?[\w.-]+)@(\d+(?:\.\d+\.\d+[\w.+-]*)?)/")


def cache_dir() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def packages_the_page_needs() -> set[tuple[str, str]]:
    """Every npm package and version that Solara's page, its widgets and Markdown load from the CDN.

    Read from Solara's own sources, so an upgrade of Solara brings its new versions along.
    """
    import solara
    from solara.server import settings

    root = Path(solara.__file__).parent
    # the templates, the widgets (the chart grid, Altair's charts) and Markdown (maths, diagrams)
    sources = [*(root / "server" / "templates").glob("*"), *(root / "widgets" / "vue").glob("*.vue"),
               root / "components" / "markdown.py"]
    needed = {found for source in sources for line in source.read_text().splitlines()
              if "cdn" in line.lower() for found in _PACKAGE.findall(line)}
    if settings.assets.fontawesome_enabled:
        needed |= set(_PACKAGE.findall(settings.assets.fontawesome_path.lstrip("/") + "/"))
    return needed


def tarball_url(name: str, version: str) -> str:
    return f"{NPM_REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"


def newest_release(name: str, major: str, timeout: float) -> str:
    """The version the CDN serves for ``name@<major>``: the newest release of that major."""
    with urllib.request.urlopen(f"{NPM_REGISTRY}/{name}", timeout=timeout) as response:
        versions = json.load(response)["versions"]
    releases = [tuple(int(x) for x in v.split(".")) for v in versions if re.fullmatch(r"\d+\.\d+\.\d+", v)]
    return ".".join(map(str, max(r for r in releases if r[0] == int(major))))


def unpack(data: bytes, target: Path) -> None:
    """An npm tarball's ``package/`` folder becomes ``target``, written whole or not at all."""
    # a folder of its own, so that two servers starting at once never mix their files
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = [m for m in archive.getmembers() if m.isfile() and m.name.startswith("package/")]
            for member in members:
                member.name = member.name[len("package/"):]
            archive.extractall(staging, members=members, filter="data")
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # another server put the same files there first: nothing is lost
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure(directory: Path | None = None, timeout: float = 60.0) -> list[str]:
    """Fetch whatever the page needs that the cache lacks; returns the packages fetched."""
    directory = directory or cache_dir()
    fetched = []
    for name, version in sorted(packages_the_page_needs()):
        target = directory / f"{name}@{version}"
        if target.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        release = version if "." in version else newest_release(name, version, timeout)
        with urllib.request.urlopen(tarball_url(name, release), timeout=timeout) as response:
            unpack(response.read(), target)
        fetched.append(f"{name}@{version}")
    return fetched
