# Every target builds or refreshes the local virtualenv first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job: four simulated weeks (February 2020, into the crash) on the embedded exchange.
RUN_DIR ?= v6-data
run: $(STAMP)
	rm -rf $(RUN_DIR)
	$(BIN)/v6 run --from 2020-02-03 --days 20 --seed 7 --data-dir $(RUN_DIR) --config config/sim.toml

## Lint, format check, type check, then the whole test suite.
test: lint
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## Every speed check; each prints ratios against a peer measured in the same run.
bench: $(STAMP)
	for bench in benchmarks/bench_*.py; do echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
