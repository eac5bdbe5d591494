"""`make route NAME=...`: a user's first change in one step, and the tests that read the project's code still pass.

The scaffolded module's own tests run, beside the smoke suite and every suite that imports the project's
handler, migrations or seed (the sample's, when it is there), in a copy of the project.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.routes import scan_routes
from local.scaffold import next_migration, scaffold, singular, try_it
from tests.local.conftest import ROOT

# The suites besides the smoke test that import the project's handler or apply its migrations and seed.
READ_THE_PROJECT = ["tests/local/test_migrations.py", "tests/local/test_database_commands.py"]
_SKIP = shutil.ignore_patterns(".venv", ".git", "node_modules", ".local", "cdk.out", ".build", "__pycache__", "*.pyc")


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project to change, as a fresh clone would be."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=_SKIP)
    return copy


def test_names_become_a_singular_row_name_or_are_refused():
    assert singular("courses") == "course" and singular("categories") == "category"
    assert singular("staff") is None and singular("class") is None


@pytest.mark.slow
def test_a_scaffolded_table_and_route_module_are_served_scanned_and_tested_and_the_template_tests_still_pass(project):
    # A name no user would pick, and whatever migrations the project already has: the user's own first
    # change (often `courses`, as the README suggests) must not break this test.
    number = next_migration(project / "src" / "migrations")
    command = [sys.executable, "-m", "local.scaffold", "scaffold_probes"]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (project / "src" / "migrations" / f"{number}_create_scaffold_probes.sql").is_file()
    rest = {(r.method, r.path.text) for r in scan_routes(project / "src" / "lambda_function.py").rest}
    probe = "/scaffold-probes/{scaffoldProbeId}"
    assert {("GET", "/scaffold-probes"), ("POST", "/scaffold-probes"), ("GET", probe), ("DELETE", probe)} <= rest
    document = subprocess.run(
        [sys.executable, "run_local.py", "openapi", "--out", str(project / "openapi.json")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert document.returncode == 0, document.stderr
    assert {"/scaffold-probes", probe} <= set(json.loads((project / "openapi.json").read_text())["paths"])
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "ruff"), "check", "src", "tests/scaffold_probes"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    suites = ["tests/scaffold_probes", "tests/smoke", "tests/unit", *READ_THE_PROJECT]
    suites += ["tests/students"] if (project / "tests" / "students").is_dir() else []
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suites],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout.splitlines()[-1]


def test_nothing_is_written_when_the_name_is_taken_or_malformed(project):
    handler = project / "src" / "lambda_function.py"
    (project / "src" / "courses.py").write_text('"""A module of the project\'s own."""\n')
    before = handler.read_text()
    migrations = set((project / "src" / "migrations").iterdir())
    with pytest.raises(ValueError, match=r"src/courses\.py already exists"):
        scaffold("courses", root=project)
    with pytest.raises(ValueError, match="use lower case letters"):
        scaffold("Courses", root=project)
    with pytest.raises(ValueError, match="give ITEM= too"):
        scaffold("staff", root=project)
    assert handler.read_text() == before
    assert set((project / "src" / "migrations").iterdir()) == migrations


@pytest.mark.parametrize(
    ("auth", "groups"),
    [("cognito", ['groups=["staff"]', 'groups=["admin"]']), ("jwt", ['groups=["staff"]']), ("iam", []), ("none", [])],
)
def test_writes_and_deletes_name_groups_only_where_callers_carry_them(project, auth, groups):
    scaffold("enrollments", root=project, auth=auth)
    module = (project / "src" / "enrollments.py").read_text()
    assert all(group in module for group in groups)
    assert ('groups=["' in module) == bool(groups)
    assert "a enrollment" not in module and "Add one enrollment" in module


def test_the_hint_calls_the_new_routes_as_the_project_s_auth_lets_them():
    assert any("--groups staff,admin" in line for line in try_it("courses", "cognito"))
    assert not any("Authorization" in line for line in try_it("courses", "none"))
    assert any("run_local.py credentials" in line for line in try_it("courses", "iam"))
