# Background Jobs in Python: one target per chore. `make lab` to learn, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# JupyterLab refuses to run as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_PORT ?= 8888
NBVAL := --nbval --nbval-sanitize-with tests/sanitize.cfg --nbval-current-env
# The two editions run side by side, one pytest-xdist worker each, each with its own state folder (see conftest.py).
EDITIONS := -n 2 instructor notebooks

.PHONY: lab lab-instructor test test-unit test-notebooks bench flake notebooks check-editions down reset clean help

help:
	@echo "make lab             set up .venv and open the course (learner edition) in JupyterLab"
	@echo "make lab-instructor  the same, on the instructor edition (with solutions)"
	@echo "make test            set up and run every test: unit tests and both editions under pytest --nbval"
	@echo "make test-unit       only the unit tests (tests/); make test-notebooks: only both editions under nbval"
	@echo "make bench           run the benchmarks; the last line printed is one JSON object"
	@echo "make flake           run both editions FLAKE_RUNS times (default 10) under a CPU hog, and idle; count failures"
	@echo "make notebooks       re-execute the instructor edition, then regenerate and execute the learner edition"
	@echo "make down            stop every process the course started"
	@echo "make reset           empty the inbox and the queues; make clean: stop everything and delete .course/"

# Set-up: re-runs only when a requirements file or pyproject.toml changed.
$(VENV)/.lab-installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; ok = (3, 10) <= v <= (3, 12); \
	  print("Python %d.%d: " % v + ("ok" if ok else "the course needs Python 3.10 to 3.12")); sys.exit(not ok)'
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.lab-installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

lab: $(VENV)/.lab-installed
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) $(ROOT_FLAG) --ServerApp.root_dir=. notebooks/01_slow_request.ipynb

lab-instructor: $(VENV)/.lab-installed
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) $(ROOT_FLAG) --ServerApp.root_dir=. instructor/01_slow_request.ipynb

check-editions: $(VENV)/.lab-installed
	$(PY) tools/editions.py --check

test: check-editions test-unit test-notebooks

test-unit: $(VENV)/.test-installed
	$(PY) -m pytest tests

test-notebooks: $(VENV)/.test-installed
	$(PY) -m pytest $(EDITIONS) $(NBVAL)

bench: $(VENV)/.test-installed
	$(PY) benchmarks/run.py

FLAKE_RUNS ?= 10
FLAKE_IDLE_RUNS ?= 3
flake: $(VENV)/.test-installed
	$(PY) benchmarks/flake.py --runs $(FLAKE_RUNS) --idle-runs $(FLAKE_IDLE_RUNS)

notebooks: $(VENV)/.lab-installed
	$(PY) tools/editions.py --execute-instructor

down: $(VENV)/.lab-installed
	$(PY) -m support down

reset: $(VENV)/.lab-installed
	$(PY) -m support reset

clean: down
	rm -rf .course
