# Pages drawn from the code: docs/architecture.md from the scanned routes and cdk.json.
.PHONY: diagram

diagram: $(VENV)/.installed ## redraw docs/architecture.md (a Mermaid diagram of the stack) from src/ and cdk.json
	@$(PY) -m infra.diagram
