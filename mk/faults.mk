# Reliability: fault scenarios against a real PostgreSQL and the local server, plus the load run.
.PHONY: faults

faults: $(VENV)/.installed ## inject faults (restart, kill, starve, pause the database) and print the table
	@FAULTS_TABLE=.build/faults.md LOAD_REQUESTS=10000 $(PY) -m pytest tests/faults -p no:cacheprovider $(PYTEST_ARGS)
