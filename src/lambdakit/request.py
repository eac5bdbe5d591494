"""Who called and how: the same two objects from REST v1, HTTP API v2, AppSync and direct invokes.

A route function receives them by declaring a parameter annotated `Request` or `Caller` (any name).
Each event is read into an `Incoming` first: the router hands it to the authorization check and to
the binding, which read from it only what they need, and each object is built once, when first asked
for, so a route that declares neither and needs no groups pays for neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdakit.records import Factory, record


@record()
class Caller:
    """The authenticated identity, as the API (or the invoker of a direct route) vouched for it.

    `kind` is "anonymous", "cognito", "jwt" (an HTTP API's JWT authorizer or the local token), "iam",
    "api_key", or "direct" (what a direct invoke passed as `caller`).
    """

    kind: str = "anonymous"
    subject: str | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    claims: Mapping[str, Any] = Factory(dict)
    principal: str | None = None
    api_key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        """True unless nobody was identified."""
        return self.kind != "anonymous"

    def in_group(self, *groups: str) -> bool:
        """Whether the caller belongs to at least one of `groups`."""
        return any(group in self.groups for group in groups)


ANONYMOUS = Caller()


@record()
class Request:
    """The request around the inputs: headers (lower-case names), cookies, source IP, ids and stage."""

    source: str
    method: str | None = None
    path: str | None = None
    headers: Mapping[str, str] = Factory(dict)
    cookies: Mapping[str, str] = Factory(dict)
    source_ip: str | None = None
    request_id: str | None = None
    lambda_request_id: str | None = None
    stage: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower(), default)


def _lower_headers(headers: Any) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        return {}
    return {str(k).lower(): str(v) for k, v in headers.items() if v is not None}


def _cookies(headers: Mapping[str, str], cookie_list: Any = None) -> dict[str, str]:
    pairs = list(cookie_list) if isinstance(cookie_list, list) else headers.get("cookie", "").split(";")
    cookies = {}
    for pair in pairs:
        name, sep, value = str(pair).strip().partition("=")
        if sep and name:
            cookies[name] = value
    return cookies


def _split(value: Any) -> tuple[str, ...]:
    """Groups or scopes as a claim carries them: a list, "a,b", "a b", or API Gateway's "[a b]"."""
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    if not isinstance(value, str) or not value.strip():
        return ()
    return tuple(part for part in value.strip("[]").replace(",", " ").split() if part)


def _from_claims(kind: str, claims: Any, **given: Any) -> Caller:
    """The Caller of a token's claims; `given` values (from outside the claims) win when they are set."""
    claims = dict(claims) if isinstance(claims, Mapping) else {}
    return Caller(
        kind=kind,
        subject=given.get("subject") or claims.get("sub"),
        username=given.get("username")
        or claims.get("cognito:username")
        or claims.get("username")
        or claims.get("preferred_username"),
        groups=given.get("groups") or _split(claims.get("cognito:groups") or claims.get("groups")),
        scopes=given.get("scopes") or _split(claims.get("scope") or claims.get("scp")),
        claims=claims,
        api_key_id=given.get("api_key_id"),
    )


def rest_request(event: dict, context: Any, http_api: bool) -> Request:
    """The Request of an API Gateway event (REST v1 or HTTP API v2)."""
    ctx, _, identity = _rest_context(event)
    headers = _lower_headers(event.get("headers"))
    if http_api:
        http = ctx.get("http") if isinstance(ctx.get("http"), dict) else {}
        method, path, source_ip = http.get("method"), event.get("rawPath"), http.get("sourceIp")
        cookies = _cookies(headers, event.get("cookies"))
    else:
        method, path, source_ip = event.get("httpMethod"), event.get("path"), identity.get("sourceIp")
        cookies = _cookies(headers)
    return Request(
        source="http" if http_api else "rest",
        method=method,
        path=path,
        headers=headers,
        cookies=cookies,
        source_ip=source_ip,
        request_id=ctx.get("requestId"),
        lambda_request_id=getattr(context, "aws_request_id", None),
        stage=ctx.get("stage"),
    )


def _rest_context(event: dict) -> tuple[dict, dict, dict]:
    ctx = event.get("requestContext") if isinstance(event.get("requestContext"), dict) else {}
    authorizer = ctx.get("authorizer") if isinstance(ctx.get("authorizer"), dict) else {}
    identity = ctx.get("identity") if isinstance(ctx.get("identity"), dict) else {}
    return ctx, authorizer, identity


def rest_caller_kind(event: dict, http_api: bool) -> str:
    """Which authorizer vouched for the caller (`Caller.kind`), without building the Caller."""
    _, authorizer, identity = _rest_context(event)
    if http_api:
        if isinstance(authorizer.get("jwt"), dict):
            return "jwt"
        return "iam" if isinstance(authorizer.get("iam"), dict) else "anonymous"
    if isinstance(authorizer.get("claims"), dict):
        return "cognito"
    if identity.get("userArn"):
        return "iam"
    return "api_key" if identity.get("apiKeyId") else "anonymous"


def rest_groups(event: dict) -> tuple[str, ...]:
    """The groups a REST API's Cognito authorizer put in the claims (what a route's `groups=` is checked against)."""
    _, authorizer, _ = _rest_context(event)
    claims = authorizer.get("claims")
    if not isinstance(claims, Mapping):
        return rest_caller(event, http_api=False).groups
    return _split(claims.get("cognito:groups") or claims.get("groups"))


def rest_caller(event: dict, http_api: bool) -> Caller:
    """The Caller API Gateway's authorizer put in the event (Cognito, JWT, IAM, API key), or anonymous."""
    kind = rest_caller_kind(event, http_api)
    _, authorizer, identity = _rest_context(event)
    if kind == "jwt":
        jwt = authorizer["jwt"]
        return _from_claims("jwt", jwt.get("claims"), scopes=_split(jwt.get("scopes")))
    if kind == "iam":
        principal = authorizer["iam"].get("userArn") if http_api else identity["userArn"]
        return Caller(kind="iam", principal=principal, api_key_id=None if http_api else identity.get("apiKeyId"))
    if kind == "cognito":
        # A Cognito authorizer gives every claim as a string, groups as "a,b" (or "[a b]").
        return _from_claims("cognito", authorizer["claims"], api_key_id=identity.get("apiKeyId"))
    if kind == "api_key":
        return Caller(kind="api_key", api_key_id=identity["apiKeyId"])
    return ANONYMOUS


def graphql_request(event: dict, context: Any) -> Request:
    """The Request of an AppSync direct Lambda resolver event."""
    request = event.get("request") if isinstance(event.get("request"), dict) else {}
    headers = _lower_headers(request.get("headers"))
    identity = event.get("identity") if isinstance(event.get("identity"), dict) else {}
    source_ips = identity.get("sourceIp")
    return Request(
        source="graphql",
        headers=headers,
        cookies=_cookies(headers),
        source_ip=source_ips[0] if isinstance(source_ips, list) and source_ips else None,
        request_id=headers.get("x-amzn-requestid") or headers.get("x-amz-request-id"),
        lambda_request_id=getattr(context, "aws_request_id", None),
    )


def graphql_caller(event: dict) -> Caller:
    """The Caller AppSync put in `identity`: Cognito user pools, OIDC, IAM, or none (API key)."""
    identity = event.get("identity")
    if not isinstance(identity, dict):
        return ANONYMOUS
    if identity.get("userArn") or identity.get("accountId"):
        return Caller(kind="iam", principal=identity.get("userArn"))
    return _from_claims(
        "cognito" if "username" in identity else "jwt",
        identity.get("claims"),
        subject=identity.get("sub"),
        username=identity.get("username"),
        groups=_split(identity.get("groups")),
    )


def direct_request(event: dict, context: Any) -> Request:
    """A direct invoke's Request: what the invoker passed as `request` (headers, source_ip), and the Lambda id."""
    given = event.get("request") if isinstance(event.get("request"), dict) else {}
    headers = _lower_headers(given.get("headers"))
    return Request(
        source="direct",
        headers=headers,
        cookies=_cookies(headers),
        source_ip=given.get("source_ip") if isinstance(given.get("source_ip"), str) else None,
        request_id=given.get("request_id") if isinstance(given.get("request_id"), str) else None,
        lambda_request_id=getattr(context, "aws_request_id", None),
    )


def direct_caller(event: dict) -> Caller:
    """A direct invoke's Caller: the invoker's `caller` object (trusted: invoking needs lambda:InvokeFunction)."""
    given = event.get("caller")
    if not isinstance(given, dict):
        return ANONYMOUS
    claims = given.get("claims") if isinstance(given.get("claims"), dict) else {}
    return Caller(
        kind="direct",
        subject=given.get("subject") if isinstance(given.get("subject"), str) else None,
        username=given.get("username") if isinstance(given.get("username"), str) else None,
        groups=_split(given.get("groups")),
        scopes=_split(given.get("scopes")),
        claims=claims,
    )


class Incoming:
    """One event as the router read it: where it came from, and its caller and request once asked for.

    `source` is "rest", "http" (an HTTP API, payload 2.0), "graphql" or "direct".
    """

    __slots__ = ("_caller", "_request", "context", "event", "source")

    def __init__(self, event: dict, context: Any, source: str) -> None:
        self.event = event
        self.context = context
        self.source = source
        self._caller: Caller | None = None
        self._request: Request | None = None

    @property
    def caller(self) -> Caller:
        """Who called, as the gateway, AppSync or the invoker vouched for it."""
        if self._caller is None:
            source, event = self.source, self.event
            if source in ("rest", "http"):
                self._caller = rest_caller(event, source == "http")
            else:
                self._caller = graphql_caller(event) if source == "graphql" else direct_caller(event)
        return self._caller

    @property
    def request(self) -> Request:
        """Headers, cookies, source IP, ids and stage of the request."""
        if self._request is None:
            source, event, context = self.source, self.event, self.context
            if source in ("rest", "http"):
                self._request = rest_request(event, context, source == "http")
            elif source == "graphql":
                self._request = graphql_request(event, context)
            else:
                self._request = direct_request(event, context)
        return self._request

    def caller_kind(self) -> str:
        """Which authorizer vouched for the caller (`Caller.kind`); for REST read without building the Caller."""
        if self._caller is None and self.source in ("rest", "http"):
            return rest_caller_kind(self.event, self.source == "http")
        return self.caller.kind

    def caller_groups(self) -> tuple[str, ...]:
        """The caller's groups; for a REST API's Cognito authorizer read from the claims alone."""
        if self._caller is None and self.source == "rest":
            return rest_groups(self.event)
        return self.caller.groups

    def caller_scopes(self) -> tuple[str, ...]:
        """The caller's OAuth scopes."""
        return self.caller.scopes
