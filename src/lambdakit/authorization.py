"""The function's own check of who may call a route: defence in depth behind API Gateway and AppSync.

The gateway authenticates (and AppSync checks groups); REST and HTTP APIs cannot check Cognito groups,
and a direct invoke passes no gateway at all, so the route's declared `groups`/`scopes` are enforced
here for every source, and a route that needs a signed-in caller refuses an anonymous one.
"""

from __future__ import annotations

from lambdakit.errors import Forbidden, Unauthorized
from lambdakit.request import Incoming
from lambdakit.routemodel import Spec
from lambdakit.settings import default_auth


def authorize(spec: Spec, incoming: Incoming) -> None:
    """401 when the route needs a caller and has none, 403 when the caller lacks its groups or scopes.

    A direct invoke is authenticated by IAM (`lambda:InvokeFunction`): only the groups and scopes the
    route declares are checked, against the `caller` the invoker passed. Only what the route names is
    read from the event: which authorizer vouched, then the groups or scopes it requires.
    """
    mode = "none" if incoming.source == "direct" else spec.access(default_auth())
    if mode == "none" and not spec.restricted:
        return
    if incoming.caller_kind() == "anonymous":
        raise Unauthorized("Unauthorized")
    if spec.groups:
        groups = incoming.caller_groups()
        if groups is None:
            # The gateway's string could name these groups or others (lambdakit.claims): never guess.
            raise Forbidden(f"requires group {' or '.join(spec.groups)}; the caller's groups are ambiguous")
        if not set(spec.groups).intersection(groups):
            raise Forbidden(f"requires group {' or '.join(spec.groups)}")
    if spec.scopes and not set(spec.scopes).intersection(incoming.caller_scopes()):
        raise Forbidden(f"requires scope {' or '.join(spec.scopes)}")
