"""No configuration value is evaluated as code, and the explorer is not on the network by default.

Hydra instantiates objects only from ``_target_`` keys of its own ``hydra.*`` settings
(launchers, sweepers, callbacks); commonsabm never instantiates or calls anything named by
the job's configuration. docs/reliability.md says why ``hydra.*`` overrides are left to the
user: they are the user's own command line, which can already run any code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CONF, SRC, commonsabm


def test_the_package_never_instantiates_or_calls_from_configuration():
    offenders = []
    for path in (SRC / "commonsabm").rglob("*.py"):
        text = path.read_text()
        for pattern in (r"\binstantiate\s*\(", r"hydra\.utils\.call\b", r"\bget_method\s*\(", r"\beval\s*\(",
                        r"\bexec\s*\(", r"\bget_class\s*\("):
            offenders += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not offenders


def test_the_only_targets_in_conf_are_hydras_plugins_and_our_callbacks():
    targets = []
    for path in CONF.rglob("*.yaml"):
        targets += re.findall(r"_target_:\s*([\w.]+)", path.read_text())
    assert targets, "conf/ names Hydra's callbacks and launchers"
    assert all(t.startswith(("hydra_plugins.", "commonsabm.cli.", "hydra.")) for t in targets), targets


@pytest.mark.parametrize("override", ["+ubi._target_=os.system", "+_target_=os.system",
                                      "ubi={_target_:os.system,level:300}"])
def test_a_target_in_the_model_configuration_is_an_unknown_key(override, tmp_path):
    out = tmp_path / "out"
    result = commonsabm([override, "run.population=1000", "run.end=2010-03", f"hydra.run.dir={out}"], cwd=tmp_path)
    assert result.returncode != 0
    assert "unknown key" in result.stderr and "_target_" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_the_page_levers_are_model_keywords_not_configuration_objects():
    """The explorer builds models from plain values; nothing typed on the page reaches Hydra."""
    pytest.importorskip("solara")
    from commonsabm.explorer import page as app

    for name, spec in app.levers().items():
        values = spec.get("values", [spec["value"]])
        assert all(isinstance(v, (str, int, float, bool)) for v in values), name
    assert "hydra" not in Path(app.__file__).read_text()
