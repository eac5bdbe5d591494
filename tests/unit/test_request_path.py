"""One request read in one direction: the steps never call back into the router, decorators apply in any
order, query parameters go by their documented names, and the caller is read once and only when needed.

No database: the routes here are plain functions (module-level where the decorator order is under test,
since the router serves what the module binds to a function's name).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest

from lambdakit import Caller, Request
from lambdakit.request import Incoming
from lambdakit.router import Router
from local.events import appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support.identities import as_user

router = Router()


def shouting(fn):
    """A decorator of the user's own, as `@transaction` is one: it keeps `__wrapped__`, as functools.wraps does."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return {key: value.upper() for key, value in fn(*args, **kwargs).items()}

    return wrapper


@shouting
@router.rest("GET", "/above/{name}")
@router.direct("above")
def above(name: str) -> dict:
    return {"name": name}


@router.rest("GET", "/below/{name}")
@shouting
@router.direct("below")
def below(name: str) -> dict:
    return {"name": name}


@router.rest("GET", "/courses")
@router.graphql("Query", "courses")
@router.direct("courses")
def courses(course_id: int | None = None, tags: list[str] | None = None, caller: Caller = None) -> dict:
    return {"course_id": course_id, "tags": tags, "who": caller.kind}


@router.rest("GET", "/anything")
def anything(**inputs: str) -> dict:
    return inputs


def _body(answer: dict) -> dict:
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])


def _get(path: str, query: str = "") -> dict:
    return router.handle(rest_v1_event("GET", path, query, [], b""), None)


@pytest.mark.parametrize("path", ["/above/ada", "/below/ada"])
def test_a_decorator_above_or_between_the_route_decorators_wraps_what_every_route_serves(path):
    assert _body(_get(path)) == {"name": "ADA"}
    name = path.split("/")[1]
    assert router.handle(direct_event(name, name="ada"), None) == {"data": {"name": "ADA"}}


def test_a_route_function_defined_inside_another_function_is_served_as_registered():
    local = Router()

    @shouting
    @local.rest("GET", "/inner")
    def inner() -> dict:
        return {"name": "ada"}

    assert _body(local.handle(rest_v1_event("GET", "/inner", "", [], b""), None)) == {"name": "ada"}


def test_query_parameters_are_taken_by_their_documented_name_and_another_spelling_is_a_400_naming_it():
    assert _body(_get("/courses", "courseId=7&tags=a&tags=b"))["courseId"] == 7
    answer = _get("/courses", "course_id=7")
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {"message": "course_id: unknown parameter, the query parameter is courseId"}
    assert json.loads(_get("/courses", "nope=1")["body"]) == {"message": "nope: unknown parameter"}
    assert _body(_get("/anything", "someThing=1")) == {"someThing": "1"}  # **kwargs takes any name


def test_the_query_parameter_of_a_list_is_split_on_commas_only_from_an_http_api():
    event = http_v2_event("GET", "/courses", query="tags=a,b&courseId=1")
    assert _body(router.handle(event, None))["tags"] == ["a", "b"]


def test_no_step_of_a_request_calls_back_into_the_router():
    """Each step is called by the dispatch and returns to it; none calls a function of router.py itself."""
    events = [
        as_user(rest_v1_event("GET", "/courses", "courseId=1", [], b"")),
        as_user(http_v2_event("GET", "/courses", query="courseId=1")),
        as_user(appsync_event("Query", "courses", {"courseId": 1})),
        as_user(direct_event("courses", courseId=1)),
    ]
    router.handle(events[0], None)  # the table is built on the first event
    entered: list[str] = []

    def profile(frame, what, _arg):
        if what == "call" and frame.f_code.co_filename.endswith(os.path.join("lambdakit", "router.py")):
            caller = frame.f_back.f_code.co_filename if frame.f_back else ""
            if not caller.endswith(os.path.join("lambdakit", "router.py")) and frame.f_code.co_name != "handle":
                entered.append(f"{os.path.basename(caller)} -> {frame.f_code.co_name}")

    for event in events:
        sys.setprofile(profile)
        try:
            router.handle(event, None)
        finally:
            sys.setprofile(None)
    assert entered == []


def test_the_caller_is_read_once_and_a_rest_check_of_the_kind_builds_no_caller():
    incoming = Incoming(as_user(rest_v1_event("GET", "/courses", "", [], b"")), None, "rest")
    assert incoming.caller_kind() == "cognito"
    assert incoming._caller is None
    assert incoming.caller is incoming.caller
    assert isinstance(incoming.request, Request) and incoming.request is incoming.request


def test_graphql_is_answered_without_loading_powertools_event_handler(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        "from lambdakit import Router\n"
        "from local.events import appsync_event\n"
        "router = Router()\n"
        "@router.graphql('Query', 'hello')\n"
        "def hello(name: str) -> str:\n"
        "    return 'hello ' + name\n"
        "assert router.handle(appsync_event('Query', 'hello', {'name': 'ada'}), None) == 'hello ada'\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_lambda_powertools.event_handler')))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(root, "src"), root])}
    done = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True, env=env)
    assert done.stdout.strip().splitlines()[-1] == "[]"
