# make run   - make .venv with a Python 3.12+ found on this machine, install, run the ubi experiment
# make test  - the same set-up, then the test suite
# make app   - the same set-up, then the interactive explorer on http://127.0.0.1:8765
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# First Python 3.12+ found: PYTHON=..., then python3.13/3.12 on PATH, then pyenv's versions
# (found through `pyenv root`, or PYENV_ROOT, or ~/.pyenv when pyenv is not on PATH).
PYENV_DIRS := $(shell pyenv root 2>/dev/null) $(PYENV_ROOT) $(HOME)/.pyenv
find_python = $(shell for c in "$(PYTHON)" python3.13 python3.12 python3 python \
	$(foreach d,$(PYENV_DIRS),$(d)/versions/3.1[3-9]*/bin/python3 $(d)/versions/3.12*/bin/python3); do \
	[ -n "$$c" ] || continue; p=$$(command -v "$$c" 2>/dev/null) || continue; \
	PYENV_VERSION= "$$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo "$$p"; break; }; \
	done)

$(STAMP): pyproject.toml
	@py="$(find_python)"; \
	if [ -z "$$py" ]; then echo "error: commonsabm needs Python 3.12 or newer and none was found (set PYTHON=/path/to/python3.12)" >&2; exit 1; fi; \
	echo "using $$py ($$($$py --version))"; \
	rm -rf $(VENV) && "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[app,test]'
	@touch $(STAMP)

.PHONY: run test app venv clean
venv: $(STAMP)

run: $(STAMP)
	$(PY) -m commonsabm +experiment=ubi

# The explorer listens on 127.0.0.1 only; APP_HOST=0.0.0.0 shares it on the network, on purpose.
APP_HOST ?= 127.0.0.1
APP_PORT ?= 8765
app: $(STAMP)
	$(PY) -m commonsabm.explorer --host $(APP_HOST) --port $(APP_PORT)

# scripts/install-browser.sh installs Chromium for the explorer's browser test where it can (root or
# passwordless sudo, Debian or Ubuntu) and otherwise says why in one line; it never fails by itself
test: $(STAMP)
	@sh scripts/install-browser.sh
	$(PY) -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .hypothesis test-artifacts

.PHONY: bench
# Issue 16's speed and scale targets beside the Boltzmann anchor, today's code (benchmarks/reference.txt)
# timed in turn, and the debate sweep (about 20 minutes; not part of make test), then the explorer's
# redraw in Chromium. BENCH_ARGS=--quick (a minute or two) or --skip-sweep; see benchmarks/bench.py --help
bench: $(STAMP)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)
	$(PY) benchmarks/explorer.py
