"""`make serve` starts one worker per CPU it may use, from 2 to 4, unless WORKERS says otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from local import workers

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("cpus", "expected"), [(1, 2), (2, 2), (3, 3), (4, 4), (16, 4)])
def test_one_worker_per_usable_cpu_never_fewer_than_two_nor_more_than_four(monkeypatch, cpus, expected):
    monkeypatch.delenv("WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert workers.default_workers() == expected


def test_workers_in_the_environment_win_over_the_cpu_count(monkeypatch):
    monkeypatch.setenv("WORKERS", "7")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert workers.default_workers() == 7


def test_without_an_affinity_call_the_cpu_count_decides(monkeypatch):
    monkeypatch.delenv("WORKERS", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert workers.default_workers() == 3


def _serve_command(*arguments: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "WORKERS"}
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in shown.splitlines() if "run_local.py serve" in line)


def test_make_serve_leaves_the_count_to_the_server_unless_workers_is_given():
    assert "--workers" not in _serve_command()
    assert _serve_command("WORKERS=3").rstrip().endswith("--workers 3")
