# Pages drawn from the code: docs/architecture.md from the scanned routes and cdk.json.
.PHONY: diagram diagram-if-present

diagram: $(VENV)/.installed ## redraw docs/architecture.md (a Mermaid diagram of the stack) from src/ and cdk.json
	@$(PY) -m infra.diagram

# `make test` first redraws a page that exists and no longer matches the routes (a route added, the sample
# deleted), as a build redraws its outputs; the template's CI (.ci/run) refuses a page that was committed stale.
test: diagram-if-present
diagram-if-present: $(VENV)/.installed
	@$(PY) -m infra.diagram --if-present
