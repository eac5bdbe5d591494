# The template's own upkeep (left out of generated projects): the benchmark page and the docs checks.
.PHONY: bench-report bench-accept docs

bench-report: $(VENV)/.installed ## redraw docs/benchmarks.md from bench/baseline.json (the last accepted bench run)
	@$(PY) -m bench.report

bench-accept: $(VENV)/.installed ## make bench/results.json the baseline (NOTE='which run and why'), then redraw docs/benchmarks.md
	@$(PY) -m bench.report --accept bench/results.json --note "$(NOTE)"

docs: diagram bench-report ## redraw every generated page of docs/
