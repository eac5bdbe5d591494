"""SnapStart hooks, called the way Lambda's runtime calls them (a fake `snapshot_restore_py` records them)."""

from __future__ import annotations

import random
import sys
import types

import pytest

import db_utils
from lambdakit import credentials, snapstart


@pytest.fixture
def runtime_hooks(monkeypatch):
    """A stand-in for the module Lambda's Python runtime ships; returns what was registered."""
    registered = {"before": [], "after": []}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = registered["before"].append
    fake.register_after_restore = registered["after"].append
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return registered


def test_nothing_is_registered_or_imported_outside_a_snapstart_init(runtime_hooks):
    assert snapstart.register_hooks(db_utils.close_connection, {"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}) is False
    assert snapstart.register_hooks(db_utils.close_connection, {}) is False
    assert runtime_hooks == {"before": [], "after": []}


def test_the_hooks_close_the_connection_and_drop_credentials_and_random_state(runtime_hooks, monkeypatch):
    assert snapstart.register_hooks(db_utils.close_connection, {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"})
    (before,), (after,) = runtime_hooks["before"], runtime_hooks["after"]

    class FakeConnection:
        closed = 0

        def close(self):
            self.closed = 1

    cached = FakeConnection()
    monkeypatch.setattr(db_utils, "_connection", cached)
    monkeypatch.delenv("DB_SECRET_ARN", raising=False)
    before()
    assert cached.closed and db_utils._connection is None

    restored = FakeConnection()
    monkeypatch.setattr(db_utils, "_connection", restored)
    monkeypatch.setattr(credentials, "_cached", {"username": "u", "password": "p"})
    random.seed(42)
    in_snapshot = random.random()  # noqa: S311 - the state itself is under test
    random.seed(42)
    after()
    assert restored.closed and db_utils._connection is None
    assert credentials._cached is None
    assert random.random() != in_snapshot  # noqa: S311


def test_before_the_snapshot_boto3_is_loaded_when_a_restore_would_read_the_secret_with_it(runtime_hooks, monkeypatch):
    monkeypatch.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC123")
    monkeypatch.delenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", raising=False)
    monkeypatch.delitem(sys.modules, "boto3", raising=False)
    snapstart.before_snapshot(db_utils.close_connection)
    assert "boto3" in sys.modules
