"""The scanner: reads the route decorators of `src/lambda_function.py` with `ast`, never importing it.

Synth must work where psycopg2 and the Lambda's other packages are not installed, so the file is
parsed, not executed. Anything the stack cannot know statically (a non-literal argument) is an
error that names the file and line, rather than a silently missing route.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_PARAM_SEGMENT = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")
_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
_DIRECT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

# Keyword spellings accepted besides positional arguments, per decorator.
_ARGUMENTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rest": (("method",), ("path",)),
    "graphql": (("type_name", "type", "parent_type"), ("field", "field_name")),
    "direct": (("name",),),
}


class RouteError(ValueError):
    """A decorator the stack cannot be built from; the message starts with `file:line:`."""


@dataclass(frozen=True)
class RestRoute:
    """One `@router.rest(method, path)`."""

    method: str
    path: str
    function: str
    line: int


@dataclass(frozen=True)
class GraphqlRoute:
    """One `@router.graphql(type, field)`."""

    type_name: str
    field: str
    function: str
    line: int


@dataclass(frozen=True)
class DirectRoute:
    """One `@router.direct(name)`; never exposed through API Gateway or AppSync."""

    name: str
    function: str
    line: int


@dataclass
class Routes:
    """Every route of one Lambda module, in source order."""

    file: Path
    rest: list[RestRoute] = field(default_factory=list)
    graphql: list[GraphqlRoute] = field(default_factory=list)
    direct: list[DirectRoute] = field(default_factory=list)


def scan_routes(path: str | Path) -> Routes:
    """Parse `path` and return its routes; raise RouteError on anything ambiguous."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteError(f"{path}: cannot read the Lambda module ({exc.strerror})") from exc
    return scan_source(source, path)


def scan_source(source: str, path: str | Path = "<string>") -> Routes:
    """Scan Python source text; `path` is only used in error messages."""
    path = Path(path)
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise RouteError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
    routes = Routes(file=path)
    routers = _router_names(tree)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                _add_route(routes, routers, decorator, node.name, path)
    _check_duplicates(routes)
    _check_rest_tree(routes)
    return routes


def _router_names(tree: ast.Module) -> set[str]:
    """Names bound at module level to a Router instance, including plain aliases (`r = router`)."""
    router_classes = {"Router"}
    router_modules = {"routing"}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in ("routing", "lambdakit", "lambdakit.router"):
            router_classes |= {a.asname or a.name for a in node.names if a.name == "Router"}
        elif isinstance(node, ast.Import):
            router_modules |= {a.asname or a.name for a in node.names if a.name == "routing"}
        targets, value = _assignment(node)
        if value is None:
            continue
        if _is_router_call(value, router_classes, router_modules) or (
            isinstance(value, ast.Name) and value.id in names
        ):
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [node.target], node.value
    return [], None


def _is_router_call(value: ast.expr, classes: set[str], modules: set[str]) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in classes
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "Router"
        and isinstance(func.value, ast.Name)
        and func.value.id in modules
    )


def _add_route(routes: Routes, routers: set[str], decorator: ast.expr, function: str, path: Path) -> None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not (
        isinstance(target, ast.Attribute)
        and target.attr in _ARGUMENTS
        and isinstance(target.value, ast.Name)
        and target.value.id in routers
    ):
        return
    kind, line = target.attr, decorator.lineno
    where = f"{path}:{line}"
    if not isinstance(decorator, ast.Call):
        raise RouteError(f"{where}: @{target.value.id}.{kind} on {function}() needs arguments")
    values = _literal_arguments(decorator, kind, function, where)
    if kind == "rest":
        method, route_path = values[0].upper(), values[1]
        if method not in HTTP_METHODS:
            raise RouteError(
                f"{where}: unknown HTTP method {values[0]!r} on {function}()"
                f" (expected one of {', '.join(sorted(HTTP_METHODS))})"
            )
        _check_path(route_path, function, where)
        routes.rest.append(RestRoute(method, route_path, function, line))
    elif kind == "graphql":
        for value in values:
            if not _GRAPHQL_NAME.match(value):
                raise RouteError(f"{where}: {value!r} on {function}() is not a GraphQL name")
        routes.graphql.append(GraphqlRoute(values[0], values[1], function, line))
    else:
        if not _DIRECT_NAME.match(values[0]):
            raise RouteError(f"{where}: {values[0]!r} on {function}() is not a valid direct name")
        routes.direct.append(DirectRoute(values[0], function, line))


def _literal_arguments(call: ast.Call, kind: str, function: str, where: str) -> list[str]:
    """The decorator's arguments as strings, positional or keyword; anything else is an error."""
    spellings = _ARGUMENTS[kind]
    found: list[ast.expr | None] = [None] * len(spellings)
    if len(call.args) > len(spellings) or any(isinstance(a, ast.Starred) for a in call.args):
        raise RouteError(f"{where}: @{kind} on {function}() takes {len(spellings)} argument(s)")
    for index, arg in enumerate(call.args):
        found[index] = arg
    for keyword in call.keywords:
        if keyword.arg is None:
            raise RouteError(f"{where}: **kwargs in @{kind} on {function}() cannot be scanned")
        for index, names in enumerate(spellings):
            if keyword.arg in names:
                if found[index] is not None:
                    raise RouteError(f"{where}: {keyword.arg} given twice on {function}()")
                found[index] = keyword.value
        # Other keywords (e.g. validation options) are the runtime's business, not the stack's.
    values = []
    for names, node in zip(spellings, found, strict=True):
        if node is None:
            raise RouteError(f"{where}: @{kind} on {function}() is missing {names[0]}")
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise RouteError(
                f"{where}: {names[0]} of @{kind} on {function}() must be a string literal, got {ast.unparse(node)!r}"
            )
        values.append(node.value)
    return values


def _check_path(route_path: str, function: str, where: str) -> None:
    def fail(reason: str) -> RouteError:
        return RouteError(f"{where}: malformed path {route_path!r} on {function}(): {reason}")

    if route_path == "/":
        return
    if not route_path.startswith("/"):
        raise fail("it must start with '/'")
    if route_path.endswith("/"):
        raise fail("no trailing '/'")
    segments = route_path[1:].split("/")
    params: set[str] = set()
    for index, segment in enumerate(segments):
        if not segment:
            raise fail("empty segment")
        match = _PARAM_SEGMENT.match(segment)
        if match:
            name, greedy = match.groups()
            if name in params:
                raise fail(f"parameter {{{name}}} appears twice")
            if greedy and index != len(segments) - 1:
                raise fail(f"greedy {segment} must be the last segment")
            params.add(name)
        elif not _LITERAL_SEGMENT.match(segment):
            raise fail(f"segment {segment!r} is neither a literal nor {{param}}")


def _check_duplicates(routes: Routes) -> None:
    seen: dict[tuple[str, ...], tuple[str, int]] = {}
    claims = (
        [(("REST", r.method, r.path), r.function, r.line) for r in routes.rest]
        + [(("GraphQL", r.type_name, r.field), r.function, r.line) for r in routes.graphql]
        + [(("direct", r.name), r.function, r.line) for r in routes.direct]
    )
    for key, function, line in claims:
        if key in seen:
            first_function, first_line = seen[key]
            raise RouteError(
                f"{routes.file}:{line}: {' '.join(key)} on {function}() is already claimed by"
                f" {first_function}() at line {first_line}"
            )
        seen[key] = (function, line)


def _check_rest_tree(routes: Routes) -> None:
    """API Gateway allows one variable child per resource: /a/{id} and /a/{key} cannot coexist."""
    variable_child: dict[str, tuple[str, RestRoute]] = {}
    for route in routes.rest:
        parent = ""
        for segment in route.path.strip("/").split("/") if route.path != "/" else []:
            if segment.startswith("{"):
                previous = variable_child.setdefault(parent, (segment, route))
                if previous[0] != segment:
                    raise RouteError(
                        f"{routes.file}:{route.line}: {route.path} on {route.function}() names"
                        f" {segment} where {previous[1].path} (line {previous[1].line}) names"
                        f" {previous[0]}; API Gateway needs one name per position"
                    )
            parent += "/" + segment
