# `make bench`: the performance suite (bench/run.py); `make test` runs its quick smoke mode only.
.PHONY: bench

bench: $(VENV)/.installed node_modules/.installed pgbouncer ## measure warm cost, round trips, cold start, package, local server, synth, pagination -> bench/results.json
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package) for the local-server benchmark ..."; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m bench.run
