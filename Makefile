# Two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing, installs torch==2.13.0 first when no torch is importable
# (so a CPU machine never downloads the multi-GB CUDA build; a machine with torch keeps its own,
# seen through --system-site-packages), installs skelzs with its dev extra, then runs.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.skelzs-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test install clean

$(PY):
	$(PYTHON) -m venv --system-site-packages $(VENV)

$(STAMP): $(PY) pyproject.toml stream/_fastparse.c
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/skelzs demo $(DEMO_ARGS)

# Plugins a machine has installed globally (seen: pytest-benchmark, which claims any argument
# named `benchmark`) are not loaded: the suite needs none, and --system-site-packages exposes them.
test: $(STAMP)
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(PY) -m pytest -q $(TEST_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
