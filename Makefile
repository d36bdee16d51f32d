# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint unit e2e bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bpviz needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/bpviz serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# mypy follows `bpviz.*` imports through a link tree shaped like the installed package
	@mkdir -p $(VENV)/mypy-path/bpviz
	@for d in core server frontend; do ln -sfn "$(CURDIR)/$$d" "$(VENV)/mypy-path/bpviz/$$d"; done
	MYPYPATH=$(VENV)/mypy-path $(PY) -m mypy -p bpviz.core -p bpviz.server
	$(VENV)/bin/hadolint Dockerfile

unit: $(STAMP)
	$(PY) -m pytest -q tests/core tests/server tests/packaging tests/golden

# Browser tests run in their own pytest process (sync Playwright keeps an event loop alive).
e2e: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/e2e

test: lint unit e2e

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) bench/core.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache test-artifacts
