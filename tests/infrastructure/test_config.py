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


def test_alarm_thresholds_come_from_context_and_the_environment_wins():
    config = _load({"alarmApi5xxPercent": 5, "alarmEmail": "ops@example.com"}, {"ALARM_API_LATENCY_P99_MS": "3000"})
    assert (config.alarm_api5xx_percent, config.alarm_api_latency_p99_ms) == (5.0, 3000)
    assert config.alarm_email == "ops@example.com"


def test_alarm_settings_that_cannot_work_are_refused_together():
    with pytest.raises(ConfigError) as raised:
        _load({"alarmEmail": "not-an-address", "alarmApi4xxPercent": 0, "alarmFunctionErrors": 0})
    message = str(raised.value)
    assert "alarmEmail" in message and "alarmApi4xxPercent" in message and "alarmFunctionErrors" in message
