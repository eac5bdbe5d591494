"""Signed-in callers for tests that exercise routes requiring one: the same identity in every event shape.

`as_user(event)` puts a Cognito-style identity where each source carries it (REST v1 and HTTP v2
`requestContext.authorizer`, AppSync `identity`, a direct invoke's `caller`); `bearer()` is the
header the local server takes. Tests about something else than authorization sign in as a user in
every group the routes under test name (the fixture app's, and the sample's), so a change of groups
is a change of one line here.
"""

from __future__ import annotations

from typing import Any

import requests

from local.auth import Identity, appsync_identity, attach_http, attach_rest
from local.tokens import claims_for, issue_token, sign_claims

EVERY_GROUP = ("staff", "admin")


def as_user(event: dict[str, Any], groups: tuple[str, ...] = EVERY_GROUP, user: str = "tester") -> dict[str, Any]:
    """`event` as the gateway (or the invoker) would send it for `user` in `groups`.

    An API Gateway event carries the token's claims and, as the gateway passes it on, the token itself.
    """
    claims = claims_for(user, groups)
    if "httpMethod" in event:
        return attach_rest(event, Identity(claims=claims, token=sign_claims(claims)))
    if event.get("version") == "2.0":
        attach_http(event, Identity(claims=claims, token=sign_claims(claims)))
    elif "info" in event:
        event["identity"] = appsync_identity(Identity(claims=claims))
    else:
        event["caller"] = {"subject": claims["sub"], "username": user, "groups": list(groups)}
    return event


def bearer(groups: tuple[str, ...] = EVERY_GROUP, user: str = "tester") -> dict[str, str]:
    """The Authorization header of a local token for `user` in `groups`."""
    return {"Authorization": f"Bearer {issue_token(user, groups)}"}


def signed_in_session(groups: tuple[str, ...] = EVERY_GROUP, user: str = "tester") -> requests.Session:
    """A requests session that sends a local token for `user` in `groups` with every request."""
    session = requests.Session()
    session.headers.update(bearer(groups, user))
    return session
