# Local developer loop: migrations, database helpers, the OpenAPI file, a new route module.
.PHONY: migrate psql db-reset openapi
OPENAPI_FILE ?= .build/openapi.json

migrate: $(VENV)/.installed ## apply pending src/migrations/*.sql locally; STAGE=dev: to the deployed database via the Lambda
	@$(PY) -m local.migrations $(if $(STAGE),--stage "$(STAGE)")

psql: $(VENV)/.installed ## psql on the local database (prints the URL when psql is absent)
	@$(PY) run_local.py psql

db-reset: $(VENV)/.installed ## drop the local database's tables and rebuild from migrations + seed (YES=1 for a DATABASE_URL)
	@$(PY) run_local.py db-reset $(if $(YES),--yes)

openapi: $(VENV)/.installed ## write the REST routes' OpenAPI 3.1 document (served locally at /openapi.json) to OPENAPI_FILE=.build/openapi.json
	@$(PY) run_local.py openapi --out "$(OPENAPI_FILE)"

.PHONY: route
route: $(VENV)/.installed ## add a table and a route module of your own: NAME=courses (ITEM=course when not a plain plural)
	@$(PY) -m local.scaffold "$(NAME)" $(if $(ITEM),--item "$(ITEM)")
