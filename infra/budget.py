"""The database's connection budget, and how the stack keeps the function within it.

Each warm execution environment holds one connection, so the function's concurrency is its number of
connections. Of the database's `max_connections`, the function may use what is left after the slots
PostgreSQL keeps for superusers and a headroom for migrations, consoles and monitoring:

    function connections = max_connections - 3 - max(5, ceil(max_connections / 10))

Without RDS Proxy that is the function's reserved concurrency. With RDS Proxy the function's
connections go to the proxy, which multiplexes them, so the budget sizes the proxy's pool instead
(MaxConnectionsPercent) and concurrency is not capped by it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from infra.config import Config

# AWS's documented default max_connections for Aurora PostgreSQL Serverless v2, by the cluster's
# *maximum* capacity (ACUs) - Aurora holds it constant while the instance scales (Aurora User Guide,
# "Maximum connections for Aurora Serverless v2"). Between two points we interpolate, rounding down.
AURORA_PG_SERVERLESS_V2 = ((1.0, 189), (4.0, 823), (8.0, 1669), (16.0, 3360), (32.0, 5000))
# "When you specify a minimum capacity of 0.5 ACUs, PostgreSQL-compatible Aurora Serverless v2 DB
# instances set an upper limit of 2,000 on the max_connections setting" (same page); applied to 0 (auto-pause) too.
LOW_MINIMUM_CAP = 2000
SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default
MIN_HEADROOM = 5


def aurora_serverless_v2_max_connections(max_capacity: float, min_capacity: float) -> int:
    """The default max_connections of an Aurora PostgreSQL Serverless v2 instance with this capacity range."""
    points = AURORA_PG_SERVERLESS_V2
    if max_capacity <= points[0][0]:
        value = points[0][1] * max_capacity / points[0][0]
    elif max_capacity >= points[-1][0]:
        value = points[-1][1]
    else:
        (a, va), (b, vb) = next((p, q) for p, q in itertools.pairwise(points) if p[0] <= max_capacity <= q[0])
        value = va + (vb - va) * (max_capacity - a) / (b - a)
    if min_capacity <= 0.5:
        value = min(value, LOW_MINIMUM_CAP)
    return int(value)


@dataclass(frozen=True)
class ConnectionBudget:
    """How many of the database's connections the function may hold, and where the number came from."""

    max_connections: int
    source: str

    @property
    def headroom(self) -> int:
        """Slots left for migrations, psql and monitoring."""
        return max(MIN_HEADROOM, math.ceil(self.max_connections / 10))

    @property
    def for_function(self) -> int:
        """Connections the function may hold: one per concurrent execution environment."""
        return max(1, self.max_connections - SUPERUSER_RESERVED - self.headroom)

    @property
    def proxy_percent(self) -> int:
        """The same budget as RDS Proxy's MaxConnectionsPercent (of max_connections)."""
        return max(1, min(100, 100 * self.for_function // self.max_connections))


def connection_budget(config: Config) -> ConnectionBudget | None:
    """The budget from dbMaxConnections, else from the created cluster's capacity; None when unknown."""
    if config.db_max_connections is not None:
        return ConnectionBudget(config.db_max_connections, "dbMaxConnections")
    if config.create_database:
        value = aurora_serverless_v2_max_connections(config.db_max_capacity, config.db_min_capacity)
        source = f"Aurora Serverless v2 default for {config.db_min_capacity:g}-{config.db_max_capacity:g} ACUs"
        return ConnectionBudget(value, source)
    return None


def reserved_concurrency(config: Config, budget: ConnectionBudget | None) -> int | None:
    """The function's reserved concurrency: as given, else the budget (direct connections only), else none."""
    if config.reserved_concurrency == "off":
        return None
    if isinstance(config.reserved_concurrency, int):
        return config.reserved_concurrency
    if budget is None or config.rds_proxy:
        return None
    return budget.for_function


# "You can reserve up to the Unreserved account concurrency value that is shown, minus 100 for functions
# that don't have reserved concurrency." (Lambda Developer Guide, configuration-concurrency)
UNRESERVED_MINIMUM = 100


class QuotaError(ValueError):
    """The reserved concurrency the stack asks for cannot be granted by this account."""


@dataclass(frozen=True)
class Reservation:
    """What the function reserves once the account's quota is known, and why, when it differs from the ask."""

    value: int | None
    note: str | None = None


def fit_to_account(config: Config, wanted: int | None) -> Reservation:
    """The reservation the account can grant: as asked, lowered to what is free, none, or a QuotaError.

    Only known when `make deploy` has read the account (accountConcurrencyLimit and
    accountUnreservedConcurrency); a synth without them asks for `wanted` as it is.
    """
    limit, unreserved = config.account_concurrency_limit, config.account_unreserved_concurrency
    if wanted is None or limit is None or unreserved is None:
        return Reservation(wanted)
    free = unreserved - UNRESERVED_MINIMUM
    if wanted <= free:
        return Reservation(wanted)
    account = (
        f"this account runs at most {limit} concurrent executions, {unreserved} of them unreserved, and Lambda"
        f" keeps {UNRESERVED_MINIMUM} unreserved"
    )
    if isinstance(config.reserved_concurrency, int):
        raise QuotaError(
            f"reservedConcurrency={wanted} cannot be reserved: {account}, so at most {max(free, 0)} can be;"
            " lower reservedConcurrency, set it to off, or raise the quota (Service Quotas, Lambda,"
            " Concurrent executions)"
        )
    if limit <= wanted:
        return Reservation(
            None,
            f"no reserved concurrency: the account's limit of {limit} concurrent executions is within the"
            f" connection budget of {wanted}, so the function cannot hold more connections than the budget",
        )
    if free >= 1:
        return Reservation(
            free,
            f"reserved concurrency lowered from the connection budget of {wanted} to {free}: {account}",
        )
    raise QuotaError(
        f"the connection budget needs {wanted} reserved concurrent executions and none can be reserved: {account};"
        " raise the quota (Service Quotas, Lambda, Concurrent executions), set rdsProxy=true, or"
        " reservedConcurrency=off to deploy without a cap"
    )


# Background work's share of the connection budget, when queueConcurrency does not say: a backlog of
# messages may hold this part of the connections and never the rest, which stays the API's.
BACKGROUND_SHARE_PERCENT = 20
# The least maximum concurrency an SQS event source mapping takes (Lambda's ScalingConfig).
MIN_QUEUE_CONCURRENCY = 2
MAX_QUEUE_CONCURRENCY = 1000


@dataclass(frozen=True)
class Split:
    """The connection budget shared out: each queue consumer's maximum concurrency, and what stays the API's."""

    total: int | None
    queues: dict[str, int]
    source: str

    @property
    def background(self) -> int:
        """Connections queue consumers may hold at once, all queues together."""
        return sum(self.queues.values())

    @property
    def api(self) -> int | None:
        """Connections only API requests (and the occasional job) can hold; None when nothing caps the function."""
        return None if self.total is None else self.total - self.background

    def line(self) -> str:
        """What synth prints: the budget, the API's part and each queue's."""
        queues = ", ".join(f"{name} {value}" for name, value in self.queues.items())
        if self.total is None:
            return f"connections: not capped ({self.source}); queue consumers at most {self.background} ({queues})"
        return (
            f"connections: {self.total} ({self.source}) = API and jobs {self.api} + queue consumers"
            f" {self.background} ({queues})"
        )


def background_split(
    config: Config, concurrency: int | None, budget: ConnectionBudget | None, queues: tuple[str, ...]
) -> Split:
    """Each queue's maximum concurrency out of the function's connections; ConfigError when the API would get none.

    `concurrency` is the function's reserved concurrency (its connections, the budget or reservedConcurrency);
    with RDS Proxy nothing is reserved and the budget sizes the share instead.
    """
    from infra.config import ConfigError

    total = concurrency if concurrency is not None else (budget.for_function if budget is not None else None)
    source = "reservedConcurrency" if isinstance(config.reserved_concurrency, int) else "the connection budget"
    if total is None:
        source = "no connection budget"
    if not queues:
        return Split(concurrency, {}, source)
    if config.queue_concurrency is not None:
        each = config.queue_concurrency
        source += ", queueConcurrency"
    elif total is None:
        each = MIN_QUEUE_CONCURRENCY
    else:
        each = max(MIN_QUEUE_CONCURRENCY, total * BACKGROUND_SHARE_PERCENT // 100 // len(queues))
    split = Split(concurrency, dict.fromkeys(queues, min(each, MAX_QUEUE_CONCURRENCY)), source)
    if total is not None and total - split.background < 1:
        raise ConfigError(
            f"{len(queues)} queue consumer(s) at {each} connections each ({split.background}) leave none of the"
            f" {total} connections to the API: raise dbMaxConnections or reservedConcurrency, or lower"
            f" queueConcurrency (at least {MIN_QUEUE_CONCURRENCY}, Lambda's minimum)"
        )
    return split
