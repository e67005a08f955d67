# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it
# needs, at the versions in constraints.txt (the lock: what the tests last passed with);
# re-running skips the install unless pyproject.toml or constraints.txt changed.
#
# `make test` runs ruff (lint and format check), mypy and the whole pytest suite. It also
# needs two Debian packages for the PDF and browser tests: chromium and poppler-utils
# (pdftoppm). When they are missing and we may use apt-get (root), the `system-deps` step
# installs them; otherwise those tests say why they are skipped.
#
# `make lock` re-resolves the newest versions the pyproject ranges allow, in a throwaway
# environment, and rewrites constraints.txt; run `make test` after it and commit both.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := constraints.txt
CODE   := readiness tests benchmarks

.PHONY: demo test lint bench lock system-deps clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/readiness demo --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

system-deps:
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null; then \
		echo "system packages: chromium and poppler-utils present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages chromium and poppler-utils (PDF and browser tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	else \
		echo "chromium/poppler-utils missing and apt-get unavailable: PDF and browser tests will be skipped"; \
	fi

test: lint system-deps
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_change.py
	$(BIN)/python benchmarks/bench_reading.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_memory.py

lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude readiness > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .lock-venv build

clean:
	rm -rf out .pytest_cache .hypothesis .mypy_cache .ruff_cache build dist
