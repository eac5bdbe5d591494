"""The connection budget: AWS's Serverless v2 defaults, the formula, and what it sets on the stack."""

from __future__ import annotations

import pytest

from infra.budget import ConnectionBudget, aurora_serverless_v2_max_connections, connection_budget, reserved_concurrency
from infra.config import Config


@pytest.mark.parametrize(
    ("max_acu", "min_acu", "expected"),
    [(1, 1, 189), (4, 1, 823), (8, 1, 1669), (16, 1, 3360), (64, 1, 5000), (2, 0, 400), (16, 0.5, 2000), (32, 0, 2000)],
)
def test_aurora_serverless_v2_defaults_follow_awss_table_capped_at_2000_for_a_low_minimum(max_acu, min_acu, expected):
    assert aurora_serverless_v2_max_connections(max_acu, min_acu) == expected


def test_the_function_gets_what_superusers_and_a_tenth_for_humans_leave():
    assert ConnectionBudget(400, "x").for_function == 400 - 3 - 40
    assert ConnectionBudget(20, "x").for_function == 20 - 3 - 5  # at least 5 spare slots
    assert ConnectionBudget(400, "x").proxy_percent == 89


def test_reserved_concurrency_comes_from_the_budget_unless_given_turned_off_or_behind_a_proxy():
    created = Config(create_database=True)
    budget = connection_budget(created)
    assert budget is not None and budget.max_connections == 400
    assert reserved_concurrency(created, budget) == 357
    assert reserved_concurrency(Config(create_database=True, reserved_concurrency=12), budget) == 12
    assert reserved_concurrency(Config(create_database=True, reserved_concurrency="off"), budget) is None
    assert reserved_concurrency(Config(create_database=True, rds_proxy=True), budget) is None
    assert connection_budget(Config()) is None
    assert connection_budget(Config(db_max_connections=100)).for_function == 87
