"""The machinery's boundaries: lambdakit imports nothing of the modules beside it, reads the environment in
one place, and a route module that returns a Response loads no more at cold start than it needs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LAMBDAKIT = SRC / "lambdakit"
# They read what AWS sets for signing (credentials, region, session token) at the moment they sign:
# those values change under a running function, so they are not settings read once.
AWS_CREDENTIAL_READERS = {"iam_auth.py", "credentials.py"}


def _imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_lambdakit_imports_no_module_that_lives_beside_it_in_src():
    beside = {p.stem for p in SRC.glob("*.py")} | {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    beside.discard("lambdakit")
    assert "db_utils" in beside  # the template's own module beside the machinery is one of them
    reaching = {
        f"{path.name} imports {name}"
        for path in LAMBDAKIT.glob("*.py")
        for name in _imported_top_level_names(path) & beside
    }
    assert reaching == set()


def _reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            return True
    return False


def test_the_function_reads_its_environment_in_settings_only():
    readers = {path.name for path in LAMBDAKIT.glob("*.py") if _reads_environment(path)}
    assert readers - AWS_CREDENTIAL_READERS == {"settings.py"}


def test_a_route_module_returning_a_response_does_not_load_dataclasses_at_import(tmp_path):
    (tmp_path / "things.py").write_text(
        "from db_utils import transaction\n"
        "from lambdakit import Caller, Response, Router\n"
        "router = Router()\n"
        "@router.rest('GET', '/things')\n"
        "@transaction(read_only=True)\n"
        "def things(conn, caller: Caller) -> Response:\n"
        "    return Response([], status=200)\n"
        "router.routes\n"
    )
    probe = "import sys, things; print('dataclasses' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "False"
