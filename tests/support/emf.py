"""Reading what the function writes to stdout: CloudWatch embedded metric format (EMF) lines and JSON logs."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def emf_lines(text: str) -> list[dict[str, Any]]:
    """Every EMF line in `text` (a JSON object with `_aws.CloudWatchMetrics`)."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{") and '"_aws"' in line:
            lines.append(json.loads(line))
    return lines


def metrics_of(line: dict[str, Any]) -> dict[str, tuple[str, float]]:
    """name -> (unit, value) of one EMF line, checked against the EMF specification's shape."""
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert isinstance(line["_aws"]["Timestamp"], int)
    for dimension_set in directive["Dimensions"]:
        for name in dimension_set:
            assert isinstance(line[name], str), f"dimension {name} must be a string property"
    found = {}
    for definition in directive["Metrics"]:
        value = line[definition["Name"]]
        # A plain number, so Logs Insights sees a plain field (an array would be `Name.0`).
        assert isinstance(value, (int, float)) and not isinstance(value, bool), value
        found[definition["Name"]] = (definition["Unit"], value)
    return found


def dimensions_of(line: dict[str, Any]) -> dict[str, str]:
    """The dimension names and values of one EMF line."""
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    return {name: line[name] for names in directive["Dimensions"] for name in names}


@contextmanager
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines Powertools Logger writes while the block runs (its handler's stream, redirected)."""
    from aws_lambda_powertools import Logger

    handler = Logger().registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(json.loads(line) for line in buffer.getvalue().splitlines() if line.strip())
