# `make bench`: the performance suite (bench/run.py); `make test` runs its quick smoke mode only.
.PHONY: bench

bench: $(VENV)/.installed node_modules/.installed pgbouncer ## measure every key against its reference in one run (warm path, server vs its peers, cold start, package, synth) -> bench/results.json
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package) for the local-server benchmark ..."; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m bench.run
