"""AppSync's authorization directives in schema.graphql, read once for the stack and the local server.

AppSync decides access per field from the directives (`@aws_cognito_user_pools(cognito_groups: [...])`,
`@aws_iam`, `@aws_api_key`, `@aws_oidc`); the routes declare the same thing in Python (`groups=`,
`auth=`). `check_schema_access` fails the synth when the two disagree, `deployable_schema` leaves out
the directives of modes the API does not have (AppSync refuses them), and `field_allows` is the rule
the local `/graphql` applies, as AppSync would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graphql import (
    DirectiveNode,
    GraphQLError,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    parse,
    value_from_ast_untyped,
)

from lambdakit.routemodel import GraphqlRoute, RouteError

# AppSync's directive -> the authorization mode it names (AppSync's own names).
DIRECTIVE_MODES = {
    "aws_api_key": "API_KEY",
    "aws_iam": "AWS_IAM",
    "aws_cognito_user_pools": "AMAZON_COGNITO_USER_POOLS",
    "aws_auth": "AMAZON_COGNITO_USER_POOLS",
    "aws_oidc": "OPENID_CONNECT",
    "aws_lambda": "AWS_LAMBDA",
}
# The stack's `auth` -> AppSync's default mode for it (AppSync has no anonymous access: `none` is an API key).
DEFAULT_MODES = {"none": "API_KEY", "iam": "AWS_IAM", "cognito": "AMAZON_COGNITO_USER_POOLS", "jwt": "OPENID_CONNECT"}


@dataclass(frozen=True)
class FieldAccess:
    """The auth directives on one field (or, failing those, on its type): modes, and Cognito groups if named."""

    modes: frozenset[str]
    groups: tuple[str, ...] | None = None
    spans: tuple[tuple[int, int, str], ...] = ()


def schema_access(sdl: str) -> dict[tuple[str, str], FieldAccess]:
    """(type, field) -> the directives that decide who may read it; fields without any are left out."""
    try:
        document = parse(sdl)
    except GraphQLError as exc:
        raise RouteError(f"schema.graphql: {exc.message}") from None
    found: dict[tuple[str, str], FieldAccess] = {}
    for node in document.definitions:
        if not isinstance(node, (ObjectTypeDefinitionNode, ObjectTypeExtensionNode)):
            continue
        on_type = _access(node.directives or ())
        for field in node.fields or ():
            access = _access(field.directives or ())
            if access.modes or on_type.modes:
                found[(node.name.value, field.name.value)] = access if access.modes else on_type
    return found


def _access(directives: Iterable[DirectiveNode]) -> FieldAccess:
    modes, groups, spans = set(), None, []
    for directive in directives:
        name = directive.name.value
        if name not in DIRECTIVE_MODES:
            continue
        modes.add(DIRECTIVE_MODES[name])
        spans.append((directive.loc.start, directive.loc.end, DIRECTIVE_MODES[name]) if directive.loc else (0, 0, ""))
        for argument in directive.arguments or ():
            if argument.name.value == "cognito_groups":
                value = value_from_ast_untyped(argument.value)
                groups = tuple(value) if isinstance(value, list) else (str(value),)
    return FieldAccess(frozenset(modes), groups, tuple(spans))


def check_schema_access(routes: Sequence[GraphqlRoute], sdl: str, schema_name: str = "schema.graphql") -> None:
    """RouteError naming the route when its `groups`/`auth` and the field's directives say different things."""
    access = schema_access(sdl)
    for route in routes:
        field = access.get(route.key, FieldAccess(frozenset()))
        name = f"{route.type_name}.{route.field}"
        declared = tuple(sorted(route.spec.groups))
        written = tuple(sorted(field.groups)) if field.groups is not None else ()
        if declared != written:
            wanted = f"@aws_cognito_user_pools(cognito_groups: {json.dumps(list(declared))})" if declared else "none"
            raise RouteError(
                f"{route.where}: {route.function}() declares groups={list(declared)} but {name} in {schema_name}"
                f" has cognito_groups {list(written)}; write {wanted} on the field so AppSync and the function agree"
            )
        public = "API_KEY" in field.modes
        if (route.spec.auth == "none") != public:
            fix = "add @aws_api_key to the field" if route.spec.auth == "none" else 'add auth="none" to the route'
            raise RouteError(
                f"{route.where}: {name} is public in one place only (the route's auth={route.spec.auth!r},"
                f" the field {'has' if public else 'lacks'} @aws_api_key): {fix}"
            )
        if route.spec.auth == "iam" and "AWS_IAM" not in field.modes:
            raise RouteError(
                f'{route.where}: {route.function}() says auth="iam": add @aws_iam to {name} in {schema_name}'
            )


def api_modes(auth: str, sdl: str, *, user_pool: bool, oidc: bool) -> tuple[str, frozenset[str]]:
    """AppSync's default mode for the stack's `auth`, and every mode the API offers (default included).

    Besides the default: the modes the schema's directives name, when the stack can offer them. With
    user pools as the default, IAM is always added: AppSync applies `@aws_cognito_user_pools(cognito_groups:)`
    only when an API has more than one mode (with one it honours `@aws_auth`), and signed backends need it anyway.
    """
    default = DEFAULT_MODES[auth]
    possible = {"API_KEY", "AWS_IAM"}
    possible |= {"AMAZON_COGNITO_USER_POOLS"} if user_pool else set()
    possible |= {"OPENID_CONNECT"} if oidc else set()
    offered = {default} | (directive_modes(sdl) & possible)
    if default == "AMAZON_COGNITO_USER_POOLS":
        offered.add("AWS_IAM")
    return default, frozenset(offered)


def directive_modes(sdl: str) -> set[str]:
    """Every mode the schema's directives name (the API must offer each one, or they are left out)."""
    return {mode for access in schema_access(sdl).values() for mode in access.modes}


def deployable_schema(sdl: str, modes: Iterable[str]) -> tuple[str, list[str]]:
    """The schema without the directives of modes the API lacks, and the modes left out (empty: as written)."""
    available = set(modes)
    cut: set[tuple[int, int]] = set()
    left_out: set[str] = set()
    for access in schema_access(sdl).values():
        for start, end, mode in access.spans:
            if mode not in available and end > start:
                cut.add((start, end))
                left_out.add(mode)
    text = sdl
    for start, end in sorted(cut, reverse=True):
        text = text[:start] + text[end:]
    return text, sorted(left_out)


def field_allows(access: FieldAccess | None, default_mode: str, mode: str | None, groups: Sequence[str]) -> bool:
    """AppSync's rule for one field: a caller of `mode` (None: no credentials) with `groups` may read it."""
    if mode is None:
        return False
    allowed = access.modes if access is not None else frozenset({default_mode})
    if mode not in allowed:
        return False
    if mode == "AMAZON_COGNITO_USER_POOLS" and access is not None and access.groups is not None:
        return any(group in groups for group in access.groups)
    return True
