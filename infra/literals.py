"""Constants read from source text: what a route decorator's schemas are, without running the module.

A decorator may name a schema (`body=NEW_STUDENT`) written as a literal elsewhere in the module, or in
another module of src/ it imports from. Synth never imports the Lambda's code, so the value is
evaluated here from the `ast`: literals, names bound once at module level to such values, `**`
and `|` merges, and plain arithmetic. Anything else is a RouteError that says what could not be read.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.routemodel import RouteError

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.BitOr: operator.or_,
}


@dataclass
class Module:
    """One parsed module of src/: its tree, its top-level bindings and where its imports lead."""

    name: str
    path: Path
    tree: ast.Module
    assignments: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


class SourceTree:
    """The modules under one folder (src/), parsed on demand and evaluated statically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._modules: dict[str, Module | None] = {}
        self._evaluating: set[tuple[str, str]] = set()

    def module(self, name: str) -> Module | None:
        """The module `a.b` as src/a/b.py or src/a/b/__init__.py; None when it is not part of src/."""
        if name not in self._modules:
            relative = Path(*name.split("."))
            found = None
            for candidate in (self.root / relative.with_suffix(".py"), self.root / relative / "__init__.py"):
                if candidate.is_file():
                    found = self.parse(name, candidate)
                    break
            self._modules[name] = found
        return self._modules[name]

    def parse(self, name: str, path: Path, source: str | None = None) -> Module:
        """Parse one file as module `name`; RouteError (file:line) on a syntax error."""
        try:
            text = source if source is not None else path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RouteError(f"{path}: cannot read the module ({exc.strerror})") from exc
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as exc:
            raise RouteError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from exc
        module = Module(name, path, tree)
        package = name.rsplit(".", 1)[0] if path.name != "__init__.py" and "." in name else name
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                module.assignments[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                module.assignments[node.target.id] = node.value
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        module.imports[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        module.imports[top] = (top, None)
            elif (isinstance(node, ast.ImportFrom) and node.module is not None) or isinstance(node, ast.ImportFrom):
                base = _absolute(node.module, node.level, package)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (base, alias.name)
        self._modules[name] = module
        return module

    def resolve_module(self, module: Module, expr: ast.expr) -> str | None:
        """The dotted name of the module an expression like `students` or `pkg.students` refers to."""
        if isinstance(expr, ast.Name) and expr.id in module.imports:
            base, attr = module.imports[expr.id]
            candidate = f"{base}.{attr}" if attr else base
            return candidate if self.module(candidate) is not None else None
        if isinstance(expr, ast.Attribute):
            parent = self.resolve_module(module, expr.value)
            if parent is not None and self.module(f"{parent}.{expr.attr}") is not None:
                return f"{parent}.{expr.attr}"
        return None

    def value(self, module: Module, expr: ast.expr, what: str) -> Any:
        """Evaluate `expr` as written in `module`; RouteError naming `what` when it is not a constant."""
        try:
            return self._value(module, expr)
        except _NotConstant as exc:
            raise RouteError(
                f"{module.path}:{expr.lineno}: {what} must be a literal or a constant defined in src/,"
                f" got {ast.unparse(expr)!r} ({exc})"
            ) from None

    def lookup(self, module_name: str, name: str) -> tuple[Module, ast.expr] | None:
        """Where `name` is bound in `module_name`: its own assignment, an import, or the facade's export table."""
        module = self.module(module_name)
        if module is None:
            return None
        if name in module.assignments:
            return module, module.assignments[name]
        if name in module.imports:
            base, attr = module.imports[name]
            return self.lookup(base, attr) if attr else None
        exports = module.assignments.get("_EXPORTS")
        if isinstance(exports, ast.Dict):
            # The facade (lambdakit/__init__.py) maps each name it offers to the module defining it.
            for key, target in zip(exports.keys, exports.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == name and isinstance(target, ast.Constant):
                    return self.lookup(str(target.value), name)
        return None

    def _value(self, module: Module, expr: ast.expr) -> Any:
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            items: list[Any] = []
            for element in expr.elts:
                if isinstance(element, ast.Starred):
                    items.extend(self._value(module, element.value))
                else:
                    items.append(self._value(module, element))
            return items
        if isinstance(expr, ast.Dict):
            result: dict[Any, Any] = {}
            for key, item in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    result.update(self._value(module, item))
                else:
                    result[self._value(module, key)] = self._value(module, item)
            return result
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            number = self._value(module, expr.operand)
            return -number if isinstance(expr.op, ast.USub) else +number
        if isinstance(expr, ast.BinOp) and type(expr.op) in _OPERATORS:
            return _OPERATORS[type(expr.op)](self._value(module, expr.left), self._value(module, expr.right))
        if isinstance(expr, ast.Name):
            return self._named(module.name, expr.id)
        if isinstance(expr, ast.Attribute):
            owner = self.resolve_module(module, expr.value)
            if owner is not None:
                return self._named(owner, expr.attr)
        raise _NotConstant("not a literal")

    def _named(self, module_name: str, name: str) -> Any:
        key = (module_name, name)
        if key in self._evaluating:
            raise _NotConstant(f"{name} refers to itself")
        found = self.lookup(module_name, name)
        if found is None:
            raise _NotConstant(f"{name} is not bound to a constant in {module_name}")
        self._evaluating.add(key)
        try:
            return self._value(*found)
        finally:
            self._evaluating.discard(key)


class _NotConstant(Exception):
    pass


def _absolute(module: str | None, level: int, package: str) -> str:
    """`from .x import y` inside `package` -> `package.x`."""
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, module] if module else parts)
