"""Runtime settings: every variable the function reads from its environment, parsed here and nowhere else.

What a request reads is parsed once per execution environment (cached; tests call `cache_clear()`);
what only rare events read (a metric line, a new connection, the first event) is read when they happen.
The variables AWS itself sets for signing (credentials, region, session token) are read where a request
is signed, since they change under a running function.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from lambdakit.records import record

_TRUE = ("1", "y", "yes", "t", "true", "on")

_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class ConfigError(ValueError):
    """An environment variable has a value the runtime cannot use."""


@record()
class DatabaseSettings:
    """How to reach PostgreSQL; see docs/configuration.md for each variable."""

    url: str | None
    secret_id: str | None
    iam_auth: bool
    user: str | None
    host: str | None
    port: int | None
    dbname: str | None
    sslmode: str
    connect_timeout: int
    connect_retry_seconds: float
    statement_timeout_ms: int
    idle_session_timeout_ms: int | None
    application_name: str

    @property
    def is_local(self) -> bool:
        """A `DATABASE_URL` means a developer's database, where TLS is not forced."""
        return self.url is not None


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_session_timeouts(env: dict[str, str]) -> tuple[int, int | None]:
    """DB_STATEMENT_TIMEOUT_MS and DB_IDLE_SESSION_TIMEOUT_MS (None when unset: the role's own value stays).

    The migrator reads them too, without a database URL.
    """
    idle = _int(env, "DB_IDLE_SESSION_TIMEOUT_MS", -1)
    return _int(env, "DB_STATEMENT_TIMEOUT_MS", 4_000), None if idle < 0 else idle


def parse_database_settings(env: dict[str, str]) -> DatabaseSettings:
    """Read the DB_* variables (and DATABASE_URL) from a mapping; raises ConfigError on bad values."""
    url = env.get("DATABASE_URL", "").strip() or None
    secret_id = env.get("DB_SECRET_ARN", "").strip() or None
    iam_auth = _flag(env, "DB_IAM_AUTH")
    user = env.get("DB_USER", "").strip() or None
    if iam_auth and not (user and env.get("DB_HOST", "").strip()):
        raise ConfigError("DB_IAM_AUTH needs DB_USER and DB_HOST (the proxy endpoint) to sign a token for")
    if url is None and secret_id is None and not iam_auth:
        raise ConfigError("set DATABASE_URL (local), DB_SECRET_ARN or DB_IAM_AUTH (deployed) to reach the database")
    sslmode = env.get("DB_SSLMODE", "").strip() or ("prefer" if url else "require")
    if sslmode not in _SSL_MODES:
        raise ConfigError(f"DB_SSLMODE must be one of {sorted(_SSL_MODES)}, got {sslmode!r}")
    port = _int(env, "DB_PORT", 0, minimum=0) or None
    statement_timeout_ms, idle_session_timeout_ms = parse_session_timeouts(env)
    return DatabaseSettings(
        url=url,
        secret_id=secret_id,
        iam_auth=iam_auth,
        user=user,
        host=env.get("DB_HOST", "").strip() or None,
        port=port,
        dbname=env.get("DB_NAME", "").strip() or None,
        sslmode=sslmode,
        connect_timeout=_int(env, "DB_CONNECT_TIMEOUT", 5, minimum=1),
        connect_retry_seconds=_float(env, "DB_CONNECT_RETRY_SECONDS", 0.0),
        statement_timeout_ms=statement_timeout_ms,
        idle_session_timeout_ms=idle_session_timeout_ms,
        application_name=(
            env.get("DB_APPLICATION_NAME", "").strip() or env.get("POWERTOOLS_SERVICE_NAME", "").strip() or "lambda-api"
        ),
    )


def session_timeouts() -> tuple[int, int | None]:
    """This environment's statement and idle-session timeouts, read without needing a database to be configured."""
    return parse_session_timeouts(dict(os.environ))


@lru_cache(maxsize=1)
def database_settings() -> DatabaseSettings:
    """The settings of this execution environment, read once (tests call `cache_clear()`)."""
    return parse_database_settings(dict(os.environ))


@lru_cache(maxsize=1)
def response_headers() -> dict[str, str]:
    """Headers on every REST answer: with CORS_ALLOW_ORIGIN, browsers on that origin may read them.

    A REST API (v1) with a proxy integration passes the function's headers through as they are, so the
    function must send the CORS header itself; the stack sets the variable when `corsOrigins` is given.
    """
    origin = os.environ.get("CORS_ALLOW_ORIGIN", "").strip()
    return {"Access-Control-Allow-Origin": origin} if origin else {}


@lru_cache(maxsize=1)
def default_auth() -> str:
    """How the stack authenticates a route that names no `auth=` (AUTH, set by the stack and the local server)."""
    return os.environ.get("AUTH", "").strip().lower() or "none"


@record()
class Limits:
    """Per-request budgets: JSON nesting depth and the number of JSON values in one input."""

    json_depth: int = 64
    json_values: int = 100_000


@lru_cache(maxsize=1)
def limits() -> Limits:
    """The budgets of this execution environment: MAX_JSON_DEPTH, MAX_JSON_VALUES (positive whole numbers)."""
    defaults = Limits()
    return Limits(
        json_depth=_positive("MAX_JSON_DEPTH", defaults.json_depth),
        json_values=_positive("MAX_JSON_VALUES", defaults.json_values),
    )


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


@record()
class MetricsSettings:
    """Where metric lines go: their namespace and dimensions, and whether they are written at all."""

    namespace: str
    stage: str
    service: str | None
    disabled: bool


def metrics_settings() -> MetricsSettings:
    """POWERTOOLS_METRICS_NAMESPACE, STAGE, POWERTOOLS_SERVICE_NAME; off by Powertools' rule (see `_powertools_off`)."""
    return MetricsSettings(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "LambdaPostgresApi",
        stage=os.environ.get("STAGE") or "local",
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or None,
        disabled=_powertools_off("POWERTOOLS_METRICS_DISABLED"),
    )


def tracing_enabled() -> bool:
    """TRACING=true (the stack's `tracing` setting) turns SQL subsegments on; POWERTOOLS_TRACE_DISABLED wins."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in _TRUE:
        return False
    return os.environ.get("TRACING", "").strip().lower() in ("1", "true", "yes")


def _powertools_off(flag: str) -> bool:
    """Powertools' rule for its switches: the flag when set, or else POWERTOOLS_DEV, turns the feature off."""
    value = os.environ.get(flag)
    if value is not None:
        return value.strip().lower() in _TRUE
    return os.environ.get("POWERTOOLS_DEV", "").strip().lower() in _TRUE


def initialization_type(environ: Mapping[str, str] | None = None) -> str:
    """How Lambda started this environment: on-demand, provisioned-concurrency, snap-start; "local" elsewhere."""
    env = os.environ if environ is None else environ
    return env.get("AWS_LAMBDA_INITIALIZATION_TYPE") or "local"


def secret_read_with_boto3() -> bool:
    """Whether the credentials come from Secrets Manager through boto3: a secret, and no extension to ask."""
    return bool(os.environ.get("DB_SECRET_ARN", "").strip()) and extension_port() is None


def extension_port() -> int | None:
    """The Parameters and Secrets extension's port, when the stack added its layer (it sets the variable)."""
    raw = os.environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "").strip()
    return int(raw) if raw.isdigit() else None


@lru_cache(maxsize=1)
def queue_urls() -> dict[str, str]:
    """QUEUE_URLS: each queue's URL by the name its consumer declares (set by the stack, and by `make serve`).

    A value that is not a JSON object of strings is a ConfigError: a message could go nowhere else.
    """
    import json

    raw = os.environ.get("QUEUE_URLS", "").strip()
    if not raw:
        return {}
    try:
        urls = json.loads(raw)
    except ValueError:
        raise ConfigError("QUEUE_URLS must be a JSON object of queue name to URL") from None
    if not isinstance(urls, dict) or not all(isinstance(v, str) and v for v in urls.values()):
        raise ConfigError("QUEUE_URLS must be a JSON object of queue name to URL")
    return urls
