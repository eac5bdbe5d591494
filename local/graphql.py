"""`POST /graphql` on the local server, answering as AppSync would for the fields routed to the Lambda.

AppSync parses and validates a query against the schema, invokes the function once per field that has a
direct Lambda resolver (with the event built below), within the API's depth and resolver count limits
(local/graphql_limits.py), and assembles the answer, nulls and errors included.
Here graphql-core, the Python port of the reference implementation, parses, validates and assembles; each
routed field's resolver builds AppSync's event and calls the real handler, in this worker's process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    build_schema,
    execute,
    parse,
    print_ast,
    validate,
)

from local.auth import AppSyncRules, Refusal, appsync_identity
from local.events import appsync_event
from local.graphql_limits import Budget, GraphqlLimits, depth_guard, operation_depth
from local.invoke import Invocation

# Scalars and directives AppSync predefines: a schema written for AppSync uses them without declaring them.
_APPSYNC_SCALARS = (
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSURL",
    "AWSPhone",
    "AWSIPAddress",
)
_APPSYNC_DIRECTIVES = {
    "aws_api_key": "on FIELD_DEFINITION | OBJECT",
    "aws_iam": "on FIELD_DEFINITION | OBJECT",
    "aws_oidc": "on FIELD_DEFINITION | OBJECT",
    "aws_lambda": "on FIELD_DEFINITION | OBJECT",
    "aws_cognito_user_pools": "(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT",
    "aws_auth": "(cognito_groups: [String]) on FIELD_DEFINITION",
    "aws_subscribe": "(mutations: [String]) on FIELD_DEFINITION",
}
# What AppSync reports when a direct Lambda resolver's function raises.
LAMBDA_ERROR_TYPE = "Lambda:Unhandled"
VALIDATION_ERROR_TYPE = "ValidationError"


def appsync_sdl(sdl: str) -> str:
    """The schema text with AppSync's predefined scalars and directives declared, unless it declares them."""
    extra = [f"scalar {name}" for name in _APPSYNC_SCALARS if not re.search(rf"\bscalar\s+{name}\b", sdl)]
    extra += [
        f"directive @{name}{spec}" if spec.startswith("(") else f"directive @{name} {spec}"
        for name, spec in _APPSYNC_DIRECTIVES.items()
        if not re.search(rf"\bdirective\s+@{name}\b", sdl)
    ]
    return "\n".join(extra) + "\n" + sdl


class GraphqlEndpoint:
    """The schema of `schema_path` with a Lambda resolver on each GraphQL route record.

    `invoke` runs one invocation of the function for an event and says how it ended
    (local/invoke.py): the server passes its own, which enforces the function's timeout, and takes the
    seconds an invocation may run as `timeout=` when `limits` bound the request's time. `limits` are
    AppSync's depth and resolver count and the request's time (local/graphql_limits.py); none by default.
    """

    def __init__(
        self,
        schema_path: Path,
        invoke: Callable[..., Invocation],
        routes: Iterable[Any],
        limits: GraphqlLimits | None = None,
    ) -> None:
        self.sdl = Path(schema_path).read_text(encoding="utf-8")
        self.schema: GraphQLSchema = build_schema(appsync_sdl(self.sdl))
        self.invoke = invoke
        self.limits = limits or GraphqlLimits()
        self.rules: AppSyncRules | None = None  # no auth: every request is let in (with identity None)
        self.unknown: list[str] = []
        for route in routes:
            type_name, field_name = route.key
            graphql_type = self.schema.type_map.get(type_name)
            fields = getattr(graphql_type, "fields", None)
            if not fields or field_name not in fields:
                # AppSync would refuse such a resolver at deploy time; say so, but keep serving the rest.
                self.unknown.append(f"{type_name}.{field_name}")
                continue
            fields[field_name].resolve = self._lambda_resolver(type_name, field_name)

    def use_auth(self, rules: AppSyncRules) -> None:
        """Authorize as AppSync would with these modes and directives (local/auth.py)."""
        self.rules = rules

    def _lambda_resolver(self, type_name: str, field_name: str) -> Callable[..., Any]:
        def resolve(source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
            context = info.context or {}
            caller = context.get("caller")
            if caller is not None and self.rules is not None and not self.rules.allows(type_name, field_name, caller):
                # AppSync's answer for a field the caller's mode or groups may not read: null, and this error.
                message = f"Not Authorized to access {field_name} on type {type_name}"
                raise GraphQLError(message, extensions={"errorType": "Unauthorized"})
            event = appsync_event(
                type_name,
                field_name,
                arguments,
                identity=appsync_identity(caller.identity) if caller is not None else None,
                headers=context.get("headers"),
                source=source if isinstance(source, dict) else None,
                variables=context.get("variables"),
                selection_set_list=selection_set_list(info),
                selection_set_graphql=_selection_set_graphql(info),
            )
            context.setdefault("fields", []).append(f"{type_name}.{field_name}")
            seconds = context["budget"].admit() if "budget" in context else None
            outcome = self.invoke(event) if seconds is None else self.invoke(event, timeout=seconds)
            if outcome.timed_out:
                raise GraphQLError("Task timed out", extensions={"errorType": LAMBDA_ERROR_TYPE})
            if outcome.error:
                # The function raised: AppSync shows its message (the router keeps it safe) and nothing else.
                message = outcome.error.split(": ", 1)[-1]
                raise GraphQLError(message, extensions={"errorType": LAMBDA_ERROR_TYPE})
            return outcome.result

        return resolve

    def answer(
        self, body: bytes, headers: dict[str, str], scope: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any], list[str]]:
        """HTTP status, the AppSync-shaped JSON answer, and the fields the Lambda resolved (for the log)."""
        budget = Budget(self.limits)  # the request's time runs from here: parsing and validating count too
        caller = None
        if self.rules is not None:
            # AppSync authenticates the request before it reads the query: no valid credentials, 401.
            caller = self.rules.caller(*_request_line(scope), {k.lower(): v for k, v in headers.items()}, body)
            if isinstance(caller, Refusal):
                return caller.status, _failure(caller.message, "UnauthorizedException"), []
        from lambdakit.errors import ApiError
        from lambdakit.jsonio import loads_body

        try:
            # The same budgets as a REST body (depth, number of values): a hostile body costs little.
            request = loads_body(body.decode("utf-8") if body else "{}", "request")
        except UnicodeDecodeError:
            return 400, _failure("request body is not valid UTF-8", "MalformedHttpRequestException"), []
        except ApiError as exc:
            return exc.status, _failure(exc.message, "MalformedHttpRequestException"), []
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return 400, _failure("query: must be a string", "MalformedHttpRequestException"), []
        variables = request.get("variables") or {}
        if not isinstance(variables, dict):
            return 400, _failure("variables: must be an object", "MalformedHttpRequestException"), []
        try:
            document = parse(request["query"])
        except GraphQLError as error:
            return 200, {"data": None, "errors": [_error(error, VALIDATION_ERROR_TYPE)]}, []
        problems = validate(self.schema, document)
        if problems:
            return 200, {"data": None, "errors": [_error(e, VALIDATION_ERROR_TYPE) for e in problems]}, []
        context: dict[str, Any] = {"headers": {k.lower(): v for k, v in headers.items()}, "variables": variables}
        context["caller"] = caller
        context["budget"] = budget
        operation = request.get("operationName") if isinstance(request.get("operationName"), str) else None
        too_deep = self.limits.depth is not None and operation_depth(document, operation) > self.limits.depth
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation,
            middleware=[depth_guard(self.limits.depth)] if too_deep else None,  # type: ignore[arg-type]
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_error(e) for e in result.errors]
        return 200, answer, context.get("fields", [])


def selection_set_list(info: GraphQLResolveInfo) -> list[str]:
    """AppSync's `info.selectionSetList`: every field path below this one, fragments expanded (`items/studentId`)."""
    paths: list[str] = []

    def walk(selection_set: SelectionSetNode | None, prefix: str) -> None:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                name = node.name.value
                if name == "__typename":
                    continue
                path = f"{prefix}{name}"
                paths.append(path)
                walk(node.selection_set, f"{path}/")
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set, prefix)
            elif isinstance(node, FragmentSpreadNode):
                fragment = info.fragments.get(node.name.value)
                walk(fragment.selection_set if fragment else None, prefix)

    for field_node in info.field_nodes:
        walk(field_node.selection_set, "")
    return list(dict.fromkeys(paths))


def _selection_set_graphql(info: GraphQLResolveInfo) -> str:
    """AppSync's `info.selectionSetGraphQL`: the field's selection set as text, the query's fragments after it."""
    node = info.field_nodes[0].selection_set
    if node is None:
        return ""
    return "\n\n".join([print_ast(node), *(print_ast(f) for f in info.fragments.values())])


def _error(error: GraphQLError, error_type: str | None = None) -> dict[str, Any]:
    """One entry of AppSync's `errors` list."""
    return {
        "path": error.path,
        "data": None,
        "errorType": (error.extensions or {}).get("errorType", error_type),
        "errorInfo": None,
        "locations": [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in (error.locations or [])],
        "message": error.message,
    }


def _request_line(scope: dict[str, Any] | None) -> tuple[str, str]:
    """The raw path and query a signature covers (`/graphql` when served without an ASGI scope)."""
    if scope is None:
        return "/graphql", ""
    raw = scope.get("raw_path") or scope.get("path", "/graphql").encode()
    return raw.decode("latin-1"), scope.get("query_string", b"").decode("latin-1")


def _failure(message: str, error_type: str) -> dict[str, Any]:
    return {"errors": [{"errorType": error_type, "message": message}]}
