"""Benchmarks of the runtime, the local server and the synth; `python -m bench.run` (or `make bench`)."""
