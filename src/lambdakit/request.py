"""Who called and how: the same two objects from REST v1, HTTP API v2, AppSync and direct invokes.

A route function receives them by declaring a parameter annotated `Request` or `Caller` (any name).
Each event is read into an `Incoming` first: the router hands it to the authorization check and to
the binding, which read from it only what they need, and each object is built once, when first asked
for, so a route that declares neither and needs no groups pays for neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdakit.claims import HTTP, REST, bearer_claims, group_claim, string_list
from lambdakit.claims import groups as groups_of
from lambdakit.claims import scopes as scopes_of
from lambdakit.errors import BadRequest
from lambdakit.records import Factory, record


@record()
class Caller:
    """The authenticated identity, as the API (or the invoker of a direct route) vouched for it.

    `kind` is "anonymous", "cognito", "jwt" (an HTTP API's JWT authorizer or the local token), "iam",
    "api_key", or "direct" (what a direct invoke passed as `caller`). `groups` are read exactly
    (lambdakit.claims): none when an API Gateway string could name other groups than the caller's.
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


def _object(container: Mapping[str, Any], name: str, where: str) -> dict:
    """`container[name]` when it is an object, {} when absent; a 400 naming `where` for anything else."""
    value = container.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"{where}: must be an object")
    return value


def _text(container: Mapping[str, Any], name: str, where: str) -> str | None:
    """`container[name]` when it is a string, None when absent; a 400 naming `where` for anything else."""
    value = container.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{where}: must be text")
    return value


def _lower_headers(headers: Any, where: str = "headers") -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise BadRequest(f"{where}: must be an object")
    lowered = {}
    for name, value in headers.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"{where}.{name}: must be text")
        lowered[str(name).lower()] = value
    return lowered


def _cookies(headers: Mapping[str, str], cookie_list: Any = None) -> dict[str, str]:
    pairs = string_list(cookie_list, "cookies") if cookie_list is not None else headers.get("cookie", "").split(";")
    cookies = {}
    for pair in pairs:
        name, sep, value = pair.strip().partition("=")
        if sep and name:
            cookies[name] = value
    return cookies


def _given_groups(value: Any, where: str) -> tuple[str, ...]:
    """Groups where the source keeps JSON types (AppSync, a direct invoke): a list, or one group as a string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return string_list(value, where)


def _from_claims(
    kind: str,
    claims: Mapping[str, Any],
    *,
    groups: tuple[str, ...] | None,
    scopes: tuple[str, ...],
    subject: Any = None,
    username: Any = None,
    api_key_id: str | None = None,
) -> Caller:
    """The Caller of a token's claims; `subject` and `username` (from outside the claims) win when set.

    `groups` None means the source's groups could not be read exactly (lambdakit.claims): the Caller has none.
    """
    return Caller(
        kind=kind,
        subject=subject or claims.get("sub"),
        username=username
        or claims.get("cognito:username")
        or claims.get("username")
        or claims.get("preferred_username"),
        groups=groups or (),
        scopes=scopes,
        claims=dict(claims),
        api_key_id=api_key_id,
    )


def rest_request(event: dict, context: Any, http_api: bool) -> Request:
    """The Request of an API Gateway event (REST v1 or HTTP API v2)."""
    ctx, _, identity = _rest_context(event)
    headers = _lower_headers(event.get("headers"))
    if http_api:
        http = _object(ctx, "http", "requestContext.http")
        method, path, cookies = http.get("method"), event.get("rawPath"), _cookies(headers, event.get("cookies"))
        source_ip = _text(http, "sourceIp", "requestContext.http.sourceIp")
    else:
        method, path, cookies = event.get("httpMethod"), event.get("path"), _cookies(headers)
        source_ip = _text(identity, "sourceIp", "requestContext.identity.sourceIp")
    return Request(
        source="http" if http_api else "rest",
        method=method,
        path=path,
        headers=headers,
        cookies=cookies,
        source_ip=source_ip,
        request_id=_text(ctx, "requestId", "requestContext.requestId"),
        lambda_request_id=getattr(context, "aws_request_id", None),
        stage=_text(ctx, "stage", "requestContext.stage"),
    )


def _rest_context(event: dict) -> tuple[dict, dict, dict]:
    # Checked inline: every request with a caller reads these, and a call per field would show on a warm one.
    ctx = event.get("requestContext")
    if ctx.__class__ is not dict:
        ctx = _object(event, "requestContext", "requestContext")
    authorizer = ctx.get("authorizer")
    if authorizer.__class__ is not dict:
        authorizer = _object(ctx, "authorizer", "requestContext.authorizer")
    identity = ctx.get("identity")
    if identity.__class__ is not dict:
        identity = _object(ctx, "identity", "requestContext.identity")
    return ctx, authorizer, identity


def rest_caller_kind(event: dict, http_api: bool) -> str:
    """Which authorizer vouched for the caller (`Caller.kind`), without building the Caller."""
    _, authorizer, identity = _rest_context(event)
    if http_api:
        if _object(authorizer, "jwt", "requestContext.authorizer.jwt"):
            return "jwt"
        return "iam" if _object(authorizer, "iam", "requestContext.authorizer.iam") else "anonymous"
    claims = authorizer.get("claims")
    if claims is not None:
        if claims.__class__ is not dict:
            raise BadRequest("requestContext.authorizer.claims: must be an object")
        return "cognito"
    if identity.get("userArn"):
        return "iam"
    return "api_key" if identity.get("apiKeyId") else "anonymous"


def _gateway_claims(event: dict, http_api: bool) -> tuple[dict, str] | None:
    """The claims a Cognito (REST) or JWT (HTTP API) authorizer put in the event, and where; None for others."""
    _, authorizer, _ = _rest_context(event)
    if http_api:
        jwt = _object(authorizer, "jwt", "requestContext.authorizer.jwt")
        where = "requestContext.authorizer.jwt.claims"
        return (_object(jwt, "claims", where), where) if jwt else None
    claims = authorizer.get("claims")
    if claims.__class__ is dict:
        return claims, "requestContext.authorizer.claims"
    return None if claims is None else (_object(authorizer, "claims", "requestContext.authorizer.claims"), "")


def rest_groups(event: dict, http_api: bool) -> tuple[str, ...] | None:
    """The groups an API Gateway authorizer vouched for (lambdakit.claims); None when they cannot be read exactly."""
    found = _gateway_claims(event, http_api)
    if found is None:
        return ()
    claims, where = found

    def token_claims() -> Mapping[str, Any] | None:
        return bearer_claims(_lower_headers(event.get("headers")).get("authorization"))

    return groups_of(claims, HTTP if http_api else REST, token_claims, where)


def rest_caller(event: dict, http_api: bool, groups: tuple[str, ...] | None = None) -> Caller:
    """The Caller API Gateway's authorizer put in the event (Cognito, JWT, IAM, API key), or anonymous.

    `groups`, when the router has read them already, saves reading them again.
    """
    kind = rest_caller_kind(event, http_api)
    _, authorizer, identity = _rest_context(event)
    if kind in ("jwt", "cognito"):
        claims, where = _gateway_claims(event, http_api)  # type: ignore[misc]
        if groups is None:
            groups = rest_groups(event, http_api)
        if kind == "jwt":
            given = authorizer["jwt"].get("scopes")
            scopes = scopes_of(given, "requestContext.authorizer.jwt.scopes")
            if given is None:
                scopes = scopes_of(claims.get("scope") or claims.get("scp"), f"{where}.scope")
            return _from_claims("jwt", claims, groups=groups, scopes=scopes)
        scopes = scopes_of(claims.get("scope"), f"{where}.scope")
        return _from_claims("cognito", claims, groups=groups, scopes=scopes, api_key_id=identity.get("apiKeyId"))
    if kind == "iam":
        principal = authorizer["iam"].get("userArn") if http_api else identity["userArn"]
        return Caller(kind="iam", principal=principal, api_key_id=None if http_api else identity.get("apiKeyId"))
    if kind == "api_key":
        return Caller(kind="api_key", api_key_id=identity["apiKeyId"])
    return ANONYMOUS


def graphql_request(event: dict, context: Any) -> Request:
    """The Request of an AppSync direct Lambda resolver event."""
    request = _object(event, "request", "request")
    headers = _lower_headers(request.get("headers"), "request.headers")
    identity = _object(event, "identity", "identity")
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
    """The Caller AppSync put in `identity`: Cognito user pools, OIDC, IAM, or none (API key).

    AppSync keeps the token's JSON types: `identity.groups` (or the claims' groups) is a list, read as it is.
    """
    identity = _object(event, "identity", "identity")
    if not identity:
        return ANONYMOUS
    if identity.get("userArn") or identity.get("accountId"):
        return Caller(kind="iam", principal=_text(identity, "userArn", "identity.userArn"))
    claims = _object(identity, "claims", "identity.claims")
    if identity.get("groups") is not None:
        groups = string_list(identity["groups"], "identity.groups")
    else:
        name, value = group_claim(claims)
        groups = _given_groups(value, f"identity.claims.{name}")
    return _from_claims(
        "cognito" if "username" in identity else "jwt",
        claims,
        groups=groups,
        scopes=scopes_of(claims.get("scope"), "identity.claims.scope"),
        subject=_text(identity, "sub", "identity.sub"),
        username=_text(identity, "username", "identity.username"),
    )


def direct_request(event: dict, context: Any) -> Request:
    """A direct invoke's Request: what the invoker passed as `request` (headers, source_ip), and the Lambda id."""
    given = _object(event, "request", "request")
    headers = _lower_headers(given.get("headers"), "request.headers")
    return Request(
        source="direct",
        headers=headers,
        cookies=_cookies(headers),
        source_ip=_text(given, "source_ip", "request.source_ip"),
        request_id=_text(given, "request_id", "request.request_id"),
        lambda_request_id=getattr(context, "aws_request_id", None),
    )


def direct_caller(event: dict) -> Caller:
    """A direct invoke's Caller: the invoker's `caller` object (trusted: invoking needs lambda:InvokeFunction).

    Its `groups` and `scopes` are lists: a string could be one name or several, so it is refused.
    """
    given = _object(event, "caller", "caller")
    if not given:
        return ANONYMOUS
    groups = given.get("groups")
    scopes = given.get("scopes")
    return Caller(
        kind="direct",
        subject=_text(given, "subject", "caller.subject"),
        username=_text(given, "username", "caller.username"),
        groups=string_list(groups, "caller.groups") if groups is not None else (),
        scopes=string_list(scopes, "caller.scopes") if scopes is not None else (),
        claims=_object(given, "claims", "caller.claims"),
    )


class Incoming:
    """One event as the router read it: where it came from, and its caller and request once asked for.

    `source` is "rest", "http" (an HTTP API, payload 2.0), "graphql" or "direct".
    """

    __slots__ = ("_caller", "_groups", "_request", "context", "event", "source")

    def __init__(self, event: dict, context: Any, source: str) -> None:
        self.event = event
        self.context = context
        self.source = source
        self._caller: Caller | None = None
        self._groups: tuple[str, ...] | None = None
        self._request: Request | None = None

    @property
    def caller(self) -> Caller:
        """Who called, as the gateway, AppSync or the invoker vouched for it."""
        if self._caller is None:
            source, event = self.source, self.event
            if source in ("rest", "http"):
                self._caller = rest_caller(event, source == "http", self._groups)
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

    def caller_groups(self) -> tuple[str, ...] | None:
        """The caller's groups, read exactly (lambdakit.claims); None when an API Gateway event leaves them open."""
        if self.source in ("rest", "http"):
            if self._groups is None:
                self._groups = rest_groups(self.event, self.source == "http")
            return self._groups
        return self.caller.groups

    def caller_scopes(self) -> tuple[str, ...]:
        """The caller's OAuth scopes."""
        return self.caller.scopes
