# Every target creates/updates .venv itself: `make demo` and `make test` are
# all the set-up a fresh machine needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck check bench compat clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check honeyhive_agent instrumentors tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

# Start-up and overhead vs peers (creates benchmarks/.venvs/<peer> on first run).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

# Instrumentor suites on older SDK releases, one venv per set (COMPAT_SETS="legacy previous floor").
compat:
	PYTHON=$(PYTHON) bash tests/compat/run.sh $(COMPAT_SETS)

clean:
	rm -rf $(VENV) .honeyhive .pytest_cache .mypy_cache .ruff_cache
