"""Stack configuration: the connect budget must fit inside the function's timeout."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, load_config


def _load(context: dict, environ: dict | None = None):
    return load_config(context.get, environ or {})


def test_a_connect_retry_budget_that_fits_the_timeout_is_passed_on():
    config = _load({"timeoutSeconds": 28, "dbConnectRetrySeconds": 18})
    assert config.db_connect_retry_seconds == 18


def test_a_connect_budget_longer_than_the_function_timeout_is_refused():
    with pytest.raises(ConfigError, match="must be less than timeoutSeconds"):
        _load({"timeoutSeconds": 10, "dbConnectRetrySeconds": 15})
