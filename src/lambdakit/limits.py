"""What one request may cost: Lambda's payload limit and the JSON budgets (lambdakit.settings) every input is held to.

A warm function lives for hours and serves thousands of clients, so no single request may take its
memory or time from the others. Sizes follow Lambda's own limit (it counts the whole invoke payload,
the event as JSON), and JSON is counted and measured before anything large is built from it.
"""

from __future__ import annotations

import re

from lambdakit.errors import BadRequest, PayloadTooLarge
from lambdakit.settings import limits

# Lambda refuses a synchronous invoke whose payload is 6 MiB or more (RequestEntityTooLargeException):
# the function answers 413 for a body over it, and the local server refuses such an event, as Lambda would.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# A JSON string, written as the unrolled loop: linear, with no backtracking per character.
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


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
