"""`python run_local.py EVENT` runs a named event of events/ through the project's handler and prints the result.

Run in a copy of the project whose src/ is the fixture app (tests/support/app) and whose events/ holds
events written here, so what is shown is the command, whatever the project's own routes and events are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.events import appsync_event, direct_event, rest_v1_event
from tests.support import app
from tests.support.identities import as_user

EVENTS = {
    "get_widget": as_user(
        rest_v1_event(
            "GET", "/widgets/1", "", [], b"", resource="/widgets/{widgetId}", path_parameters={"widgetId": "1"}
        )
    ),
    "get_missing_widget": as_user(rest_v1_event("GET", "/widgets/987654", "", [], b"")),
    "direct_get_widget": as_user(direct_event("get_widget", widgetId=2)),
    "graphql_get_widget": as_user(appsync_event("Query", "getWidget", {"widgetId": 3})),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose code is the fixture app, with the events above in its events/."""
    copy = app.write_project(tmp_path_factory.mktemp("project"))
    (copy / "events").mkdir()
    for name, event in EVENTS.items():
        (copy / "events" / f"{name}.json").write_text(json.dumps(event, indent=2))
    return copy


def run_local(project: Path, pg, *args: str) -> subprocess.CompletedProcess:
    """`python run_local.py ARGS` in `project` against the test database, as a developer would run it."""
    return subprocess.run(
        [sys.executable, "run_local.py", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": pg.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def result_of(out: subprocess.CompletedProcess, name: str) -> object:
    assert out.returncode == 0, out.stderr
    assert f"--- event events/{name}.json" in out.stdout
    return json.loads(out.stdout.split("--- result\n", 1)[1])


def test_a_rest_event_prints_the_event_and_the_answer_with_its_json_body_readable(project, pg):
    result = result_of(run_local(project, pg, "get_widget"), "get_widget")
    assert result["statusCode"] == 200
    assert {k: result["body"][k] for k in app.FIRST_ROW} == app.FIRST_ROW


def test_an_error_answer_is_printed_as_the_handler_gave_it(project, pg):
    result = result_of(run_local(project, pg, "get_missing_widget.json"), "get_missing_widget")
    assert result["statusCode"] == 404 and result["body"] == {"message": "widget 987654 not found"}


@pytest.mark.parametrize(("name", "widget_id"), [("direct_get_widget", 2), ("graphql_get_widget", 3)])
def test_direct_and_graphql_events_print_their_own_answer_shapes(project, pg, name, widget_id):
    result = result_of(run_local(project, pg, name), name)
    row = result["data"] if name.startswith("direct") else result
    assert row["widgetId"] == widget_id


def test_an_unknown_event_name_lists_the_known_ones(project, pg):
    out = run_local(project, pg, "no_such_event")
    assert out.returncode == 2
    assert out.stdout.strip() == f"no event 'no_such_event' in events/; known: {', '.join(sorted(EVENTS))}"
