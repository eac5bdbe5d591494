"""The template's machinery, through one short facade: `from lambdakit import Router, NotFound, Response`.

Your code (routes, SQL, schemas, migrations) lives beside this package in src/; everything in here is
the template's, and nothing in here imports the modules beside it (`@transaction` and the cached
connection are one of them, the template's but short enough to read in one sitting). Names load on
first use (PEP 562), so importing one part (the route model, at synth) pulls in neither psycopg2 nor
Powertools, and a cold start loads only what the function uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> module that defines it; the stack's scanner reads this table too (infra/literals.py).
_EXPORTS = {
    "Router": "lambdakit.router",
    "Request": "lambdakit.request",
    "Caller": "lambdakit.request",
    "Response": "lambdakit.response",
    "redirect": "lambdakit.response",
    "validate": "lambdakit.validation",
    "ApiError": "lambdakit.errors",
    "BadRequest": "lambdakit.errors",
    "NotFound": "lambdakit.errors",
    "Unauthorized": "lambdakit.errors",
    "Forbidden": "lambdakit.errors",
    "Conflict": "lambdakit.errors",
    "ServiceUnavailable": "lambdakit.errors",
    "DEFAULT_LIMIT": "lambdakit.pagination",
    "PAGE_PARAMS": "lambdakit.pagination",
    "encode_cursor": "lambdakit.pagination",
    "decode_cursor": "lambdakit.pagination",
    "enqueue": "lambdakit.outbox",
    "purge_outbox": "lambdakit.outbox",
    "Message": "lambdakit.background",
}
__all__ = [  # noqa: RUF022 - the order of _EXPORTS
    "Router", "Request", "Caller", "Response", "redirect", "validate", "ApiError",
    "BadRequest", "NotFound", "Unauthorized", "Forbidden", "Conflict", "ServiceUnavailable", "DEFAULT_LIMIT",
    "PAGE_PARAMS", "encode_cursor", "decode_cursor", "enqueue", "purge_outbox", "Message",
]  # fmt: skip

if TYPE_CHECKING:
    from lambdakit.background import Message
    from lambdakit.errors import (
        ApiError,
        BadRequest,
        Conflict,
        Forbidden,
        NotFound,
        ServiceUnavailable,
        Unauthorized,
    )
    from lambdakit.outbox import enqueue, purge_outbox
    from lambdakit.pagination import DEFAULT_LIMIT, PAGE_PARAMS, decode_cursor, encode_cursor
    from lambdakit.request import Caller, Request
    from lambdakit.response import Response, redirect
    from lambdakit.router import Router
    from lambdakit.validation import validate


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambdakit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
