# `make bench`: the performance suite of issue 5 (bench/run.py); not part of `make test`, which runs its smoke test.
.PHONY: bench

bench: $(VENV)/.installed node_modules/.installed pgbouncer ## measure warm cost, round trips, cold start, package, local server, synth, pagination -> bench/results.json
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package) for the local-server benchmark ..."; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m bench.run
