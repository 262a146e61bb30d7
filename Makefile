# The two set-up commands are `make run` and `make test`; both work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench install install-test system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/dlgrader serve --host $(HOST) --port $(PORT)

system-deps:
	@bash scripts/system-deps.sh

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: install-test system-deps lint
	$(VENV)/bin/dlgrader check-bank --seeds 200 --jobs 2
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider

bench: install-test system-deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) *.db test-artifacts
