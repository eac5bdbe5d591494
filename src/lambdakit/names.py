"""How a name reads outside (camelCase, the API's) and inside (snake_case, Python's and SQL's).

The one place either conversion is written: the runtime, the route model, the documents and the
stack all spell a field the same way. Standard library only (synth imports it). Each name is
converted once and remembered, since the same column names repeat on every row; the memories are
bounded because clients choose names too, and a warm function must not grow with what it is sent.
"""

from __future__ import annotations

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")
_LIMIT = 4096
# name -> converted name; hot loops (lambdakit.jsonio) read these before calling the functions.
CAMEL: dict[str, str] = {}
SNAKE: dict[str, str] = {}


def camel_case(name: str) -> str:
    """`student_id` -> `studentId`: how a Python name appears in the API (no underscore: as it is)."""
    converted = CAMEL.get(name)
    if converted is None:
        head, *rest = name.split("_")
        converted = head + "".join(part[:1].upper() + part[1:] for part in rest) if rest else name
        _remember(CAMEL, name, converted)
    return converted


def snake_case(name: str) -> str:
    """`studentId` -> `student_id`: how an API name appears in Python and SQL."""
    converted = SNAKE.get(name)
    if converted is None:
        converted = _CAMEL_BOUNDARY.sub(r"_\1", name).lower()
        _remember(SNAKE, name, converted)
    return converted


def _remember(memory: dict[str, str], name: str, converted: str) -> None:
    if len(memory) >= _LIMIT:
        memory.clear()
    memory[name] = converted
