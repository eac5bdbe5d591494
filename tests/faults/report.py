"""The fault table: each scenario records what it measured; `make faults` prints it after the run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    """What one scenario measured; `failures` counts non-2xx answers, `expected` says which were by design."""

    scenario: str
    requests: int
    failures: int
    lost_writes: int
    max_latency_s: float
    expected: str = ""


OUTCOMES: list[Outcome] = []


def record(outcome: Outcome) -> Outcome:
    """Keep a scenario's figures for the table (one pytest process collects them all)."""
    OUTCOMES.append(outcome)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    """The figures as a Markdown table, in scenario order."""
    lines = [
        "| scenario | requests | failures | lost writes | max latency | failures were |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for o in sorted(outcomes, key=lambda o: _order(o.scenario)):
        lines.append(
            f"| {o.scenario} | {o.requests} | {o.failures} | {o.lost_writes} | {o.max_latency_s:.2f} s "
            f"| {o.expected or '-'} |"
        )
    return "\n".join(lines)


def _order(scenario: str) -> tuple[int, str]:
    head = scenario.split(".", 1)[0].split(" ", 1)[0]
    return (int(head) if head.isdigit() else 99, scenario)


def write_if_asked(outcomes: list[Outcome]) -> Path | None:
    """Also write the table to $FAULTS_TABLE (make faults keeps a copy for docs/reliability.md)."""
    target = os.environ.get("FAULTS_TABLE")
    if not target or not outcomes:
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table(outcomes) + "\n")
    return path
