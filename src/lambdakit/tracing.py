"""SQL subsegments in X-Ray through Powertools Tracer, only when the settings turn tracing on.

Off (the default) `cursor_class` returns the plain cursor and nothing here imports the tracer, so
aws_xray_sdk is never loaded and the cold start does not grow. On, each statement runs inside a
subsegment named after the statement, never its text or its values:

- a first-line comment `-- name: get_student` (the convention of aiosql, PugSQL and sqlc) names it;
- otherwise the name is the statement's operation and table, as OpenTelemetry names database spans
  (`SELECT students`, `INSERT students`): readable in the trace map without any change to the SQL.

A failed statement is annotated with its SQLSTATE only: X-Ray would otherwise store the driver's
message, which can quote values.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from lambdakit.settings import tracing_enabled

_IDENTIFIER = r'((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)'


class _Patterns:
    """Compiled on first use: with tracing off they are never needed, and compiling costs 1 ms of cold start."""

    def __init__(self) -> None:
        self.name_comment = re.compile(r"\A\s*--\s*name:\s*([A-Za-z0-9_.:-]{1,100})")
        self.leading_comments = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
        self.literals = re.compile(r"'(?:[^']|'')*'")
        source = re.compile(rf"\bFROM\s+(?:ONLY\s+)?{_IDENTIFIER}", re.IGNORECASE)
        self.table = {
            "SELECT": source,
            "DELETE": source,
            "INSERT": re.compile(rf"\bINTO\s+{_IDENTIFIER}", re.IGNORECASE),
            "UPDATE": re.compile(rf"\AUPDATE\s+(?:ONLY\s+)?{_IDENTIFIER}", re.IGNORECASE),
        }


@cache
def _patterns() -> _Patterns:
    return _Patterns()


def cursor_class(base: type) -> type:
    """`base` when tracing is off; with tracing on, a subclass whose statements are subsegments."""
    return _traced(base) if tracing_enabled() else base


@lru_cache(maxsize=256)
def statement_name(sql: str) -> str:
    """What a statement is called in a trace: its `-- name:` comment, else `OPERATION table`."""
    patterns = _patterns()
    named = patterns.name_comment.match(sql)
    if named:
        return named.group(1)
    text = patterns.literals.sub("''", sql[patterns.leading_comments.match(sql).end() :])
    words = text.split(None, 1)
    if not words:
        return "SQL"
    operation = words[0].upper().rstrip(";")
    if not operation.isalpha():
        return "SQL"
    pattern = patterns.table.get(operation)
    found = pattern.search(text) if pattern else None
    return f"{operation} {found.group(1).replace(chr(34), '')}" if found else operation


def _sql_text(query: Any, cursor: Any) -> str:
    if isinstance(query, str):
        return query
    if isinstance(query, bytes):
        return query.decode("utf-8", "replace")
    return query.as_string(cursor)  # psycopg2.sql.Composed


@cache
def _traced(base: type) -> type:
    from aws_lambda_powertools import Tracer

    # No auto-patching: X-Ray's own psycopg2 patch would send the SQL text. botocore is patched so
    # the Secrets Manager call shows in the trace (its parameters are not recorded).
    tracer = Tracer(auto_patch=False)
    tracer.patch(["botocore"])
    provider = tracer.provider

    def traced(run: Any, cursor: Any, query: Any, arguments: Any) -> None:
        error: BaseException | None = None
        with provider.in_subsegment(name=statement_name(_sql_text(query, cursor)), namespace="remote") as segment:
            try:
                run(query, arguments)
            except Exception as exc:
                error = exc
                segment.put_annotation("sqlstate", getattr(exc, "pgcode", None) or type(exc).__name__)
        if error is not None:
            raise error

    class TracedCursor(base):
        """The same cursor, each statement in its own X-Ray subsegment."""

        def execute(self, query: Any, vars: Any = None) -> None:
            traced(super().execute, self, query, vars)

        def executemany(self, query: Any, vars_list: Any) -> None:
            traced(super().executemany, self, query, vars_list)

    return TracedCursor
