"""One truth for routes: what the source says (the scan) must be what the code registers (an import).

The stack is built from the scan (infra/routes.py), which reads the decorators with `ast` and never
runs the user's code. A route registered some other way (inside a helper function, in a loop, on a
router made at run time) would be served by `make serve` and missing from the deployed API, where the
path falls to the catch-all and answers 404. So synth also imports the Lambda module, in a separate
Python process with src/ first on its path (this process never imports user code), reads the table
its router built, and stops with every route the two tables do not agree on, named.

An import that fails for want of a package from outside src/ (synth may run where the function's
packages are not installed) is a warning, and the stack is built from the source alone; any other
failure at import would fail the function's cold start too, and stops synth with its file and line.

Also here: route modules under src/ that nothing includes (reported, not refused: a module kept aside
is not an error, but it is never served), found by parsing every module of src/, which also turns a
syntax error anywhere there into one `file:line` message before the package is built.

    python -m infra.route_check [src/lambda_function.py]   exit 1 with the differences (make synth runs it)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.literals import Module, SourceTree
from infra.routes import SIGNATURES, RouteError, Routes, aliases_of, router_names, scan_routes
from lambdakit.routemodel import describe

# Folders of src/ that hold no route modules: the template's machinery, schema files, caches.
_SKIPPED = {"lambdakit", "migrations", "__pycache__", "tests"}
# Run in a fresh interpreter: import the Lambda module from its own folder and write its router's table.
_PROBE = """
import json, os, sys, traceback
folder, module_name, router_name, out = sys.argv[1:5]
sys.path.insert(0, folder)


def missing_package(exc):
    # A package this environment lacks, as opposed to a module of src/ that is missing a name.
    if not isinstance(exc, ImportError):
        return False
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = os.path.join(folder, exc.name.split(".")[0])
        return not (os.path.isfile(top + ".py") or os.path.isdir(top))
    frames = traceback.extract_tb(exc.__traceback__)
    path = exc.path or (frames[-1].filename if frames else "")
    return not str(path).startswith(folder)


try:
    routes = list(getattr(__import__(module_name), router_name).routes)
    from lambdakit.routemodel import describe
    answer = {"routes": [dict(describe(route), where=route.where) for route in routes]}
except BaseException as exc:
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}: "
    else:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(folder)]
        where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    error = where + type(exc).__name__ + (f": {exc}" if str(exc) else "")
    answer = {"error": error, "missing_package": missing_package(exc)}
with open(out, "w", encoding="utf-8") as file:
    json.dump(answer, file, default=repr)
"""


class MissingPackage(RouteError):
    """The Lambda module imports a package this environment does not have: its routes cannot be checked here."""


@dataclass(frozen=True)
class Unincluded:
    """A module of src/ whose router has routes that the Lambda module does not include."""

    module: str
    router: str
    path: Path
    line: int
    routes: tuple[str, ...]

    def message(self, lambda_file: Path) -> str:
        """One line saying which routes are not served and the line that would serve them."""
        shown = ", ".join(self.routes[:3]) + (f" and {len(self.routes) - 3} more" if len(self.routes) > 3 else "")
        return (
            f"{_shown(self.path)}:{self.line}: routes nothing includes, never served: {shown}"
            f" (add `import {self.module}` and `router.include({self.module}.{self.router})` to {_shown(lambda_file)})"
        )


def checked_routes(lambda_file: str | Path, warn: Callable[[str], None] | None = None) -> Routes:
    """The scanned routes, once an import of the module agrees with them; RouteError naming every difference.

    `warn` receives one line per route module nothing includes (default: printed to stderr).
    """
    lambda_file = _relative(Path(lambda_file))  # messages name files as the developer sees them
    routes = scan_routes(lambda_file)
    for module in unincluded_modules(routes):
        (warn or _warn)(f"warning: {module.message(lambda_file)}")
    try:
        imported = imported_routes(lambda_file, _handler_router(routes))
    except MissingPackage as exc:
        (warn or _warn)(f"warning: {exc}; the routes are read from the source alone (make install to check them)")
        return routes
    differences = compare(routes, imported)
    if differences:
        raise RouteError(
            f"{_shown(lambda_file)}: the routes the stack reads from the source and the routes an import"
            " registers differ (the stack is built from the source, so these would not be deployed as served):\n  - "
            + "\n  - ".join(differences)
        )
    return routes


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _handler_router(routes: Routes) -> str:
    return routes.routers[0][1] if routes.routers else "router"


def imported_routes(lambda_file: Path, router: str = "router") -> list[dict[str, Any]]:
    """Every route the module's `router` holds after an import in a fresh interpreter, as `describe` gives it."""
    folder = str(lambda_file.resolve().parent)
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_INITIALIZATION_TYPE"}
    with tempfile.TemporaryDirectory(prefix="route-check-") as scratch:
        out = Path(scratch) / "routes.json"
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, folder, lambda_file.stem, router, str(out)],
            check=False,
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if not out.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RouteError(f"{_shown(lambda_file)}: importing it to check its routes failed: {last}")
        answer = json.loads(out.read_text(encoding="utf-8"))
    if "error" in answer:
        failure = MissingPackage if answer.get("missing_package") else RouteError
        error = answer["error"].replace(folder + os.sep, _shown(lambda_file.parent) + os.sep)
        raise failure(f"{_shown(lambda_file)}: importing it to check its routes failed: {error}")
    return answer["routes"]


def compare(scanned: Routes, imported: Iterable[dict[str, Any]]) -> list[str]:
    """One line per route the scan and the import do not agree on, naming it, its function and where it is."""
    source = {d["route"]: d for d in (_comparable(describe(r), r.where) for r in scanned.table)}
    runtime = {d["route"]: d for d in (_comparable(d, d.get("where", "")) for d in imported)}
    differences = []
    for label, found in runtime.items():
        if label not in source:
            differences.append(
                f"{label} ({found['function']}() at {found['where']}) is registered when the module is imported,"
                " but the source does not show it: write its decorator on a module-level function, on a router"
                " made at module level and included by the Lambda module"
            )
    for label, found in source.items():
        if label not in runtime:
            differences.append(
                f"{label} ({found['function']}() at {found['where']}) is in the source, but an import does not"
                " register it (is its module or include() inside a condition?)"
            )
        elif _without_where(found) != _without_where(runtime[label]):
            other = runtime[label]
            fields = sorted(k for k in found.keys() | other.keys() if k != "where" and found.get(k) != other.get(k))
            detail = "; ".join(
                f"{key}: the source says {found.get(key)!r}, the import {other.get(key)!r}" for key in fields
            )
            differences.append(f"{label} ({found['function']}() at {found['where']}): {detail}")
    return differences


def _comparable(described: dict[str, Any], where: str) -> dict[str, Any]:
    """A description as JSON gives it back (tuples as lists), so both sides compare alike; `where` as shown."""
    prefix = str(Path.cwd()) + os.sep
    shown = where[len(prefix) :] if where.startswith(prefix) else where
    return {**json.loads(json.dumps(described, default=repr, sort_keys=True)), "where": shown}


def _without_where(described: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in described.items() if key != "where"}


def unincluded_modules(routes: Routes, src_root: Path | None = None) -> list[Unincluded]:
    """Route modules under src/ (a module-level Router with route decorators) that the scan did not reach.

    Every module of src/ is parsed, so a syntax error anywhere there is a RouteError naming its file and line.
    """
    root = Path(src_root) if src_root is not None else routes.file.parent
    reached = set(routes.routers)
    tree = SourceTree(root)
    found = []
    for path in _modules(root):
        module = tree.parse(_module_name(path, root), path)
        for router in router_names(module):
            if (module.name, router) in reached:
                continue
            decorated = _route_decorators(module, aliases_of(module, router))
            if decorated:
                line = decorated[0][0]
                found.append(Unincluded(module.name, router, path, line, tuple(label for _, label in decorated)))
    return found


def _modules(root: Path) -> list[Path]:
    files = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not d.startswith("."))
        files += [Path(directory, n) for n in sorted(names) if n.endswith(".py")]
    return files


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _route_decorators(module: Module, aliases: set[str]) -> list[tuple[int, str]]:
    """(line, route as written) of each route decorator on the router anywhere in the module, in source order."""
    found = []
    for node in ast.walk(module.tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            if (
                isinstance(target, ast.Attribute)
                and target.attr in SIGNATURES
                and isinstance(target.value, ast.Name)
                and target.value.id in aliases
            ):
                found.append((decorator.lineno, _written(target.attr, call)))
    return sorted(found)


def _written(kind: str, call: ast.Call | None) -> str:
    """`GET /reports/count`, `GraphQL Query.report`, `direct 'report'`: the arguments, where they are literals."""
    args = [a.value for a in (call.args if call is not None else []) if isinstance(a, ast.Constant)]
    if kind == "rest" and len(args) >= 2:
        return f"{str(args[0]).upper()} {args[1]}"
    if kind == "graphql" and len(args) >= 2:
        return f"GraphQL {args[0]}.{args[1]}"
    if kind == "direct" and args:
        return f"direct {args[0]!r}"
    if kind == "schedule" and args:
        return f"job {args[0]}"
    if kind == "queue" and args:
        return f"queue {args[0]!r}"
    return f"@{kind}()"


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _shown(path: Path) -> str:
    return str(_relative(path))


def main(argv: list[str] | None = None) -> int:
    """Check the routes before anything is built: exit 1 with the differences, one `file:line` message each."""
    parser = argparse.ArgumentParser(prog="python -m infra.route_check", description=__doc__)
    parser.add_argument("lambda_file", nargs="?", type=Path, help="default: the stack's lambdaFile (cdk.json)")
    parser.add_argument("--quiet", action="store_true", help="errors only: leave the warnings to synth itself")
    args = parser.parse_args(argv)
    lambda_file = args.lambda_file
    if lambda_file is None:
        from infra.config import project_config

        lambda_file = project_config().lambda_file
    try:
        checked_routes(lambda_file, warn=(lambda _line: None) if args.quiet else None)
    except RouteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
