"""What one GraphQL request may cost locally: the stack's AppSync limits, and the function's time for all of it.

Deployed, AppSync invokes the function once per resolved field, so one request of many aliases is many
billed invocations and database round trips; the stack sets AppSync's `QueryDepthLimit` and
`ResolverCountLimit` (infra/config.py, infra/graphql.py). AppSync documents both as producing an error for
what falls out of bounds, a field at a time: a field past the depth, or past the count, resolves to an
error, which travels up to the first nullable field. The local server does the same with the same values,
and bounds the whole request by the function's timeout (each field's invocation gets what is left), so one
request cannot keep a worker for longer than one invocation may run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# AppSync's own ceiling of resolver invocations per request, what it applies when the API sets none.
APPSYNC_MAX_RESOLVERS = 10_000
# The errors for what falls out of bounds. AppSync's errorType for the resolver count is the one users
# report ("ResolverExecutionLimitReached"); the other two are this server's names (docs/deploy-checks.md).
RESOLVER_LIMIT = ("ResolverExecutionLimitReached", "Resolver invocation limit reached.")
DEPTH_LIMIT = "QueryDepthLimitReached"
TIME_LIMIT = ("ExecutionTimeout", "Execution timed out.")


@dataclass(frozen=True)
class GraphqlLimits:
    """The limits of one request: query depth (None: none), resolver invocations, and seconds (None: none)."""

    depth: int | None = None
    resolvers: int = APPSYNC_MAX_RESOLVERS
    seconds: float | None = None

    @classmethod
    def from_project(cls) -> GraphqlLimits:
        """The stack's settings (cdk.json, then STACK_GRAPHQL_QUERY_DEPTH_LIMIT, ...) and the function's timeout."""
        from infra.config import project_config

        config = project_config()
        return cls(
            depth=config.graphql_query_depth_limit,
            resolvers=config.graphql_resolver_count_limit,
            seconds=float(config.timeout_seconds),
        )


class Budget:
    """One request's account: invocations made, and the time left (see the module docstring)."""

    def __init__(self, limits: GraphqlLimits) -> None:
        self.limits = limits
        self.invocations = 0
        self.until = None if limits.seconds is None else time.monotonic() + limits.seconds

    def admit(self) -> float | None:
        """Count one more invocation and return the seconds it may run (None: unbounded); or raise its error."""
        if self.invocations >= self.limits.resolvers:
            raise _error(*RESOLVER_LIMIT)
        if self.until is None:
            self.invocations += 1
            return None
        left = self.until - time.monotonic()
        if left <= 0:
            raise _error(*TIME_LIMIT)
        self.invocations += 1
        return left


def _error(error_type: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"errorType": error_type})


def operation_depth(document: DocumentNode, operation_name: str | None = None) -> int:
    """How deeply the operation to run nests its fields (a root field is 1), fragments expanded.

    Run after validation, which refuses cycles of fragments.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]

    def depth(selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                deepest = max(deepest, 1 + depth(node.selection_set))
            elif isinstance(node, InlineFragmentNode):
                deepest = max(deepest, depth(node.selection_set))
            else:
                fragment = fragments.get(node.name.value)
                deepest = max(deepest, depth(fragment.selection_set if fragment else None))
        return deepest

    return max((depth(o.selection_set) for o in chosen), default=0)


def depth_guard(limit: int) -> Callable[..., Any]:
    """Execution middleware: a field nested deeper than `limit` resolves to the depth error."""

    def guard(resolve: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        level = sum(1 for key in info.path.as_list() if isinstance(key, str))
        if level > limit:
            raise _error(DEPTH_LIMIT, f"Query depth limit of {limit} reached.")
        return resolve(root, info, **arguments)

    return guard
