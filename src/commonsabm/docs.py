"""Generate the ODD's parameter and output tables from the code, so the two cannot drift.

``python -m commonsabm.docs`` rewrites the tables between their markers in docs/ODD.md;
the tests fail if the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from commonsabm.params.checks import allowed, from_keywords, primary_config, walk
from commonsabm.sim.reporters import REPORTERS


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _calibrated_keys() -> set[str]:
    """Keys whose default conf/config.yaml sets itself: the calibrated values."""
    _, own = primary_config()

    def keys(prefix: str, values: dict) -> set[str]:
        out = set()
        for key, value in values.items():
            out |= keys(f"{prefix}{key}.", value) if isinstance(value, dict) else {f"{prefix}{key}"}
        return out
    return set().union(*(keys(f"{section}.", values) for section, values in own.items())) if own else set()


def parameter_table() -> str:
    """Every parameter with its default as the command line composes it (conf/ included)."""
    rows = ["| config key | default | allowed | unit | meaning | source or assumption |",
            "|---|---|---|---|---|---|"]
    model, run = from_keywords()
    calibrated = _calibrated_keys()
    for prefix, node in (("run.", run), ("", model)):
        for key, value, f in walk(node, prefix):
            meta = f.metadata
            source = meta.get("source", "assumption")
            if key in calibrated:
                source = f"calibrated to the UK figures of 2010-2020 (conf/config.yaml, docs/validation.md); prior: {source}"
            rows.append("| " + " | ".join(_cell(c) for c in (
                f"`{key}`", value, allowed(f), meta.get("unit", ""), meta.get("help", ""), source)) + " |")
    return "\n".join(rows)


def output_table() -> str:
    rows = ["| column of timeseries.parquet | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{name}` | {_cell(unit)} | {_cell(meaning)} |" for name, (unit, meaning) in REPORTERS.items()]
    return "\n".join(rows)


TABLES = {"parameters": parameter_table, "outputs": output_table}


def render(text: str) -> str:
    """The document with each generated table replaced by the current one."""
    for name, table in TABLES.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        head, sep, rest = text.partition(start)
        if not sep or end not in rest:
            raise ValueError(f"the document has no {start} ... {end} markers")
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{table()}\n{end}{tail}"
    return text


def main(path: str = "docs/ODD.md") -> None:
    target = Path(path)
    target.write_text(render(target.read_text()))
    print(f"updated the generated tables in {target}")


if __name__ == "__main__":
    main(*sys.argv[1:])
