"""Generate the ODD's parameter table from the schema, so documentation and code cannot drift.

``python -m commonsabm.docs`` rewrites the table between the markers in docs/ODD.md;
the tests fail if the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .config import ModelConfig, RunConfig
from .validation import allowed, walk

START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parameter_table() -> str:
    rows = ["| config key | default | allowed | unit | meaning | source or assumption |",
            "|---|---|---|---|---|---|"]
    for prefix, node in (("run.", RunConfig()), ("", ModelConfig())):
        for key, value, f in walk(node, prefix):
            meta = f.metadata
            rows.append("| " + " | ".join(_cell(c) for c in (
                f"`{key}`", value, allowed(f), meta.get("unit", ""), meta.get("help", ""),
                meta.get("source", "assumption"))) + " |")
    return "\n".join(rows)


def render(text: str) -> str:
    """The document with its parameter table replaced by the current one."""
    head, sep, rest = text.partition(START)
    if not sep or END not in rest:
        raise ValueError(f"the document has no {START} ... {END} markers")
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{parameter_table()}\n{END}{tail}"


def main(path: str = "docs/ODD.md") -> None:
    target = Path(path)
    target.write_text(render(target.read_text()))
    print(f"updated the parameter table in {target}")


if __name__ == "__main__":
    main(*sys.argv[1:])
