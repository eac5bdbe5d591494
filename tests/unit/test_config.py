"""Settings come from the environment in one place, with safe defaults and clear errors."""

from __future__ import annotations

import pytest

from lambdakit.settings import ConfigError, parse_database_settings


def test_deployed_settings_default_to_tls_and_a_five_second_connect_timeout():
    settings = parse_database_settings({"DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db"})
    assert settings.sslmode == "require"
    assert settings.connect_timeout == 5
    assert settings.statement_timeout_ms == 4_000  # the stack's default, under its 10 s function timeout
    assert not settings.is_local


def test_a_local_database_url_does_not_force_tls():
    settings = parse_database_settings({"DATABASE_URL": "postgresql://localhost/db"})
    assert settings.is_local and settings.sslmode == "prefer"


def test_every_knob_is_read_from_its_variable():
    settings = parse_database_settings(
        {
            "DB_SECRET_ARN": "db",
            "DB_HOST": "proxy.example",
            "DB_PORT": "6432",
            "DB_NAME": "school",
            "DB_SSLMODE": "verify-full",
            "DB_CONNECT_TIMEOUT": "3",
            "DB_CONNECT_RETRY_SECONDS": "20",
            "DB_STATEMENT_TIMEOUT_MS": "2500",
            "DB_IDLE_SESSION_TIMEOUT_MS": "300000",
            "DB_APPLICATION_NAME": "students",
        }
    )
    assert (settings.host, settings.port, settings.dbname, settings.sslmode) == (
        "proxy.example",
        6432,
        "school",
        "verify-full",
    )
    assert (settings.connect_timeout, settings.connect_retry_seconds) == (3, 20.0)
    assert (settings.statement_timeout_ms, settings.idle_session_timeout_ms) == (2500, 300000)
    assert settings.application_name == "students"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set DATABASE_URL"),
        ({"DB_SECRET_ARN": "x", "DB_SSLMODE": "maybe"}, "DB_SSLMODE must be one of"),
        ({"DB_SECRET_ARN": "x", "DB_CONNECT_TIMEOUT": "soon"}, "DB_CONNECT_TIMEOUT must be a whole number"),
        ({"DB_SECRET_ARN": "x", "DB_CONNECT_TIMEOUT": "0"}, "DB_CONNECT_TIMEOUT must be at least 1"),
        ({"DB_SECRET_ARN": "x", "DB_CONNECT_RETRY_SECONDS": "-1"}, "must not be negative"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        parse_database_settings(env)
