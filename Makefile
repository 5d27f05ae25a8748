# wallctl: the two commands of the README are `make demo` and `make test`; both do all the set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.wallctl-installed

.PHONY: demo test lint typecheck boundary sysdeps sysdeps-test bench sounds schema screenshots clean help

help:
	@echo "make demo   - install what is missing, then run the demo (embedded broker + simulator + wall)"
	@echo "make test   - install what is missing (mosquitto too), then lint, type-check and run the test suite"
	@echo "make bench  - the benchmark suite (wallctl bench)"

sysdeps:
	@tools/install-system-deps.sh run

sysdeps-test:
	@tools/install-system-deps.sh test

# pip -qq: errors only (setuptools' notes on editable installs are for its developers, not for make demo)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: sysdeps $(STAMP)
	$(BIN)/wallctl demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check wallctl tests tools

typecheck: $(STAMP)
	$(BIN)/mypy

boundary: $(STAMP)
	$(BIN)/python tools/check_boundary.py
	$(BIN)/lint-imports --no-cache

test: sysdeps-test $(STAMP) lint typecheck boundary
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: sysdeps-test $(STAMP)
	$(BIN)/wallctl bench $(BENCH_ARGS)

sounds: $(STAMP)
	$(BIN)/python tools/make_sounds.py sounds

schema: $(STAMP)
	$(BIN)/python -m wallctl.core.config.schema wallctl/schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
