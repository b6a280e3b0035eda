"""The kept worlds as a Hydra config group, ``world``: one option per world, ``+world=w003``.

``python -m commonsabm.analysis.ensemble.worlds ... --conf DIR`` writes DIR/world/wNNN.yaml
for each kept world (NNN its place in the Latin-hypercube draw). Each file is a ``_global_``
package holding the world's values as nested keys, so a run or a sweep picks a world as it
picks any preset, and ``+world=glob(*)`` sweeps every world of the group
(conf/experiment/debate_ensemble.yaml). The project's default ensemble is conf/world/,
written with ``--conf conf``.

A file sets every uncertain parameter of the world (``problem.WORLD``) to the world's value,
and every other value the world's settings differ in, so that the composed configuration is
exactly the one the world was judged with (the calibrated baseline, ``adapter.settings``).
A world sets no parameter a debate lever's presets set (``problem.lever_keys``), so merging it
after the presets leaves every lever as the debate defines it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from commonsabm.analysis.ensemble.problem import WORLD as UNCERTAIN
from commonsabm.analysis.sensitivity import Uncertain
from commonsabm.params.checks import walk

GROUP = "world"
OPTION = re.compile(r"w\d+\.yaml")  # the files this module writes, and replaces when the group is rewritten


def world_values(row: pd.Series, uncertain: tuple[Uncertain, ...] = UNCERTAIN) -> dict[str, Any]:
    """{dotted key: value} a world sets, as the run that judged it configured them."""
    from commonsabm.analysis.ensemble.adapter import settings
    from commonsabm.analysis.ensemble.worlds import TARGETS_END

    values = {u.key: float(row[u.key]) for u in uncertain}
    base = dict((key, value) for key, value, _ in walk(settings({}, {}, 2000, TARGETS_END).model))
    world = dict((key, value) for key, value, _ in walk(settings(values, {}, 2000, TARGETS_END).model))
    return {key: value for key, value in world.items() if key in values or value != base[key]}


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys as the nested mapping a config file holds."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        *sections, name = key.split(".")
        node = out
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = value
    return out


def world_yaml(row: pd.Series, command: str) -> str:
    from commonsabm.analysis.ensemble.worlds import IMPLAUSIBILITY, world_name

    name = world_name(int(row["world"]))
    scores = {c.removesuffix(IMPLAUSIBILITY): row[c] for c in row.index if c.endswith(IMPLAUSIBILITY)}
    worst = max(scores, key=scores.get) if scores else None
    judged = (f"largest implausibility {row['implausibility']:.3f} (at {worst})" if worst else "")
    header = [
        "# @package _global_",
        f"# World {name}: draw {int(row['world'])} of the Latin hypercube over the uncertain parameters",
        f"# (analysis/sensitivity.py UNCERTAIN), kept by history matching against the calibration bands; {judged}.",
        f"# Written by: {command}",
        f"# Use: python -m commonsabm +world={name} ...; every world: +experiment=debate_ensemble",
    ]
    body = yaml.safe_dump(nested(world_values(row)), sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + body


def write_group(table: pd.DataFrame, conf: Path, command: str, keep: int | None = None) -> list[Path]:
    """Write each kept world (the first ``keep``, in the order drawn) as ``conf/world/wNNN.yaml``.

    The group is the product of one command: options an earlier command wrote that this one
    did not keep are removed, so ``+world=glob(*)`` sweeps this ensemble and no other.
    """
    from commonsabm.analysis.ensemble.worlds import world_name
    from commonsabm.runs.jobs import atomic_write

    kept = table[table["kept"]].sort_values("world")
    if keep is not None:
        kept = kept.head(keep)
    folder = conf / GROUP
    written = []
    for _, row in kept.iterrows():
        text = world_yaml(row, command)
        path = folder / f"{world_name(int(row['world']))}.yaml"
        atomic_write(path, lambda p, text=text: p.write_text(text))
        written.append(path)
    if folder.is_dir():
        for stale in sorted(folder.iterdir()):
            if OPTION.fullmatch(stale.name) and stale not in written:
                stale.unlink()
    return written


__all__ = ["GROUP", "nested", "world_values", "world_yaml", "write_group"]
