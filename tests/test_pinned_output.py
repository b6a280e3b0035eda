"""Optimisations must not change what the model computes (see tests/pinned.py)."""

import json

import pytest

from pinned import CONFIGS, PINNED, summarise


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_pinned_run_reproduces_its_summary(name):
    expected = json.loads(PINNED.read_text())[name]
    actual = summarise(name)
    assert actual.keys() == expected.keys()
    drift = {k: (expected[k], actual[k]) for k in expected if actual[k] != pytest.approx(expected[k], rel=1e-9, abs=1e-12)}
    assert not drift, f"pinned numbers changed (re-pin with a reason if on purpose): {drift}"
