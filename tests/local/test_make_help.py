"""`make help` is read by people: every target's description is plain text, no unexpanded $(VARIABLE)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.local.conftest import ROOT


def test_make_help_lists_targets_without_literal_make_variables():
    done = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("make serve") for line in lines)
    assert not [line for line in lines if "$(" in line]


def test_make_token_without_user_signs_for_a_named_developer_and_an_empty_user_is_refused():
    import jwt

    env = {k: v for k, v in os.environ.items() if k not in {"USER", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    done = subprocess.run(["make", "-s", "token"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    claims = jwt.decode(done.stdout.split()[-1], options={"verify_signature": False})
    assert claims["cognito:username"] == "developer"
    empty = [sys.executable, "run_local.py", "token", "--user", ""]
    refused = subprocess.run(empty, cwd=ROOT, capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "--user needs a name" in refused.stderr
