"""Tracing on demand: off, the tracer's modules are never imported; on, each SQL statement is an X-Ray subsegment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.app import APP_DIR

ROOT = Path(__file__).resolve().parents[2]

_OFF = """
import json, sys
import db_utils, lambda_function
from local.events import direct_event
assert "data" in lambda_function.handler(direct_event("get_widget", widgetId=1), None)
conn, _ = db_utils.get_connection()
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("aws_xray_sdk", "wrapt")),
    "cursor": conn.cursor_factory.__name__,
}))
"""

# A Lambda with active tracing: the trace header the runtime sets, and an emitter that keeps what X-Ray would get.
_ON = """
import json
sent = []
class Emitter:
    def send_entity(self, entity):
        sent.append(entity.to_dict())
    def set_daemon_address(self, address):
        pass
import lambda_function
from aws_xray_sdk.core import xray_recorder
xray_recorder.configure(emitter=Emitter())
from local.events import direct_event
assert "data" in lambda_function.handler(direct_event("get_widget", widgetId=1), None)
print(json.dumps(sent, default=str))
"""


def _run(code: str, database_url: str, **env: str) -> str:
    environ = {
        "DATABASE_URL": database_url,
        # A fresh process whose Lambda package is the fixture app.
        "PYTHONPATH": f"{APP_DIR}:{ROOT / 'src'}:{ROOT}",
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_SERVICE_NAME": "widgets-api",
        **env,
    }
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_with_tracing_off_the_tracer_modules_are_never_imported(pg):
    probe = json.loads(_run(_OFF, pg.url))
    assert probe == {"loaded": [], "cursor": "DictCursor"}


def test_with_tracing_on_each_statement_is_a_subsegment_named_without_its_text_or_values(pg):
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    sent = json.loads(_run(_ON, pg.url, TRACING="true", LAMBDA_TASK_ROOT=str(ROOT), _X_AMZN_TRACE_ID=trace))
    sql = [s for s in sent if s.get("namespace") == "remote" and s["name"].startswith("SELECT")]
    assert [s["name"] for s in sql] == ["SELECT fixture_widgets"]
    assert sql[0]["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    text = json.dumps(sent)
    assert "widget_id" not in text and "%(" not in text and "WHERE" not in text
