"""HTTP calls that keep the figures the fault table needs: requests, failures, max latency."""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.faults.report import Outcome, record
from tests.support.identities import bearer


@functools.cache
def _signed_in() -> dict[str, str]:
    return bearer()


@dataclass
class Answer:
    """One HTTP answer as the client saw it (status None: no answer at all, e.g. a timeout)."""

    status: int | None
    body: Any
    seconds: float
    content_type: str = ""


@dataclass
class Tally:
    """The running figures of one scenario."""

    scenario: str
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, method: str, url: str, *, session: requests.Session | None = None, **kwargs: Any) -> Answer:
        """Send one request (15 s timeout: a hang is a failure too) and keep its figures."""
        # Signed in as a user in every group: these scenarios are about the database, not authorization.
        kwargs["headers"] = {**_signed_in(), **(kwargs.get("headers") or {})}
        started = time.monotonic()
        try:
            response = (session or requests).request(method, url, timeout=15, **kwargs)
        except requests.RequestException as exc:
            answer = Answer(None, repr(exc), time.monotonic() - started)
        else:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            content_type = response.headers.get("content-type", "")
            answer = Answer(response.status_code, body, time.monotonic() - started, content_type)
        with self.lock:
            self.answers.append(answer)
        return answer

    @property
    def failures(self) -> list[Answer]:
        """Every answer that was not a 2xx."""
        return [a for a in self.answers if a.status is None or not 200 <= a.status < 300]

    def record(self, *, lost_writes: int = 0, expected: str = "") -> Outcome:
        """Add this scenario's row to the fault table."""
        return record(
            Outcome(
                self.scenario,
                len(self.answers),
                len(self.failures),
                lost_writes,
                max((a.seconds for a in self.answers), default=0.0),
                expected,
            )
        )


def spread(tally: Tally, base: str, workers: int, *, rounds: int = 8) -> set[int]:
    """Hit every worker: concurrent slow requests, since a busy worker cannot accept the next connection.

    Returns the worker pids that answered; stops as soon as all `workers` have.
    """
    seen: set[int] = set()
    for _ in range(rounds):
        with ThreadPoolExecutor(max_workers=workers * 2) as pool:
            answers = list(pool.map(lambda _: tally.call("GET", f"{base}/sleep?seconds=0.2"), range(workers * 2)))
        seen |= {a.body["worker"] for a in answers if a.status == 200}
        if len(seen) >= workers:
            break
    return seen
