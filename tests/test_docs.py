"""The ODD's generated tables match the code, and every parameter is documented."""

from pathlib import Path

from commonsabm.docs import output_table, parameter_table, render
from commonsabm.sim.reporters import REPORTERS

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


def test_odd_tables_are_current():
    text = ODD.read_text()
    assert render(text) == text, "docs/ODD.md is out of date: run `python -m commonsabm.docs`"


def test_parameter_table_lists_every_parameter_with_a_source():
    rows = [r for r in parameter_table().splitlines()[2:]]
    assert len(rows) > 100
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[4], f"no meaning for {cells[0]}"
        assert cells[5], f"no source or assumption for {cells[0]}"


def test_output_table_lists_every_metric():
    table = output_table()
    for name in REPORTERS:
        assert f"`{name}`" in table
