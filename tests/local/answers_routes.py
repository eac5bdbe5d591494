"""Routes that answer beyond plain JSON and show who called: served by the local-server tests from a copy of src/."""

from __future__ import annotations

from lambdakit import Caller, Request, Response, Router, redirect

router = Router()

# A PNG signature and bytes that are not UTF-8: they must arrive exactly as written.
PIXEL = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256))


@router.rest("GET", "/answers/whoami")
@router.graphql("Query", "whoami")
@router.direct("whoami")
def whoami(caller: Caller, request: Request) -> dict:
    """Who called, as the route sees it, and one of the request's headers."""
    return {
        "kind": caller.kind,
        "username": caller.username,
        "groups": list(caller.groups),
        "principal": caller.principal,
        "trace": request.header("X-Trace"),
        "source": request.source,
    }


@router.rest("GET", "/answers/source-ip", auth="none")
def source_ip(request: Request) -> dict:
    """The caller's address as the gateway reports it."""
    return {"source_ip": request.source_ip}


@router.rest("GET", "/answers/reports", scopes=["reports/read"])
def reports(caller: Caller) -> dict:
    """A route for an access token carrying a scope."""
    return {"scopes": list(caller.scopes), "username": caller.username}


@router.rest("GET", "/answers/pixel.png", auth="none")
def pixel() -> Response:
    """A binary download with caching headers."""
    return Response(PIXEL, content_type="image/png", headers={"Cache-Control": "public, max-age=60", "ETag": '"px1"'})


@router.rest("GET", "/answers/report.csv", auth="none")
def report() -> Response:
    """Text that is not JSON."""
    return Response("a,b\n1,2\n", content_type="text/csv; charset=utf-8")


@router.rest("GET", "/answers/old", auth="none")
def old() -> Response:
    """Moved for good."""
    return redirect("/answers/pixel.png", 301)


@router.rest("POST", "/answers/session", auth="none", status=201)
def session() -> Response:
    """Two cookies at once (API Gateway needs them apart: multiValueHeaders or `cookies`)."""
    return Response({"signed_in": True}, cookies=["sid=abc; HttpOnly; Secure; Path=/", "theme=dark; Path=/"])


SCHEMA_EXTRA = """
type Caller { kind: String username: String groups: [String] principal: String trace: String source: String }
extend type Query { whoami: Caller }
"""
