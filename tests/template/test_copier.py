"""A project generated from this template: it tests and synthesizes, and `copier update` brings a later
template version in while keeping the user's own changes, with a clash shown as a conflict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
# A make run inside `make test` must not inherit the outer make's flags, jobserver, command-line variables
# (make exports them: PYTEST_ARGS, and the STACK_ settings infra.mk derives from them) or the stack's settings.
_MAKE_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "AUTH", "PYTEST_ARGS"}
    and not k.startswith("STACK_")
}


def run(*command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run a command, output captured; the caller judges its status."""
    return subprocess.run(command, cwd=cwd, env=_MAKE_ENV, capture_output=True, text=True, check=False, timeout=timeout)


def git(*args: str, cwd: Path) -> str:
    """A git command that must succeed; its output."""
    done = run("git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def template_repository(where: Path) -> Path:
    """The working tree, uncommitted edits included, as a template repository of its own with one commit."""
    git("clone", "-q", "--no-checkout", str(ROOT), str(where), cwd=ROOT)
    # Stage the working tree (what .gitignore keeps out stays out) in the clone's index, as Copier does itself.
    git(f"--git-dir={where / '.git'}", f"--work-tree={ROOT}", "add", "-A", cwd=where)
    git("commit", "-q", "--allow-empty", "-m", "the working tree", cwd=where)
    git("checkout", "-q", "-f", "HEAD", cwd=where)
    return where


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Copier, from the venv the tests run in."""
    return run(sys.executable, "-m", "copier", *args, "--defaults", "--quiet", cwd=cwd)


def generate(template: Path, project: Path, **answers: str) -> Path:
    """`copier copy` with these answers (the rest default), then the first commit `copier update` needs."""
    data = [item for key, value in answers.items() for item in ("--data", f"{key}={value}")]
    done = copier("copy", *data, str(template), str(project), cwd=project.parent)
    assert done.returncode == 0, done.stderr
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "from the template", cwd=project)
    return project


def make(project: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    """`make` in the project with the template's installed .venv and node_modules: the packages are the same,
    so they are linked rather than installed again (`-o` keeps make from reinstalling into them)."""
    links = {".venv": VENV, "node_modules": ROOT / "node_modules"}
    for name, target in links.items():
        if not (project / name).exists() and (target / ".installed").exists():
            (project / name).symlink_to(target)
    keep = [flag for name in links if (project / name).is_symlink() for flag in ("-o", f"{name}/.installed")]
    return run("make", "--no-print-directory", *keep, *targets, cwd=project)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder the embedded PostgreSQL's user can traverse, as root runs it (pytest's own temporary
    root is private to root, and pytest sessions running side by side reset its mode)."""
    where = Path(tempfile.mkdtemp(prefix="copier-project-"))
    where.chmod(0o755)
    yield where
    shutil.rmtree(where, ignore_errors=True)


def answers(project: Path) -> dict:
    """The project's .copier-answers.yml."""
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@pytest.mark.slow
def test_a_project_without_the_sample_synthesizes_tests_a_new_route_and_takes_a_template_update(workdir):
    template = template_repository(workdir / "template")
    project = generate(template, workdir / "my-api", project_name="my-api", keep_sample="false")

    first = answers(project)
    assert first["_commit"] == git("rev-parse", "--short", "HEAD", cwd=template).strip()
    assert first["keep_sample"] is False and first["project_name"] == "my-api"
    assert json.loads((project / "cdk.json").read_text())["context"]["serviceName"] == "my-api"
    for left_out in ("src/students.py", "tests/students", "bench", ".ci", "copier.yml", "tests/unit", "mk/bench.mk"):
        assert not (project / left_out).exists(), left_out
    assert "students" not in (project / "src" / "lambda_function.py").read_text()

    synth = make(project, "synth")
    assert synth.returncode == 0, synth.stdout[-3000:] + synth.stderr[-3000:]
    assert "cdk.out/my-api-dev.template.json written" in synth.stdout

    # The user's own work: a route module with its table and test (which edits the template's handler),
    # a line in a file the template ships, and an edit that the next template version will clash with.
    route = make(project, "route", "NAME=courses")
    assert route.returncode == 0, route.stdout + route.stderr
    with (project / ".gitignore").open("a") as ignore:
        ignore.write(".envrc\n")
    local_mk = project / "mk" / "local.mk"
    local_mk.write_text(local_mk.read_text().replace("# Local developer loop", "# My team's local loop", 1))
    tests = make(project, "test")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "tests/courses/test_courses.py" in tests.stdout and " passed" in tests.stdout
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "courses", cwd=project)

    # The template moves on by one commit: a machinery file changes, and so does the line the user edited.
    runner = template / "run_local.py"
    runner.write_text(runner.read_text().replace('"""Run the Lambda', '"""Template v2: run the Lambda', 1))
    template_mk = template / "mk" / "local.mk"
    template_mk.write_text(template_mk.read_text().replace("# Local developer loop", "# The template's loop", 1))
    git("commit", "-q", "-am", "template v2", cwd=template)

    update = copier("update", "--conflict", "inline", cwd=project)
    assert update.returncode == 0, update.stderr
    assert answers(project)["_commit"] == git("rev-parse", "--short", "HEAD", cwd=template).strip()
    assert (project / "run_local.py").read_text().startswith('"""Template v2: run the Lambda')
    assert (project / "src" / "courses.py").is_file() and (project / "tests" / "courses" / "test_courses.py").is_file()
    assert "router.include(courses.router)" in (project / "src" / "lambda_function.py").read_text()
    assert ".envrc" in (project / ".gitignore").read_text()
    clash = local_mk.read_text()
    assert "<<<<<<< before updating" in clash and ">>>>>>> after updating" in clash
    assert "# My team's local loop" in clash and "# The template's loop" in clash
    status = git("status", "--porcelain", cwd=project).splitlines()
    assert "UU mk/local.mk" in status, status
    assert not [line for line in status if line.startswith("UU") and "local.mk" not in line], status


@pytest.mark.slow
def test_a_project_with_the_defaults_keeps_the_sample_and_its_tests_pass(workdir):
    if not (ROOT / "src" / "students.py").is_file():
        pytest.skip("this checkout has no students sample to keep")
    project = generate(ROOT, workdir / "students-copy")
    assert answers(project)["keep_sample"] is True
    assert (project / "src" / "students.py").is_file() and (project / "tests" / "students").is_dir()
    tests = make(project, "test")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert "tests/students/" in tests.stdout and " passed" in tests.stdout
