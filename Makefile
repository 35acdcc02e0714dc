# tchat: the two commands a newcomer needs are `make demo` (or `make serve`) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve demo screenshots test lint typecheck check bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: install
	$(BIN)/tchat-server serve --data-dir ./data

# A throwaway server with seeded people, rooms and conversation, bots that post and
# type, and the TUI signed in as sam. Quit with ctrl+q; nothing is left behind.
demo: install
	$(BIN)/python -m tchat_client.demo

# The README's pictures, from the real app against the demo server.
screenshots: install
	$(BIN)/python -m tchat_client.demo --screenshots screenshots

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
test: install
	@$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

lint: install
	$(BIN)/ruff check shared tchat_server tchat_client tests bench
	$(BIN)/ruff format --check shared tchat_server tchat_client tests bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

# Benchmarks: figures are ratios against a baseline measured in the same run.
# The whole suite (server, storage and the client's bench/transcript.py) in under
# 10 minutes; writes bench/results/latest.json and latest.md. uvloop lets the load
# generator outrun the servers it measures; pyinstrument serves `--profile`.
bench: install
	$(BIN)/python -c "import uvloop, pyinstrument" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
