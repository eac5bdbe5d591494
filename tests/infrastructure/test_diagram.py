"""The architecture page draws what the routes ask for: APIs for routes, a scheduler for jobs, queues for consumers."""

from __future__ import annotations

import textwrap
from pathlib import Path

from infra import diagram
from infra.config import project_config
from infra.routes import scan_source

SOURCE = """
from lambdakit import Router

router = Router()


@router.rest("GET", "/things")
def things(): ...


@router.schedule("rate(1 hour)")
def hourly(): ...
"""

CONSUMER = """

@router.queue("restocks")
def restock(message): ...


@router.schedule("rate(10 minutes)", name="relay_outbox")
def relay(): ...
"""


def _page(tmp_path: Path, source: str) -> str:
    routes = scan_source(textwrap.dedent(source), tmp_path / "lambda_function.py", tmp_path)
    return diagram.page(routes, project_config({}))


def test_jobs_are_drawn_as_schedules_and_consumers_as_queues_the_function_sends_to(tmp_path):
    page = _page(tmp_path, SOURCE + CONSUMER)
    assert 'scheduler["EventBridge Scheduler<br/>2 jobs"]' in page
    assert "SQS: restocks" in page and "fn -.->|sends after commit| queues" in page and "queues -->|batches| fn" in page
    assert "| queue `restocks` | `restock` |" in page


def test_without_a_queue_there_is_no_queue_and_the_outbox_relay_is_not_scheduled(tmp_path):
    relay_only = """
from lambdakit import Router

router = Router()


@router.schedule("rate(10 minutes)", name="relay_outbox")
def relay(): ...
"""
    assert "relay_outbox" in {job.name for job in scan_source(relay_only, tmp_path / "lf.py", tmp_path).jobs}
    page = _page(tmp_path, relay_only)
    assert "SQS" not in page and "EventBridge Scheduler" not in page and "relay_outbox" not in page
