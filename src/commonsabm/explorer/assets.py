"""The page's JavaScript and CSS from Solara's own offline copy, the solara-assets package.

Solara serves its front end through a proxy that looks in a cache folder first and asks
cdn.jsdelivr.net only for what is not there. solara-assets, installed with Solara by the
``app`` extra, fills that folder at install time, so machines that reach package registries
but not that CDN (teaching labs, clusters, CI runners) still get the page.

One gap remains. Solara's Altair widget asks for vega, vega-lite and vega-embed by major
version only (``vega@5/...``, which the CDN resolves to its newest 5.x), while solara-assets
ships them at exact versions (``vega@5.21.0``), so without help every chart would wait for
the CDN. Each such major-version address becomes a link to the release of that major that
the cache holds.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

# name@5/ (a major version only, which the CDN resolves) in an address, optionally @scope/name
_MAJOR_ONLY = re.compile(r"((?:@[\w.-]+/)?[\w.-]+)@(\d+)/")
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def cache_dir() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def major_version_addresses() -> set[tuple[str, str]]:
    """Each package that Solara's page and widgets ask the CDN for by major version only.

    Read from Solara's own sources, so that an upgrade of Solara brings its new addresses along.
    """
    import solara

    root = Path(solara.__file__).parent
    sources = [*(root / "server" / "templates").glob("*"), *(root / "widgets" / "vue").glob("*.vue"),
               *(root / "components").glob("*.vue"), *(root / "components").glob("*.py")]
    return {found for source in sources for line in source.read_text().splitlines()
            if "cdn" in line.lower() for found in _MAJOR_ONLY.findall(line)}


def shipped_release(directory: Path, name: str, major: str) -> str | None:
    """The newest ``name@major.x.y`` folder in the cache, or None."""
    folder = directory / name
    releases = [(tuple(map(int, match.groups())), entry.name) for entry in folder.parent.glob(f"{folder.name}@*")
                if (match := _RELEASE.fullmatch(entry.name.rpartition("@")[2])) and match[1] == major]
    return max(releases)[1] if releases else None


def link(target: str, address: Path) -> None:
    """``address`` becomes a relative link to its sibling ``target``, made whole or not at all."""
    # a name of its own and a rename, so that two servers starting at once never see half a link
    temporary = address.with_name(f".{address.name}.{secrets.token_hex(4)}")
    os.symlink(target, temporary, target_is_directory=True)
    try:
        os.replace(temporary, address)
    finally:
        if temporary.is_symlink():
            temporary.unlink()


def link_major_versions(directory: Path | None = None,
                        needed: set[tuple[str, str]] | None = None) -> list[str]:
    """Serve each major-version address from the cache; returns those the cache cannot serve.

    Raises OSError when the cache folder cannot be written (a read-only environment).
    """
    directory = directory or cache_dir()
    missing = []
    for name, major in sorted(major_version_addresses() if needed is None else needed):
        address = directory / f"{name}@{major}"
        if address.exists():
            continue
        release = shipped_release(directory, name, major)
        if release is None:
            missing.append(f"{name}@{major}")
            continue
        link(release, address)
    return missing
