"""What one request may cost: the budgets every input is held to, read once from the environment.

A warm function lives for hours and serves thousands of clients, so no single request may take its
memory or time from the others. Sizes follow Lambda's own limit (it counts the whole invoke payload,
the event as JSON), and JSON is counted and measured before anything large is built from it.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from lambdakit.errors import BadRequest, PayloadTooLarge
from lambdakit.routemodel import record  # a frozen record without @dataclass's import cost

# Lambda refuses a synchronous invoke whose payload is 6 MiB or more (RequestEntityTooLargeException).
MAX_EVENT_BYTES = 6 * 1024 * 1024
# A JSON string, written as the unrolled loop: linear, with no backtracking per character.
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


@record()
class Limits:
    """Per-request budgets (README, Limits): JSON nesting depth and the number of JSON values in a body."""

    json_depth: int = 64
    json_values: int = 100_000


@lru_cache(maxsize=1)
def limits() -> Limits:
    """The budgets of this execution environment: `MAX_JSON_DEPTH`, `MAX_JSON_VALUES` (tests call cache_clear)."""
    defaults = Limits()
    return Limits(
        json_depth=_positive("MAX_JSON_DEPTH", defaults.json_depth),
        json_values=_positive("MAX_JSON_VALUES", defaults.json_values),
    )


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def check_json_text(text: str, where: str = "body") -> None:
    """Refuse JSON text over the budgets before it is parsed: 413 for too many values, 400 for too deep.

    Counting costs a few passes in C over the text: brackets and commas give an upper bound on the
    values; only when that bound is over the budget are strings stripped to count exactly.
    """
    budget = limits()
    opens = text.count("[") + text.count("{")
    if opens + text.count(",") + 1 > budget.json_values:
        structure = _STRINGS.sub('""', text)
        opens = structure.count("[") + structure.count("{")
        values = opens + structure.count(",") + 1
        if values > budget.json_values:
            raise PayloadTooLarge(f"{where}: more than {budget.json_values} JSON values")
    else:
        structure = None
    if opens > budget.json_depth:
        depth = deepest = 0
        for bracket in _BRACKETS.findall(structure if structure is not None else _STRINGS.sub('""', text)):
            depth += 1 if bracket in "[{" else -1
            deepest = max(deepest, depth)
        if deepest > budget.json_depth:
            raise BadRequest(f"{where}: JSON is nested more than {budget.json_depth} levels deep")
