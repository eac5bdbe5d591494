# Local sign-in: tokens and IAM credentials that only the local server accepts.
.PHONY: token

token: $(VENV)/.installed ## print a local bearer token (USER=alice GROUPS=staff,admin); make serve accepts it, nothing deployed does
	@$(PY) run_local.py token $(if $(strip $(USER)),--user "$(USER)") $(if $(GROUPS),--groups "$(GROUPS)") $(if $(SCOPES),--scopes "$(SCOPES)")
