"""What the global sensitivity analysis found, read from its own output, for the verdict to cite.

A sensitivity run (``+experiment=sensitivity``) writes ``sensitivity_morris.csv`` (Morris
indices per output and parameter) and ``manifest.json`` (its settings and the seed-to-seed
spread of each output) into its directory. ``Findings.read(DIR)`` turns them into one line
per output: the parameters whose Morris mu* exceeds the seed noise, most influential first.
The package carries a copy of the latest default-size analysis in ``data/sensitivity/``,
which the verdict uses unless given another directory, so the verdict never cites findings
typed into code and a rerun of the analysis updates what it says.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import pandas as pd

MORRIS_FILE = "sensitivity_morris.csv"
MANIFEST_FILE = "manifest.json"
NOT_SCREENED = "not an output of the sensitivity analysis"


def packaged() -> Path:
    """The copy of the latest default-size sensitivity analysis shipped with the package."""
    return Path(str(files("commonsabm") / "data" / "sensitivity"))


@dataclass
class Findings:
    source: str  # where the findings were read, and the analysis's settings
    by_output: dict[str, str] = field(default_factory=dict)  # sensitivity output -> one line
    inert: list[str] = field(default_factory=list)  # screened parameters with no effect on any output

    @classmethod
    def read(cls, directory: str | Path | None = None) -> "Findings":
        directory = packaged() if directory is None else Path(directory)
        morris = pd.read_csv(directory / MORRIS_FILE)
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        noise = {row["output"]: row["sd"] for row in manifest.get("seed_noise") or []}
        by_output = {}
        for output, frame in morris.groupby("output", sort=False):
            frame = frame.sort_values("mu_star", ascending=False)
            sd = noise.get(output, math.nan)
            above = frame if math.isnan(sd) else frame[frame["mu_star"] > sd]
            if above.empty:
                by_output[output] = f"no screened parameter moves it beyond seed noise (SD {sd:.3g})"
            else:
                by_output[output] = ", ".join(f"{r.parameter} (mu* {r.mu_star:.3g})" for r in above.itertuples())
        totals = morris.groupby("parameter", sort=False)["mu_star"].max()
        inert = [name for name, top in totals.items() if top == 0]
        settings = manifest.get("sensitivity", {})
        where = "the packaged analysis (commonsabm/data/sensitivity)" if directory == packaged() else f"`{directory}`"
        source = (f"{where}: Morris screening of {settings.get('morris_trajectories', '?')} trajectories at "
                  f"{settings.get('population', '?')} residents to {settings.get('end', '?')}, finished "
                  f"{manifest.get('finished', '?')} at commit {manifest.get('git_commit', '?')}")
        return cls(source, by_output, inert)

    def about(self, metric: str) -> str:
        """The line for a sweep metric (``X_final``: the sensitivity output ``X``)."""
        output = metric.removesuffix("_final")
        return self.by_output.get(output, f"{metric.removesuffix('_final')}: {NOT_SCREENED}")

    def inert_notes(self) -> list[str]:
        """Screened parameters that moved nothing: their mechanism was off in the screened scenario."""
        if not self.inert:
            return []
        return [f"no effect in the screened scenario, so not tested by it: {', '.join(self.inert)}"]
