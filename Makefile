# Bauhof: `make demo` sets everything up and runs Bauhof with the simulator;
# `make test` sets everything up and runs the test suite. Both are idempotent.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system venv test lint demo services-up services-down clean

setup: system venv

system:
	@scripts/setup-system.sh

# Reinstall only when pyproject.toml changed.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Debian: python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/pytest

demo: setup
	$(BIN)/bauhof demo

services-up: setup
	$(BIN)/bauhof services up

services-down:
	$(BIN)/bauhof services down

clean:
	-$(BIN)/bauhof services down
	rm -rf $(VENV) .bauhof
