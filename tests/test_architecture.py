"""The architecture's layers hold, and the contract that says so can fail.

``.importlinter`` lists the layers (README, "Architecture"); import-linter checks the real
package, and a copy of it in which ``sim/`` imports ``runs/`` must break the contract.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import SRC

ROOT = SRC.parent
LINT = Path(sys.executable).with_name("lint-imports")
LONG = 400  # lines a module may have without saying why at its top


def lint(package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT), "--config", str(ROOT / ".importlinter"), "--no-cache"],
                          cwd=package_parent, env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_contract_is_kept():
    result = lint(SRC)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_sim_importing_runs_breaks_the_contract(tmp_path):
    shutil.copytree(SRC / "commonsabm", tmp_path / "commonsabm", ignore=shutil.ignore_patterns("__pycache__"))
    model = tmp_path / "commonsabm" / "sim" / "model.py"
    model.write_text(model.read_text().replace("import mesa\n", "import mesa\n\nimport commonsabm.runs.jobs\n", 1))
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "commonsabm.sim.model -> commonsabm.runs.jobs" in result.stdout


def test_no_actor_imports_the_model_class():
    """Actors are typed against sim/world.py's protocol, so the model and its actors form no loop."""
    for path in (SRC / "commonsabm" / "sim").glob("*.py"):
        if path.name != "model.py":
            assert not re.search(r"import\s+CommonsModel|sim\.model\s+import", path.read_text()), path.name


def test_long_modules_say_why():
    for path in (SRC / "commonsabm").rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > LONG:
            head = text.split('"""')[1] if text.startswith('"""') else ""
            assert "over 400 lines" in head, f"{path.relative_to(SRC)} has over {LONG} lines and no reason at its top"
