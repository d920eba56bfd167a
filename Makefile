# The two set-up commands of the README: `make run` and `make test`.
# Each installs only what is missing (a stamp per pyproject.toml content), so a
# second `make run` starts at once.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYPROJECT_SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(PYPROJECT_SUM)
TEST_STAMP := $(VENV)/.installed-test-$(PYPROJECT_SUM)
# the pages' front-end packages (npm ci from the committed lock file) and their
# gettext catalogues (.po in the repository, .mo compiled here, both ignored)
LOCK_SUM := $(shell cksum package-lock.json | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(LOCK_SUM)
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard pages/locale/*/LC_MESSAGES/messages.po))

.PHONY: run test install bench clean pages-assets browsers mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@; \
	else echo "npm not found: pages are served without htmx and charts (install Node.js and npm)" >&2; fi

pages/locale/%/LC_MESSAGES/messages.mo: pages/locale/%/LC_MESSAGES/messages.po | $(RUN_STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@ -l $*

pages-assets: $(NODE_STAMP) $(CATALOGUES)

# Debian's Chromium and a CJK font for the browser tests (never a browser download)
browsers:
	@.ci/browsers

install: $(RUN_STAMP) pages-assets

run: $(RUN_STAMP) pages-assets
	$(BIN)/reviewctl serve

test: $(TEST_STAMP) pages-assets browsers
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

# mutation testing of the review and audit core (docs/mutation.md); slow, not in
# CI, and always at the lowest priority (a shared machine). MUTATION_PG=off skips
# the PostgreSQL cases (a first pass over everything: a PostgreSQL test spends
# seconds creating and dropping its database); its survivors are then re-run,
# by name, with them.
MUTATION_CHILDREN ?= 2
MUTATION_PG ?= on
mutation: $(TEST_STAMP)
	$(if $(filter off,$(MUTATION_PG)),CI= PINGYI_TEST_PG_PORT=1) nice -n 19 $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) var node_modules test-artifacts mutants pages/locale/*/LC_MESSAGES/*.mo
