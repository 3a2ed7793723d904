# Background Jobs in Python: one target per chore. `make lab` to learn, `make test` to check everything.
PYTHON ?= python3
# A second Python gets a venv of its own: make PYTHON=python3.13 VENV=.venv-3.13 test-unit
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_PORT ?= 8888
# More JupyterLab options, e.g. in a dev container: make lab LAB_ARGS="--no-browser --ServerApp.allow_remote_access=True"
LAB_ARGS ?=
NBVAL := --nbval --nbval-sanitize-with tests/sanitize.cfg --nbval-current-env
# pytest-xdist workers: one per core. The notebooks go to one worker as a chain (the learner edition last notebook
# first, then the instructor edition), the browser tests to one worker, every other test file to whichever is free
# (conftest.py). The 15 slowest tests and the time of each phase are printed at the end.
JOBS ?= auto
PYTEST := -m pytest -n $(JOBS) --durations=15
# make test BROWSER=0: every test but the browser tests, which are then skipped and named in the summary.
BROWSER ?= 1

CORE := 01_slow_request 02_redis 03_jobs 05_when_things_fail

.PHONY: lab lab-instructor hub-proxy lint test test-fast test-unit test-notebooks test-core test-python check-browser doctor bench flake \
        footprint notebooks check-editions site down reset clean help

help:
	@echo "make lab             set up .venv and open the course (learner edition) in JupyterLab"
	@echo "make lab-instructor  the same, on the instructor edition (with solutions)"
	@echo "make test            set up and run every test: unit tests, the browser, both editions under pytest --nbval"
	@echo "                     (make test BROWSER=0: without Chromium; the browser tests are skipped and named)"
	@echo "make lint            ruff (lint and format check) on the tree, mypy on support/ (make test runs it first)"
	@echo "make test-fast       the quick loop while editing: unit tests without notebooks, browser or slow ones"
	@echo "make test-unit       only the unit tests (tests/); make test-notebooks: only both editions under nbval"
	@echo "make test-core       the core notebooks (01, 02, 03, 05) of both editions under nbval"
	@echo "make test-python     what depends on the Python version: imports, worker classes, the core notebooks"
	@echo "make doctor          check this machine for the course: one line per problem, saying what to do"
	@echo "                     (another Python: make PYTHON=python3.13 VENV=.venv-3.13 test-unit test-core)"
	@echo "make bench           run the benchmarks; the last line printed is one JSON object"
	@echo "make mutants         every exercise's reference mutated and run against its real check; score per exercise,"
	@echo "                     written to tests/mutants_record.json (commit it)"
	@echo "make flake           run both editions FLAKE_RUNS times (default 10) under a CPU hog, and idle; count failures"
	@echo "make footprint       one learner's memory, and 1, 4, 8 learners running 03 side by side (a classroom server)"
	@echo "make notebooks       re-execute the instructor edition, then regenerate and execute the learner edition"
	@echo "make site            the course as a website in _build/site/, from the notebooks as stored (offline)"
	@echo "make down            stop every process the course started"
	@echo "make reset           empty the inbox and the queues; make clean: stop everything and delete .course/"

# Set-up: re-runs only when a requirements file, pyproject.toml or the course's JupyterLab settings changed.
# Every pin has a wheel for Linux and macOS, x86_64 and ARM (tests/test_wheels.py): --only-binary :all: makes pip
# refuse to build anything, so set-up never needs a compiler. iredis (notebook 02's Redis command line) gets a venv
# of its own, since it needs an older redis-py than the course; its program is linked into $(BIN).
PIP_INSTALL := -m pip install --quiet --only-binary :all:
# JupyterLab's defaults for the course (no prompt about Jupyter news): copied into the venv's JupyterLab settings
# folder, {sys.prefix}/share/jupyter/lab/settings/ (lab-settings/README.md).
LAB_SETTINGS := lab-settings/overrides.json
$(VENV)/.lab-installed: requirements.txt requirements-cli.txt pyproject.toml $(LAB_SETTINGS)
	@$(PYTHON) support/services/python_version.py
	@start=$$(date +%s); set -e; \
	echo "Setting up $(VENV) (first time, or after a requirements change)"; \
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
	$(PY) $(PIP_INSTALL) --upgrade pip; \
	$(PY) $(PIP_INSTALL) -r requirements.txt; \
	$(PY) -m pip install --quiet --no-deps -e .; \
	[ -x $(VENV)/iredis/bin/python ] || $(PY) -m venv $(VENV)/iredis; \
	$(VENV)/iredis/bin/python $(PIP_INSTALL) -r requirements-cli.txt; \
	ln -sf ../iredis/bin/iredis $(BIN)/iredis; \
	settings=$$($(PY) -c 'import sys; print(sys.prefix)')/share/jupyter/lab/settings; \
	mkdir -p $$settings && cp $(LAB_SETTINGS) $$settings/overrides.json; \
	touch $@; \
	echo "Phase: set-up of $(VENV) took $$(( $$(date +%s) - start )) s"

$(VENV)/.test-installed: $(VENV)/.lab-installed requirements-test.txt requirements-site.txt
	@start=$$(date +%s); set -e; \
	$(PY) $(PIP_INSTALL) -r requirements-test.txt; \
	$(MAKE) --no-print-directory VENV=$(VENV) hub-proxy; \
	touch $@; \
	echo "Phase: set-up of the test tools took $$(( $$(date +%s) - start )) s"

# The hub test's proxy (tests/test_hub.py): JupyterHub's configurable-http-proxy from npm, pinned, into the venv
# (4.6 runs on Debian 12's Node 18; 5.x needs Node 20). Without npm the hub test is skipped, and says why.
CHP_VERSION := 4.6.3
hub-proxy:
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/hub-proxy configurable-http-proxy@$(CHP_VERSION) \
	  || echo "npm could not install configurable-http-proxy: the hub test will be skipped"; \
	else echo "No npm: the hub test will be skipped (Debian: apt-get install nodejs npm)"; fi

# The URL JupyterLab prints, and the page it opens, is LabApp.default_url: the first notebook (ServerApp.default_url
# would be replaced by LabApp's own "/lab"; a file named on the command line is opened, but the printed URL stays
# "/lab").
LAB := $(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) $(ROOT_FLAG) --ServerApp.root_dir=.
lab: $(VENV)/.lab-installed
	$(LAB) --LabApp.default_url=/lab/tree/notebooks/01_slow_request.ipynb $(LAB_ARGS)

lab-instructor: $(VENV)/.lab-installed
	$(LAB) --LabApp.default_url=/lab/tree/instructor/01_slow_request.ipynb $(LAB_ARGS)

check-editions: $(VENV)/.lab-installed
	@start=$$(date +%s); $(PY) tools/editions.py --check && \
	echo "Phase: the editions' check took $$(( $$(date +%s) - start )) s"

# Before anything starts: Chromium is there, or the run stops saying how to get it (BROWSER=0 runs without it).
check-browser: $(VENV)/.test-installed
ifeq ($(BROWSER),0)
	@echo "BROWSER=0: the browser tests will be skipped (and named in the summary)"
else
	@$(PY) tests/browser.py --check
endif

# ruff and mypy, as pyproject.toml configures them; `ruff format .` fixes what the format check finds.
lint: $(VENV)/.test-installed
	@start=$$(date +%s); $(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy && \
	echo "Phase: lint and types took $$(( $$(date +%s) - start )) s"

# One pytest session: the unit tests, the browser tests and both editions under nbval, side by side.
test: lint check-editions check-browser
	COURSE_BROWSER_TESTS=$(BROWSER) $(PY) $(PYTEST) $(NBVAL) tests instructor notebooks

# The edit-test loop: no notebook, no browser, nothing marked slow (pyproject.toml's markers say what that is).
test-fast: $(VENV)/.test-installed
	$(PY) $(PYTEST) -m "not slow" tests

test-unit: $(VENV)/.test-installed check-browser
	COURSE_BROWSER_TESTS=$(BROWSER) $(PY) $(PYTEST) tests

test-notebooks: $(VENV)/.test-installed
	$(PY) $(PYTEST) $(NBVAL) instructor notebooks

test-core: $(VENV)/.test-installed
	$(PY) $(PYTEST) $(NBVAL) $(foreach nb,$(CORE),instructor/$(nb).ipynb notebooks/$(nb).ipynb)

# CI's second Python: what can differ between Pythons (set-up is the target's prerequisite, wheels only).
test-python: $(VENV)/.test-installed
	$(PY) $(PYTEST) $(NBVAL) tests/test_imports.py tests/test_worker_class.py tests/test_setup.py \
		$(foreach nb,$(CORE),instructor/$(nb).ipynb notebooks/$(nb).ipynb)

doctor: $(VENV)/.lab-installed
	$(PY) -m support doctor

bench: $(VENV)/.test-installed
	$(PY) benchmarks/run.py

# Mutants of every exercise's reference solution, each run through its requirements table against the real check
# (tests/mutants.py, issue 28): the score per exercise and notebook, and tests/mutants_record.json, which make test's
# tests/test_mutants.py compares with. MUTANT_JOBS exercises at once, each in a state folder of its own.
MUTANT_JOBS ?= 1
mutants: $(VENV)/.test-installed
	$(PY) tests/mutants.py --all --jobs $(MUTANT_JOBS) --write-record

footprint: $(VENV)/.test-installed
	$(PY) benchmarks/footprint.py

FLAKE_RUNS ?= 10
FLAKE_IDLE_RUNS ?= 3
# Only some notebooks (both editions): make flake FLAKE_NOTEBOOKS="08_results_and_progress 09_reliability"
FLAKE_NOTEBOOKS ?=
flake: $(VENV)/.test-installed
	$(PY) benchmarks/flake.py --runs $(FLAKE_RUNS) --idle-runs $(FLAKE_IDLE_RUNS) $(if $(FLAKE_NOTEBOOKS),--notebooks $(FLAKE_NOTEBOOKS))

notebooks: $(VENV)/.lab-installed
	$(PY) tools/editions.py --execute-instructor

# The course as a static website in _build/site/ (tools/site.py, site/conf.py): Sphinx + myst-nb render the
# instructor edition as stored (never executed), warnings as errors, with nothing fetched from the network.
$(VENV)/.site-installed: $(VENV)/.lab-installed requirements-site.txt
	@$(PY) $(PIP_INSTALL) -r requirements-site.txt && touch $@

site: $(VENV)/.site-installed
	$(PY) tools/site.py

down: $(VENV)/.lab-installed
	$(PY) -m support down

reset: $(VENV)/.lab-installed
	$(PY) -m support reset

clean: down
	rm -rf .course
