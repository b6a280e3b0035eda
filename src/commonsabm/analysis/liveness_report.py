"""The liveness table's report: its markdown, and its section of docs/validation.md (see liveness.py)."""

from __future__ import annotations

import math

import pandas as pd

BEGIN, END = "<!-- liveness:begin -->", "<!-- liveness:end -->"


def _num(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.3g}"


def lever_text(c) -> str:
    text = ", ".join(f"{k}={v}" for k, v in c.lever.items())
    return text + (f" (both arms: {', '.join(f'{k}={v}' for k, v in c.setting.items())})" if c.setting else "")

def note(c, judged: str) -> str:
    """The row's note: what its setting is, and, only where the row is not live, why that is the finding."""
    if judged == "live":
        return c.note
    return "; ".join(filter(None, (c.note, c.if_inert, c.not_live and f"not live: {c.not_live}")))

def markdown(frame: pd.DataFrame) -> str:
    """The table, one row per mechanism."""
    lines = ["| mechanism | ODD | claims | lever (arm B; arm A is the baseline) | metric | baseline | effect B − A "
             "| 95% interval | expected | holds | note |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in frame.itertuples():
        holds = {"live": "yes", "inert": "**no: interval includes 0**", "reversed": "**no: reversed**"}.get(
            r.verdict, r.verdict)
        lever = r.lever.replace("|", "/")
        lines.append(f"| {r.mechanism} | §{r.odd_section} | {r.claims or '—'} | `{lever}` | {r.metric} "
                     f"| {r.baseline:.3g} | {_num(r.effect)} | [{_num(r.low)}, {_num(r.high)}] | {r.expected} "
                     f"| {holds} | {r.note or ''} |")
    return "\n".join(lines)


def section(frame: pd.DataFrame, settings_line: str, command: str, months: int) -> str:
    """docs/validation.md's Liveness section, between its markers."""
    inert = frame[frame["verdict"] != "live"]
    summary = "; ".join(f"{r.mechanism} ({r.verdict}{', claims ' + r.claims if r.claims else ''})"
                        for r in inert.itertuples()) or "none"
    return "\n".join([
        BEGIN,
        "## 4. Liveness",
        "",
        "Is every mechanism of docs/ODD.md live? Each row is a one-lever contrast: arm A is the baseline "
        "(plus what both arms share, in brackets), arm B changes the one lever shown. Both arms run the same "
        "replicates (replicate k seeded by the k-th child of the run seed: common random numbers); the "
        "effect is the mean of the paired differences B − A in the metric (a mean over the run's last "
        f"{months} months, per 100,000 residents for counts), with its "
        "95% interval (± 1.96 SD/√n). *holds* is yes when the interval excludes 0 in the expected direction. "
        "The table of contrasts is `CONTRASTS` in `src/commonsabm/analysis/liveness.py`; "
        "`tests/test_liveness.py` checks each direction in a small run.",
        "",
        f"Run: {settings_line}. Command: `{command}`.",
        "",
        markdown(frame),
        "",
        f"Not live in this run ({len(inert)} of {len(frame)}): {summary}.",
        END,
    ])


def replace_section(text: str, new: str) -> str:
    """``text`` with its Liveness section (between the markers) replaced by ``new``, or ``new`` appended."""
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        head, rest = text.split(BEGIN, 1)
        return head + new + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + new + "\n"
