# PgBouncer (Debian's package) for the template's pooler tests (tests/integration/test_pooler.py) and the
# bench's pooled round trips: they prove every connection the runtime opens works through a pooler in
# transaction mode, as RDS Proxy needs. Generated projects ship neither this file nor those tests.
# `make test` installs it only when it is missing, the user is root and apt-get exists (a CI container);
# anywhere else, or with PGBOUNCER=skip, the pooler tests skip and say why.
.PHONY: pgbouncer
PGBOUNCER ?= install

test: pgbouncer

pgbouncer: ## install PgBouncer (Debian package) for the template's pooler tests, when missing and running as root
	@PATH="$$PATH:/usr/sbin" command -v pgbouncer >/dev/null || \
	if [ "$(PGBOUNCER)" = skip ]; then \
		echo "PGBOUNCER=skip: the pooler tests will be skipped"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing pgbouncer (Debian package) for the pooler tests (PGBOUNCER=skip to skip them) ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null) \
			|| echo "pgbouncer could not be installed: the pooler tests will be skipped"; \
	else \
		echo "pgbouncer is not installed (and this is not root with apt-get): the pooler tests will be skipped"; \
	fi
