"""`make help` is read by people: every target's description is plain text, no unexpanded $(VARIABLE)."""

from __future__ import annotations

import subprocess

from tests.local.conftest import ROOT


def test_make_help_lists_targets_without_literal_make_variables():
    done = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("make serve") for line in lines)
    assert not [line for line in lines if "$(" in line]
