# Kindpakket: `make demo` starts the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock requirements-schemas.lock | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench translations lock clean

# Installs exactly the versions in requirements.lock (tested, with hashes); the project itself
# goes in without resolving anything again.
$(STAMP): pyproject.toml requirements.lock requirements-schemas.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-schemas.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Upgrade the pinned versions on purpose: re-resolve pyproject.toml, then run `make test`.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe \
		--strip-extras --extra test --all-build-deps --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

# `make demo PORT=8080` (or KINDPAKKET_DEMO_PORT=8080 make demo); DEMO_ARGS go to the command.
demo: $(STAMP)
	$(BIN)/kindpakket demo $(if $(PORT),--port $(PORT)) $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ledger

test: lint
	$(BIN)/pytest -q -n auto $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

translations: $(STAMP)
	-$(BIN)/python -m kindpakket.i18n_catalog missing
	$(BIN)/python -m kindpakket.i18n_catalog compile

clean:
	rm -rf $(VENV) .venv-lock instance .pytest_cache .mypy_cache .ruff_cache
