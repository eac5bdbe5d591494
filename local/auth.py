"""The local gateway's authorization: what API Gateway and AppSync decide before the function runs.

The server follows the stack's `auth` (cdk.json + AUTH, read by infra/config.py): with cognito or jwt
a request needs a bearer token (`run_local.py token`, local/tokens.py), with iam a SigV4 signature
made with the local credentials (local/sigv4.py); `apiKeys` adds a required `x-api-key` header. A
request without valid credentials is refused as the deployed gateway refuses it, and an accepted
one reaches the handler with the identity where API Gateway (`requestContext.authorizer` / `identity`)
or AppSync (`identity`) puts it. Group checks stay where they are deployed: in the function for REST,
in the schema's directives for GraphQL (infra/graphql_auth.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from local.authorizer_cache import AuthorizerCache
from local.sigv4 import LOCAL_ACCOUNT, SignatureRefused, Signer, has_signature, local_credentials, verify
from local.tokens import InvalidToken, ensure_key, issue_token, verify_token

LOCAL_API_KEY_ID = "local-api-key"


@dataclass(frozen=True)
class Identity:
    """Who made an accepted request: token claims, an IAM signer, and whether an API key came with it.

    `token` is the bearer token the claims were read from: API Gateway passes its header on to the function.
    """

    claims: Mapping[str, Any] | None = None
    signer: Signer | None = None
    api_key: bool = False
    token: str | None = None

    @functools.cached_property
    def rest_claims(self) -> dict[str, str]:
        """The claims as a REST Cognito authorizer passes them (made once: a kept identity serves many requests)."""
        return rest_authorizer(self.claims or {})["claims"]


@dataclass(frozen=True)
class Refusal:
    """The gateway's own answer: the function never runs."""

    status: int
    message: str


ANONYMOUS = Identity()


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>` (or a bare token, which API Gateway also takes)."""
    value = headers.get("authorization", "").strip()
    if not value or has_signature(headers):
        return None
    scheme, _, rest = value.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value


@dataclass
class LocalGate:
    """The stack's authorization as the local server applies it (see the module docstring)."""

    mode: str = "none"
    api_keys: bool = False
    appsync: Any = field(default=None, repr=False)
    api_type: str = "rest"
    verified: AuthorizerCache = field(default_factory=AuthorizerCache, repr=False, compare=False)

    @classmethod
    def from_project(cls) -> LocalGate:
        """The gate for this checkout's settings (cdk.json, then AUTH, API_KEYS, ... from the environment)."""
        from infra.config import project_config

        config = project_config()
        return cls(mode=config.auth, api_keys=config.api_keys and config.api_type == "rest", api_type=config.api_type)

    def warm(self) -> None:
        """Load what checking credentials needs at start-up, so the first request is not the slow one."""
        if self.mode in ("cognito", "jwt"):
            ensure_key()
        elif self.mode == "iam":
            local_credentials()

    # -- REST (API Gateway) -----------------------------------------------------------------------
    def request(
        self, route: Any, scope: Mapping[str, Any], headers: list[tuple[str, str]], body: bytes
    ) -> Identity | Refusal:
        """The decision for one ASGI request to `route` (a route record, or None for the catch-all)."""
        mode = route.spec.access(self.mode) if route is not None else self.mode
        if mode == "none" and not self.api_keys:
            return ANONYMOUS  # the common local case pays nothing
        scopes = route.spec.scopes if route is not None else ()
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        lower = {name.lower(): value for name, value in headers}
        return self.rest(mode, scopes, method=scope["method"], raw_path=raw_path, query=query, headers=lower, body=body)

    def rest(
        self,
        mode: str,
        scopes: tuple[str, ...],
        *,
        method: str,
        raw_path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Identity | Refusal:
        """API Gateway's decision for one method of `mode`: 401/403 as it answers, or who called.

        `headers` has lower-case names. Cognito and JWT authorizers answer 401 without a valid token;
        IAM answers 403 (API Gateway's "Missing Authentication Token" for an unsigned request).
        """
        if mode == "none":
            return ANONYMOUS
        if self.api_keys and not headers.get("x-api-key"):
            # Locally any key is accepted (there is no usage plan here); API Gateway checks it is one of yours.
            return Refusal(403, "Forbidden")
        if mode == "iam":
            if not has_signature(headers):
                return Refusal(403, "Missing Authentication Token")
            try:
                signer = verify(method, raw_path, query, headers, body, service="execute-api")
            except SignatureRefused as exc:
                return Refusal(403, str(exc))
            return Identity(signer=signer, api_key=self.api_keys)
        token = bearer_token(headers)
        if token is None:
            return Refusal(401, "Unauthorized")
        # A REST API's Cognito authorizer takes an ID token, or an access token where the method has scopes;
        # an HTTP API's JWT authorizer takes either.
        uses = (("access",) if scopes else ("id",)) if self.api_type == "rest" else ("id", "access")
        identity = self.verified.get((token, uses))
        if identity is None:
            try:
                claims = verify_token(token, uses)
            except InvalidToken:
                return Refusal(401, "Unauthorized")
            # Read-only: one identity serves every request with this token while it is kept.
            identity = Identity(claims=MappingProxyType(claims), api_key=self.api_keys, token=token)
            self.verified.put((token, uses), identity, expires_at=claims["exp"])
        if scopes and not set(scopes) & set(str(identity.claims.get("scope", "")).split()):
            return Refusal(403, "Forbidden")
        return identity


# -- GraphQL (AppSync) ------------------------------------------------------------------------------
APPSYNC_UNAUTHORIZED = "You are not authorized to make this call."


@dataclass(frozen=True)
class GraphqlCaller:
    """How a GraphQL request authenticated (an AppSync mode) and who it is."""

    mode: str
    identity: Identity


class AppSyncRules:
    """AppSync's authorization for the local `/graphql`: the API's modes and the schema's directives, as deployed."""

    def __init__(self, sdl: str, auth: str, *, user_pool: bool, oidc: bool) -> None:
        from infra.graphql_auth import api_modes, deployable_schema, schema_access

        self.default, self.offered = api_modes(auth, sdl, user_pool=user_pool, oidc=oidc)
        self.access = schema_access(deployable_schema(sdl, self.offered)[0])

    @classmethod
    def from_project(cls, sdl: str) -> AppSyncRules:
        """The rules for this checkout's settings and `sdl` (src/schema.graphql)."""
        from infra.config import project_config

        config = project_config()
        return cls(sdl, config.auth, user_pool=config.user_pool, oidc=bool(config.jwt_issuer))

    def caller(self, raw_path: str, query: str, headers: Mapping[str, str], body: bytes) -> GraphqlCaller | Refusal:
        """The mode the request's credentials pick (a signature, a token, an API key), checked; 401 otherwise."""
        offered = self.offered
        if has_signature(headers) and "AWS_IAM" in offered:
            try:
                signer = verify("POST", raw_path, query, headers, body, service="appsync")
            except SignatureRefused:
                return Refusal(401, APPSYNC_UNAUTHORIZED)
            return GraphqlCaller("AWS_IAM", Identity(signer=signer))
        token = bearer_token(headers)
        token_mode = next((m for m in ("AMAZON_COGNITO_USER_POOLS", "OPENID_CONNECT") if m in offered), None)
        if token is not None and token_mode is not None:
            try:
                return GraphqlCaller(token_mode, Identity(claims=verify_token(token)))
            except InvalidToken:
                return Refusal(401, APPSYNC_UNAUTHORIZED)
        if headers.get("x-api-key") and "API_KEY" in offered:
            return GraphqlCaller("API_KEY", Identity(api_key=True))
        return Refusal(401, APPSYNC_UNAUTHORIZED)

    def allows(self, type_name: str, field_name: str, caller: GraphqlCaller) -> bool:
        """Whether AppSync lets `caller` resolve `type_name.field_name` (its directives, else the default mode)."""
        from infra.graphql_auth import field_allows

        groups = (caller.identity.claims or {}).get("cognito:groups") or ()
        return field_allows(self.access.get((type_name, field_name)), self.default, caller.mode, groups)


# -- where the deployed services put the identity ---------------------------------------------------
def rest_authorizer(claims: Mapping[str, Any]) -> dict[str, Any]:
    """REST (v1) `requestContext.authorizer` of a Cognito authorizer: every claim a string, dates spelled out."""
    from lambdakit.claims import REST, rendered  # on use: the worker has put src/ on the path by then

    shown = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int):
            shown[name] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        else:
            shown[name] = rendered(value, REST)
    return {"claims": shown}


def http_authorizer(claims: Mapping[str, Any]) -> dict[str, Any]:
    """HTTP API (v2) `requestContext.authorizer` of a JWT authorizer."""
    from lambdakit.claims import HTTP, rendered

    scopes = str(claims.get("scope", "")).split() or None
    return {"jwt": {"claims": {k: rendered(v, HTTP) for k, v in claims.items()}, "scopes": scopes}}


def rest_iam_identity(signer: Signer) -> dict[str, Any]:
    """What REST (v1) adds to `requestContext.identity` for a request signed with IAM."""
    return {
        "accessKey": signer.access_key,
        "accountId": signer.account,
        "caller": signer.access_key,
        "user": signer.access_key,
        "userArn": signer.principal,
    }


def http_iam_authorizer(signer: Signer) -> dict[str, Any]:
    """HTTP API (v2) `requestContext.authorizer` for a request signed with IAM."""
    return {
        "iam": {
            "accessKey": signer.access_key,
            "accountId": signer.account,
            "callerId": signer.access_key,
            "principalOrgId": None,
            "userArn": signer.principal,
            "userId": signer.access_key,
        }
    }


def appsync_identity(identity: Identity, source_ip: str = "127.0.0.1") -> dict[str, Any] | None:
    """AppSync's `identity`: Cognito user pools (claims, groups), IAM, or None (an API key)."""
    if identity.signer is not None:
        return {
            "accountId": LOCAL_ACCOUNT,
            "cognitoIdentityAuthProvider": None,
            "cognitoIdentityAuthType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "sourceIp": [source_ip],
            "userArn": identity.signer.principal,
            "username": identity.signer.access_key,
        }
    if identity.claims is None:
        return None
    claims = dict(identity.claims)
    return {
        "claims": claims,
        "defaultAuthStrategy": "ALLOW",
        "groups": claims.get("cognito:groups"),
        "issuer": claims.get("iss"),
        "sourceIp": [source_ip],
        "sub": claims.get("sub"),
        "username": claims.get("cognito:username"),
    }


def attach_rest(event: dict[str, Any], identity: Identity) -> dict[str, Any]:
    """Put `identity` into a REST (v1) event where API Gateway does; returns the event."""
    context = event.setdefault("requestContext", {})
    if identity.claims is not None:
        context["authorizer"] = {"claims": dict(identity.rest_claims)}  # the event's own copy
        _with_token(event, identity)
    if identity.signer is not None:
        context.setdefault("identity", {}).update(rest_iam_identity(identity.signer))
    if identity.api_key:
        context.setdefault("identity", {})["apiKeyId"] = LOCAL_API_KEY_ID
    return event


def attach_http(event: dict[str, Any], identity: Identity) -> dict[str, Any]:
    """Put `identity` into an HTTP API (v2) event where API Gateway does; returns the event."""
    context = event.setdefault("requestContext", {})
    if identity.claims is not None:
        context["authorizer"] = http_authorizer(identity.claims)
        _with_token(event, identity)
    elif identity.signer is not None:
        context["authorizer"] = http_iam_authorizer(identity.signer)
    return event


def _with_token(event: dict[str, Any], identity: Identity) -> None:
    """The `Authorization` header the token came in, as the gateway passes it (unless the event has one)."""
    if identity.token is None:
        return
    headers = event.get("headers") or {}
    # The usual case, the token came in its header, is found by its two spellings before any scan.
    if "Authorization" in headers or "authorization" in headers or any(n.lower() == "authorization" for n in headers):
        return
    event["headers"] = {**headers, "Authorization": identity.token}
    if "multiValueHeaders" in event:
        event["multiValueHeaders"] = {**(event["multiValueHeaders"] or {}), "Authorization": [identity.token]}


def signed_in(user: str, groups: tuple[str, ...] = (), scopes: tuple[str, ...] = ()) -> Identity:
    """The identity of a fresh local token for `user`, as the local gateway accepts it (tests, the bench)."""
    token = issue_token(user, groups, scopes)
    return Identity(claims=verify_token(token), token=token)


def document_access() -> Any:
    """What `/openapi.json` says about authorization for this checkout's settings (Swagger UI's Authorize)."""
    from infra.config import project_config
    from lambdakit.openapi import Access

    config = project_config()
    return Access(config.auth, api_keys=config.api_keys and config.api_type == "rest")
