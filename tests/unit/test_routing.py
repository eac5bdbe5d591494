"""Route registration rejects mistakes early, and events of unknown shape get a clear answer."""

from __future__ import annotations

import pytest

from lambdakit.router import Router


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("FETCH", "/students", "unknown HTTP method"),
        ("GET", "students", "malformed path"),
        ("GET", "/students/{student-id}", "malformed path"),
        ("GET", "/students//x", "malformed path"),
    ],
)
def test_bad_rest_routes_are_refused_at_import(method, path, message):
    with pytest.raises(ValueError, match=message):
        Router().rest(method, path)


def test_the_same_route_twice_is_refused():
    router = Router()
    router.rest("GET", "/a")(lambda: None)
    with pytest.raises(ValueError, match="already claimed"):
        router.rest("get", "/a")(lambda: None)
    router.graphql("Query", "a")(lambda: None)
    with pytest.raises(ValueError, match="already claimed"):
        router.graphql("Query", "a")(lambda: None)
    router.direct("a")(lambda: None)
    with pytest.raises(ValueError, match="already claimed"):
        router.direct("a")(lambda: None)


def test_decorators_return_the_function_unchanged():
    def fn():
        return 1

    router = Router()
    assert router.rest("GET", "/x")(router.graphql("Query", "x")(router.direct("x")(fn))) is fn


def test_an_event_of_unknown_shape_gets_a_400_envelope():
    assert Router().handle({"hello": "world"}, None)["error"]["status"] == 400
    assert Router().handle(["batch"], None)["error"]["status"] == 400


def test_a_crashing_route_is_a_500_without_details():
    router = Router()

    @router.direct("crash")
    def crash():
        raise RuntimeError("SELECT secret FROM vault")

    assert router.handle({"route": "crash"}, None) == {"error": {"status": 500, "message": "internal error"}}


def test_a_route_raising_method_not_allowed_answers_405_with_allow():
    from lambdakit.errors import MethodNotAllowed
    from local.events import rest_v1_event

    router = Router()

    @router.rest("POST", "/jobs/{jobId}/cancel")
    def cancel(job_id: int):
        raise MethodNotAllowed("job 1 is finished: only GET", ["GET"])

    response = router.handle(rest_v1_event("POST", "/jobs/1/cancel", "", [], b""), None)
    assert response["statusCode"] == 405
    assert response["multiValueHeaders"]["Allow"] == ["GET"]


def test_a_503_that_knows_when_to_retry_says_so_in_retry_after_and_in_the_direct_error():
    from lambdakit.errors import ServiceUnavailable
    from local.events import rest_v1_event

    router = Router()

    @router.rest("GET", "/busy")
    @router.direct("busy")
    def busy():
        raise ServiceUnavailable("database is at its connection limit, try again shortly", retry_after=2)

    @router.rest("GET", "/down")
    def down():
        raise ServiceUnavailable("database unavailable, try again shortly")

    response = router.handle(rest_v1_event("GET", "/busy", "", [], b""), None)
    assert response["statusCode"] == 503 and response["multiValueHeaders"]["Retry-After"] == ["2"]
    assert "Retry-After" not in router.handle(rest_v1_event("GET", "/down", "", [], b""), None)["multiValueHeaders"]
    assert router.handle({"route": "busy"}, None)["error"]["retryAfter"] == 2
