# Two commands for a fresh machine: `make demo` and `make test`.
# Each creates an isolated .venv when missing, installs torch==2.13.0 first when no torch is
# importable there (so a CPU machine never downloads the multi-GB CUDA build), installs skelzs with
# its dev extra at the exact versions of .ci/constraints.txt (the set the suite last passed with),
# then runs. A machine whose own torch should be used: `make test VENV_FLAGS=--system-site-packages`.
# `make lock` refreshes that file: the newest releases in a fresh venv, the suite, then the pins.

PYTHON ?= python3
VENV   ?= .venv
VENV_FLAGS ?=
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.skelzs-installed
CONSTRAINTS := .ci/constraints.txt
PIP    := -m pip install --quiet --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# Plugins a machine has installed globally (seen: pytest-benchmark, which claims any argument
# named `benchmark`) are not loaded: the suite needs none, and VENV_FLAGS=--system-site-packages
# would expose them.
PYTEST := PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
# Constraints also reach pip's isolated build environments through the environment variable.
export PIP_CONSTRAINT := $(abspath $(CONSTRAINTS))

.PHONY: demo test install lock clean

$(PY):
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

$(STAMP): $(PY) pyproject.toml stream/_fastparse.c $(CONSTRAINTS)
	@$(PY) -c "import torch" 2>/dev/null || PIP_CONSTRAINT= $(PY) $(PIP) "torch==2.13.0"
	$(PY) $(PIP) -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/skelzs demo $(DEMO_ARGS)

test: $(STAMP)
	$(PYTEST) $(PY) -m pytest -q $(TEST_ARGS)

# Newest releases of every dependency in a fresh, isolated venv; the suite must pass before the
# pins are written (torch stays out of the file: the machine's own torch or torch==2.13.0).
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	PIP_CONSTRAINT= $(LOCK_VENV)/bin/python $(PIP) "torch==2.13.0"
	PIP_CONSTRAINT= $(LOCK_VENV)/bin/python $(PIP) -e ".[dev]"
	$(PYTEST) $(LOCK_VENV)/bin/python -m pytest -q $(TEST_ARGS)
	{ echo "# Exact versions the test suite passed with ($$(date -u +%F), Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())')),"; \
	  echo "# written by \`make lock\`; used by make demo / make test / .ci/run. torch is not pinned here."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable | grep -v -i -E '^(torch|nvidia-.*|triton)=='; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	@echo "wrote $(CONSTRAINTS); commit it with the suite's result"

clean:
	rm -rf $(VENV) $(LOCK_VENV) build dist *.egg-info .pytest_cache
