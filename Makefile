# Bauhof: `make demo` sets everything up and runs Bauhof with the simulator;
# `make test` sets everything up and runs the test suite. Both are idempotent.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The pages' front-end libraries (Leaflet, uPlot, Swagger UI) from the npm registry; the API
# serves them under /vendor/ (api/vendor.py). Reinstalled only when package-lock.json changed.
NODE_STAMP := node_modules/.installed

.PHONY: setup system venv frontend test lint demo services-up services-down clean

setup: system venv frontend

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

$(NODE_STAMP): package.json package-lock.json
	@npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

frontend: $(NODE_STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

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
	rm -rf $(VENV) .bauhof node_modules
