"""Months as the model counts them: 'YYYY-MM' strings, month indices and decimal years."""

from __future__ import annotations

import re

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """'2010-01' -> (2010, 1); anything else raises ValueError naming the format."""
    match = _MONTH.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"'{text}' is not a month in YYYY-MM form")
    return int(match.group(1)), int(match.group(2))


def month_index(text: str) -> int:
    """Months since year 0, so that differences between months are plain subtraction."""
    year, month = parse_month(text)
    return year * 12 + month - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def decimal_year(index: int) -> float:
    return index / 12.0


def months_between(start: str, end: str) -> int:
    """Number of simulated months from start to end, both included."""
    return month_index(end) - month_index(start) + 1
