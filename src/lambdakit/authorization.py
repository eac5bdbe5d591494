"""The function's own check of who may call a route: defence in depth behind API Gateway and AppSync.

The gateway authenticates (and AppSync checks groups); REST and HTTP APIs cannot check Cognito groups,
and a direct invoke passes no gateway at all, so the route's declared `groups`/`scopes` are enforced
here for every source, and a route that needs a signed-in caller refuses an anonymous one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lambdakit.errors import Forbidden, Unauthorized
from lambdakit.routemodel import Spec


@lru_cache(maxsize=1)
def default_auth() -> str:
    """The stack's `auth` (the stack sets AUTH on the function; the local server does the same)."""
    return os.environ.get("AUTH", "").strip().lower() or "none"


def authorize(spec: Spec, source: str, injected: Callable[[str], Any]) -> None:
    """401 when the route needs a caller and has none, 403 when the caller lacks its groups or scopes.

    A direct invoke is authenticated by IAM (`lambda:InvokeFunction`): only the groups and scopes the
    route declares are checked, against the `caller` the invoker passed.
    """
    mode = "none" if source == "direct" else spec.access(default_auth())
    if mode == "none" and not spec.restricted:
        return
    if not spec.restricted:
        # Any signed-in caller will do: which authorizer vouched is enough, no Caller is built (the warm path).
        if injected("caller_kind") == "anonymous":
            raise Unauthorized("Unauthorized")
        return
    if injected("caller_kind") == "anonymous":
        raise Unauthorized("Unauthorized")
    # Only what the route names is read from the claims: a whole Caller is built when the function asks.
    if spec.groups and not set(spec.groups).intersection(injected("caller_groups")):
        raise Forbidden(f"requires group {' or '.join(spec.groups)}")
    if spec.scopes and not set(spec.scopes).intersection(injected("caller_scopes")):
        raise Forbidden(f"requires scope {' or '.join(spec.scopes)}")
