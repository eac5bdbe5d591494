# PgBouncer for the pooler tests and the bench (Debian's package). Installed only when missing, as root, with
# apt-get; anywhere else the tests that need it skip and say why.
.PHONY: pgbouncer

pgbouncer: ## install PgBouncer (Debian package) for the pooler tests when missing and running as root
	@PATH="$$PATH:/usr/sbin" command -v pgbouncer >/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing pgbouncer (Debian package) for the pooler tests ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null) \
			|| echo "pgbouncer could not be installed: the pooler tests will be skipped"; \
	else \
		echo "pgbouncer is not installed (and this is not root with apt-get): the pooler tests will be skipped"; \
	fi
