"""The scanner: the routes of `src/lambda_function.py` and the route modules it includes, read with `ast`.

Synth must work where psycopg2 and the Lambda's other packages are not installed, so the files are
parsed, never imported. What the decorators say goes through the route model's own constructors
(lambdakit/routemodel.py), the ones the runtime registers with, so a path, a parameter or a clash is
judged alike at import, at synth and on the local server. Anything the stack cannot know statically
is an error that names the file and line, rather than a silently missing route.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.literals import Module, SourceTree
from lambdakit.routemodel import (
    DirectRoute,
    GraphqlRoute,
    Param,
    QueueConsumer,
    RestRoute,
    RouteError,
    RouteTable,
    ScheduledJob,
    Spec,
    annotation_type,
    check_inputs,
    direct_route,
    graphql_route,
    queue_consumer,
    rest_route,
    scheduled_job,
)

# The decorators' signatures, as the runtime's Router methods declare them (a unit test compares).
_ACCESS = {"auth": None, "groups": None, "scopes": None}
SIGNATURES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "rest": (
        ("method", "path"),
        {"status": 200, "body": None, "response": None, "params": None, "summary": None, **_ACCESS},
    ),
    "graphql": (("type_name", "field_name"), {"body": None, "response": None, **_ACCESS}),
    "direct": (("name",), {"body": None, "groups": None, "scopes": None}),
    "schedule": (("expression",), {"timezone": None, "name": None}),
    "queue": (("queue",), {"batch_size": 10, "max_receives": 5}),
}
_DECLARED = ("body", "response", "params", "summary", "auth", "groups", "scopes")
_ROUTER_MODULES = ("lambdakit", "lambdakit.router")

__all__ = [
    "DirectRoute",
    "GraphqlRoute",
    "QueueConsumer",
    "RestRoute",
    "RouteError",
    "Routes",
    "ScheduledJob",
    "scan_routes",
    "scan_source",
]


@dataclass
class Routes:
    """Every route the Lambda module serves (its own and its included modules'), as route-model records.

    `routers` names each (module, router variable) the scan reached through `include()`, the Lambda
    module's own router first.
    """

    file: Path
    table: RouteTable
    routers: tuple[tuple[str, str], ...] = ()

    @property
    def rest(self) -> tuple[RestRoute, ...]:
        """REST routes, in registration order."""
        return self.table.rest

    @property
    def graphql(self) -> tuple[GraphqlRoute, ...]:
        """GraphQL resolvers, in registration order."""
        return self.table.graphql

    @property
    def direct(self) -> tuple[DirectRoute, ...]:
        """Direct routes (never exposed through an API)."""
        return self.table.direct

    @property
    def jobs(self) -> tuple[ScheduledJob, ...]:
        """Scheduled jobs, in registration order."""
        return self.table.jobs

    @property
    def queues(self) -> tuple[QueueConsumer, ...]:
        """Queue consumers, in registration order."""
        return self.table.queues


def scan_routes(path: str | Path) -> Routes:
    """Scan the Lambda module at `path` (its folder is the root of its imports); RouteError on anything ambiguous."""
    path = Path(path)
    if not path.is_file():
        raise RouteError(f"{path}: cannot read the Lambda module (no such file)")
    return scan_source(path.read_text(encoding="utf-8"), path, path.parent)


def scan_source(source: str, path: str | Path = "<string>", src_root: str | Path | None = None) -> Routes:
    """Scan Python source text as the Lambda module; `src_root` is where the modules it includes live."""
    path = Path(path)
    tree = SourceTree(Path(src_root) if src_root is not None else path.parent)
    module = tree.parse(path.stem, path, source)
    table = RouteTable()
    seen: dict[tuple[str, str], None] = {}
    for router in router_names(module):
        _scan_router(tree, module, router, table, seen)
        break  # the handler's router is the first one the module makes; the rest arrive by include()
    return Routes(path, table, tuple(seen))


def _scan_router(
    tree: SourceTree, module: Module, router: str, table: RouteTable, seen: dict[tuple[str, str], None]
) -> None:
    """Add the routes registered on `module.router`, then those of the routers it includes, as the runtime does."""
    if (module.name, router) in seen:
        raise RouteError(f"{module.path}: router {router} includes itself")
    seen[(module.name, router)] = None
    aliases = aliases_of(module, router)
    for node in module.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _scan_function(tree, module, node, aliases, table)
    for node in module.tree.body:
        included = _included(tree, module, node, aliases)
        if included is not None:
            _scan_router(tree, *included, table, seen)


def router_names(module: Module) -> list[str]:
    """Names bound at module level to a new Router, in source order."""
    names = []
    for node in module.tree.body:
        targets, value = _assignment(node)
        if isinstance(value, ast.Call) and _is_router_class(module, value.func):
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def aliases_of(module: Module, router: str) -> set[str]:
    """`router` and the plain aliases of it (`r = router`)."""
    names = {router}
    for node in module.tree.body:
        targets, value = _assignment(node)
        if isinstance(value, ast.Name) and value.id in names:
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _is_router_class(module: Module, func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        base, attr = module.imports.get(func.id, ("", None))
        return attr == "Router" and base in _ROUTER_MODULES
    if isinstance(func, ast.Attribute) and func.attr == "Router" and isinstance(func.value, ast.Name):
        base, attr = module.imports.get(func.value.id, ("", None))
        return (f"{base}.{attr}" if attr else base) in _ROUTER_MODULES
    return False


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [node.target], node.value
    return [], None


def _included(tree: SourceTree, module: Module, node: ast.stmt, aliases: set[str]) -> tuple[Module, str] | None:
    """The (module, router name) of a top-level `router.include(students.router)`."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "include"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in aliases
    ):
        return None
    where = f"{module.path}:{node.lineno}"
    if len(call.args) != 1 or call.keywords:
        raise RouteError(f"{where}: include() takes one router")
    target = call.args[0]
    if isinstance(target, ast.Attribute):
        owner = tree.resolve_module(module, target.value)
        if owner is not None:
            return tree.module(owner), target.attr  # type: ignore[return-value]
    if isinstance(target, ast.Name):
        if target.id in router_names(module):
            return module, target.id
        base, attr = module.imports.get(target.id, ("", None))
        if attr is not None and tree.module(base) is not None:
            return tree.module(base), attr  # type: ignore[return-value]
    raise RouteError(f"{where}: include({ast.unparse(target)}) must name the router of a module in src/")


def _scan_function(
    tree: SourceTree, module: Module, node: ast.FunctionDef | ast.AsyncFunctionDef, aliases: set[str], table: RouteTable
) -> None:
    """Each route decorator of one function becomes a record, bottom-up (the order Python applies them)."""
    found = []
    for decorator in reversed(node.decorator_list):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (
            isinstance(target, ast.Attribute)
            and target.attr in SIGNATURES
            and isinstance(target.value, ast.Name)
            and target.value.id in aliases
        ):
            found.append((target.attr, decorator))
    if not found:
        return
    where = f"{module.path}:{node.lineno}"
    if isinstance(node, ast.AsyncFunctionDef):
        raise RouteError(f"{where}: {node.name}() is async; route functions are plain functions")
    calls = []
    declared: dict[str, Any] = {}
    for kind, decorator in found:
        line = f"{module.path}:{decorator.lineno}"
        if not isinstance(decorator, ast.Call):
            raise RouteError(f"{line}: @{kind} on {node.name}() needs arguments")
        arguments = _arguments(tree, module, decorator, kind=kind, function=node.name, where=line)
        for key in _DECLARED:
            value = arguments.pop(key, None)
            if value is None:
                continue
            if isinstance(value, list) and key in ("groups", "scopes"):
                value = tuple(value)  # as the runtime stores them
            if key in declared and declared[key] != value:
                raise RouteError(f"{line}: {key}= is declared twice on {node.name}() with different values")
            declared[key] = value
        calls.append((kind, arguments, line))
    spec = _spec(node, declared, where)
    for kind, arguments, line in calls:
        common = {"module": module.name, "spec": spec, "where": line}
        try:
            if kind == "rest":
                record: Any = rest_route(
                    arguments["method"], arguments["path"], node.name, status=arguments["status"], **common
                )
            elif kind == "graphql":
                record = graphql_route(arguments["type_name"], arguments["field_name"], node.name, **common)
            elif kind == "schedule":
                name = arguments["name"] or node.name
                timezone = arguments["timezone"]
                record = scheduled_job(name, arguments["expression"], node.name, timezone=timezone, **common)
            elif kind == "queue":
                options = {"batch_size": arguments["batch_size"], "max_receives": arguments["max_receives"]}
                record = queue_consumer(arguments["queue"], node.name, **options, **common)
            else:
                record = direct_route(arguments["name"], node.name, **common)
            check_inputs(record)
            table.add(record)
        except RouteError as exc:
            raise RouteError(f"{line}: {exc}") from None


def _arguments(
    tree: SourceTree, module: Module, call: ast.Call, *, kind: str, function: str, where: str
) -> dict[str, Any]:
    """The decorator's arguments bound to its signature, each evaluated statically."""
    positional, optional = SIGNATURES[kind]
    if any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) > len(positional):
        raise RouteError(f"{where}: @{kind} on {function}() takes {len(positional)} positional argument(s)")
    nodes: dict[str, ast.expr] = dict(zip(positional, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is None:
            raise RouteError(f"{where}: **kwargs in @{kind} on {function}() cannot be read statically")
        if keyword.arg not in positional and keyword.arg not in optional:
            raise RouteError(f"{where}: @{kind}() got an unexpected keyword argument {keyword.arg!r} on {function}()")
        if keyword.arg in nodes:
            raise RouteError(f"{where}: {keyword.arg} given twice on {function}()")
        nodes[keyword.arg] = keyword.value
    missing = [name for name in positional if name not in nodes]
    if missing:
        raise RouteError(f"{where}: @{kind} on {function}() is missing {missing[0]}")
    values = dict(optional)
    for name, value in nodes.items():
        values[name] = tree.value(module, value, f"{name} of @{kind} on {function}()")
    return values


def _spec(node: ast.FunctionDef, declared: dict[str, Any], where: str) -> Spec:
    """The function's parameters as the router will bind them (without `@transaction`'s connection)."""
    args = node.args
    if args.posonlyargs or args.vararg:
        raise RouteError(f"{where}: {node.name}(): route parameters must be passable by name")
    named = [*args.args, *args.kwonlyargs]
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults) + list(args.kw_defaults)
    pairs = list(zip(named, defaults, strict=True))
    if any(_is_transaction(d) for d in node.decorator_list):
        if not pairs:
            raise RouteError(f"{where}: {node.name}(): a @transaction function takes the connection as first parameter")
        pairs = pairs[1:]
    parameters = []
    for arg, default in pairs:
        kind, items = annotation_type(ast.unparse(arg.annotation) if arg.annotation is not None else None)
        parameters.append(Param(arg.arg, kind, items, default is None))
    doc = ast.get_docstring(node) or ""
    summary = declared.pop("summary", None) or (doc.strip().splitlines()[0] if doc.strip() else "")
    try:
        return Spec(tuple(parameters), args.kwarg is not None, summary=summary, **declared)
    except TypeError as exc:
        raise RouteError(f"{where}: {exc}") from None


def _is_transaction(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "transaction") or (
        isinstance(target, ast.Attribute) and target.attr == "transaction"
    )
