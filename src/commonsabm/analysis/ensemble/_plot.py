"""Headless matplotlib for the ensemble's figures, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

from commonsabm.runs.jobs import atomic_write


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend: the verdict is drawn on machines with no display."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, path: Path | str) -> Path:
    """Write ``fig`` as a PNG to ``path`` (a rename, so a reader never sees half a figure) and close it."""
    path = Path(path)
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png", bbox_inches="tight"))
    finally:
        pyplot().close(fig)
    return path
