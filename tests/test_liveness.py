"""The liveness table (issue 15): every mechanism's one-lever contrast moves its metric the
expected way, and the tool that measures it computes paired intervals and rewrites its
section of docs/validation.md correctly.

The direction tests run each entry of ``liveness.CONTRASTS`` at the size its ``test``
field names (by default 3,000 residents to 2014-12 over 3 paired seeds); arms shared by
several entries (the baseline) run once per test process.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from commonsabm.analysis import liveness
from commonsabm.analysis.estimates import Estimate
from commonsabm.analysis.liveness import BEGIN, CONTRASTS, END, Contrast, Size
from commonsabm.runs.outputs import replicate_seeds
from commonsabm.sim.reporters import REPORTERS


@functools.lru_cache(maxsize=None)
def _arm(frozen: tuple, population: int, end: str, seeds: int, k: int, months: int) -> pd.Series:
    arm = liveness.settings(dict(frozen), population, end)
    return liveness.outcome(arm, replicate_seeds(liveness.TEST_SEED, seeds)[k], months)


def paired_effects(contrast: Contrast) -> pd.Series:
    size = contrast.test
    months = min(liveness.FINAL_MONTHS, size.months)
    runs = {(liveness._frozen(arm), k): _arm(liveness._frozen(arm), size.population, size.end, size.seeds, k, months)
            for arm in contrast.arms() for k in range(size.seeds)}
    return liveness.differences(contrast, runs, size.seeds)


@pytest.mark.parametrize("contrast", CONTRASTS, ids=[c.mechanism for c in CONTRASTS])
def test_each_mechanism_moves_its_metric_the_expected_way(contrast):
    """The mean paired effect B - A has the entry's sign (an inert lever, with effect 0, fails)."""
    if contrast.not_live:
        pytest.xfail(f"not live: {contrast.not_live}")
    effects = paired_effects(contrast)
    assert effects.mean() * contrast.sign > 0, (
        f"{contrast.mechanism}: {contrast.lever} moved {contrast.metric} by {effects.mean():+.4g} "
        f"(per seed {list(np.round(effects, 4))}); expected {'+' if contrast.sign > 0 else '-'}")


@pytest.mark.parametrize("contrast", [c for c in CONTRASTS if c.not_live], ids=lambda c: c.mechanism)
def test_a_mechanism_marked_not_live_is_still_not_live(contrast):
    """An entry says it is inert only while it is: once the lever moves its metric the expected
    way, this fails, so that the mark (and the note in docs/validation.md) is taken off."""
    assert not paired_effects(contrast).mean() * contrast.sign > 0


def test_every_entry_is_a_valid_one_lever_contrast():
    """Each arm passes the configuration checks, each metric is a reported column, each lever changes something."""
    liveness.check_contrasts(CONTRASTS, 10_000, "2020-12")
    names = [c.mechanism for c in CONTRASTS]
    assert len(names) == len(set(names))
    for c in CONTRASTS:
        assert c.lever and set(c.columns()) <= set(REPORTERS), c.mechanism
        a, b = c.arms()
        assert a != b, c.mechanism


def test_paired_differences_and_their_interval_on_a_known_sample():
    """Effects pair replicate k of arm B with replicate k of arm A, and sum a tuple of columns."""
    contrast = Contrast("test", "7.1", (), {"ubi": "full"}, ("x", "y"), +1)
    a, b = (liveness._frozen(arm) for arm in contrast.arms())
    base = [10.0, 20.0, 30.0, 40.0]
    gains = [1.0, 2.0, 3.0, 4.0]
    runs = {}
    for k in range(4):
        runs[(a, k)] = pd.Series({"x": base[k], "y": 1.0})
        runs[(b, k)] = pd.Series({"x": base[k] + gains[k], "y": 1.0 + gains[k]})
    diffs = liveness.differences(contrast, runs, 4)
    assert list(diffs) == [2.0, 4.0, 6.0, 8.0]
    est = Estimate.of(diffs)
    half = 1.96 * np.std([2, 4, 6, 8], ddof=1) / math.sqrt(4)
    assert est.mean == pytest.approx(5.0)
    assert (est.low, est.high) == pytest.approx((5.0 - half, 5.0 + half))
    assert liveness.verdict(est, +1) == "live"
    assert liveness.verdict(est, -1) == "reversed"
    assert liveness.verdict(Estimate.of(pd.Series([-1.0, 1.0, -2.0, 2.0])), +1) == "inert"


def test_the_section_is_replaced_not_duplicated():
    doc = "# Validation\n\n## 3. Other\n\ntext\n"
    first = liveness.replace_section(doc, f"{BEGIN}\n## 4. Liveness\n\nold table\n{END}")
    assert first.startswith(doc.rstrip("\n")) and first.count(BEGIN) == 1
    after = first + "\n## 5. Later\n\nkept\n"
    second = liveness.replace_section(after, f"{BEGIN}\n## 4. Liveness\n\nnew table\n{END}")
    assert second.count(BEGIN) == second.count(END) == 1
    assert "new table" in second and "old table" not in second
    assert second.startswith(doc.rstrip("\n")) and second.endswith("## 5. Later\n\nkept\n")


TINY = (Contrast("sanctions hazard", "7.4", ("D3",), {"sanctions.monthly_rate": 0.25}, "sanctions", +1),
        Contrast("peer effect", "7.6", (), {"behaviour.peer_effect": 0.0}, "volunteering_rate", -1))


def test_the_command_writes_its_table_and_the_docs_section(tmp_path, monkeypatch):
    monkeypatch.setattr(liveness, "CONTRASTS", TINY)
    docs = tmp_path / "validation.md"
    docs.write_text("# Validation\n\n## 3. Other\n")
    argv = ["--seeds", "2", "--population", "1000", "--end", "2011-06", "--months", "6", "--jobs", "1",
            "--out", str(tmp_path / "out"), "--write-docs", str(docs)]
    assert liveness.main(argv) == 0
    frame = pd.read_csv(tmp_path / "out" / "liveness.csv")
    assert list(frame["mechanism"]) == [c.mechanism for c in TINY] and (frame["n"] == 2).all()
    assert frame.loc[0, "effect"] > 0  # ten times the sanction hazard: more sanctions
    assert liveness.main(argv) == 0  # a second run replaces the section
    text = docs.read_text()
    assert text.count(BEGIN) == 1 and "## 3. Other" in text and "| sanctions hazard |" in text


@pytest.mark.parametrize("argv, says", [
    (["--seeds", "1"], "--seeds=1"),
    (["--end", "2020-13"], "--end"),
    (["--months", "999"], "--months=999"),
    (["--write-docs", "no_such_file.md"], "--write-docs"),
])
def test_bad_arguments_stop_with_one_line_and_write_nothing(tmp_path, capsys, argv, says):
    out = tmp_path / "out"
    assert liveness.main(["--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("bad, says", [
    (Contrast("misspelt lever", "7.6", (), {"behaviour.peer_efect": 0.0}, "volunteering_rate", -1), "peer_efect"),
    (Contrast("lever out of range", "7.6", (), {"behaviour.peer_effect": -1.0}, "volunteering_rate", -1),
     "behaviour.peer_effect=-1.0 is out of range"),
    (Contrast("misspelt metric", "7.6", (), {"behaviour.peer_effect": 0.0}, "volunteering_rat", -1),
     "volunteering_rat"),
    (Contrast("no direction", "7.6", (), {"behaviour.peer_effect": 0.0}, "volunteering_rate", 0), "sign=0"),
])
def test_a_bad_entry_is_named_before_anything_runs(tmp_path, capsys, monkeypatch, bad, says):
    monkeypatch.setattr(liveness, "CONTRASTS", TINY + (bad,))
    out = tmp_path / "out"
    assert liveness.main(["--out", str(out), "--seeds", "2", "--population", "1000", "--end", "2011-06",
                          "--months", "6"]) == 2
    err = capsys.readouterr().err.strip()
    assert bad.mechanism in err and says in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_why_a_row_is_inert_is_shown_only_when_it_is():
    """A row that turns live must not keep saying its interval includes 0."""
    entry = Contrast("m", "7.1", ("P1",), {"behaviour.peer_effect": 0.0}, "volunteering_rate", -1,
                     note="under a full UBI", if_inert="founding is a few births a year", not_live="noise")
    assert liveness.note(entry, "live") == "under a full UBI"
    assert liveness.note(entry, "inert") == "under a full UBI; founding is a few births a year; not live: noise"
