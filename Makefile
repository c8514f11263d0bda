# Two commands on a fresh machine: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
STORE  ?= var/store
# Debian packages the test suite drives for real: a browser, a load generator, a second SPARQL server.
SYSTEM_PACKAGES := chromium wrk virtuoso-opensource
SYSTEM_BINARIES := chromium wrk virtuoso-t

.PHONY: serve test install install-dev load system-deps lint bench scale clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The embedded store is rebuilt when the bundled data, ontology, loaders or the graph code they call change
# (graph/contact.py decides which e-mail addresses are private).
$(STORE).loaded: $(VENV)/.installed $(shell find data ontology loaders graph -type f -not -name '*.pyc' 2>/dev/null)
	$(BIN)/communs load --store $(STORE)
	touch $@

load: $(STORE).loaded

serve: $(STORE).loaded
	$(BIN)/communs serve --store $(STORE) --host $(HOST) --port $(PORT)

system-deps:
	@missing=""; for b in $(SYSTEM_BINARIES); do command -v $$b >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Two processes, each taking whole files (their module fixtures load stores once): CI has two cores.
TEST_PROCESSES ?= 2

test: $(VENV)/.installed-dev system-deps lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --durations=25

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/pip install -q -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.installed-bench system-deps
	$(BIN)/python bench/sparql.py
	$(BIN)/python bench/pages.py

scale: $(VENV)/.installed-bench system-deps
	$(BIN)/python bench/scale.py

clean:
	rm -rf var $(VENV)
