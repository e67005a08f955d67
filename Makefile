# Two entry points: `make demo` and `make test`. Each creates .venv and installs what it
# needs; re-running skips the install unless pyproject.toml changed.
#
# `make test` also needs two Debian packages for the PDF and browser tests: chromium and
# poppler-utils (pdftoppm). When they are missing and we may use apt-get (root), the
# `system-deps` step installs them; otherwise those tests say why they are skipped.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/readiness demo --out out/demo

system-deps:
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null; then \
		echo "system packages: chromium and poppler-utils present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages chromium and poppler-utils (PDF and browser tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	else \
		echo "chromium/poppler-utils missing and apt-get unavailable: PDF and browser tests will be skipped"; \
	fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_batch.py

clean:
	rm -rf out .pytest_cache .hypothesis
