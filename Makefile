# The two set-up commands of the README: `make run` and `make test`.
# Each (re)creates .venv with a Python >= 3.12 found on this machine, installs the
# project with the tested versions from constraints.txt, then runs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test bench calibrate experiment report lint clean venv baseline dashboard

# Find a working Python >= 3.12: PATH first (python3.13, python3.12, python3), then pyenv's
# interpreters. pyenv shims that are not selected fail to run, so each candidate is executed.
define find_python
for c in python3.14 python3.13 python3.12 python3 python; do \
  p=$$(command -v $$c 2>/dev/null) || continue; \
  $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
done; \
root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
for p in $$(ls -d $$root/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
done; exit 1
endef

$(STAMP): pyproject.toml constraints.txt
	@py=$$( $(find_python) ) || { echo "error: mbo-sim needs Python >= 3.12 (mesa >= 3.4 requires it); none found on PATH or under pyenv. Install one (e.g. 'pyenv install 3.12') and rerun." >&2; exit 1; }; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  echo "creating $(VENV) with $$py ($$($$py --version))"; rm -rf $(VENV); $$py -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,sensitivity,dashboard,browser-test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/mbo-sim $(ARGS)

# the suite runs on up to 4 cores (pytest-xdist, one test file per worker); TEST_JOBS=1 for one
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_full_scale.py $(ARGS)
	$(PY) benchmarks/bench_scaling.py
	$(PY) benchmarks/bench_mesa_reference.py
	$(PY) benchmarks/bench_overhead.py

# the dashboard for the commission on http://127.0.0.1:8501 (PORT=8600 for another port); Ctrl+C stops it
PORT ?= 8501
dashboard: $(STAMP)
	$(VENV)/bin/mbo-sim-dashboard --port $(PORT) $(ARGS)

# make experiment NAME=baseline_regions [REPS=20] [ARGS="scale=0.5 hydra.launcher.n_jobs=2"]
experiment: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make experiment NAME=<name> (see experiments/)"; exit 2; }
	$(VENV)/bin/mbo-sim -m +experiment=$(NAME) $(if $(REPS),reps=$(REPS)) $(ARGS)

report: $(STAMP)
	$(VENV)/bin/mbo-sim-report results/$(NAME)

calibrate: $(STAMP)
	$(PY) -m sim.calibration $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check sim hydra_plugins tests benchmarks

clean:
	rm -rf $(VENV) results/runs .pytest_cache

# after a deliberate change of behaviour: rewrite the fixed-output hashes (tests/baseline.json)
baseline: $(STAMP)
	$(PY) tests/baseline.py --update

# validation against published figures not used for calibration: docs/validation.md + docs/figures/validation/
.PHONY: validate
validate: $(STAMP)
	$(VENV)/bin/mbo-sim-validate $(ARGS)
