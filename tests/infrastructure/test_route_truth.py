"""One truth for routes: synth stops when the routes read from the source and those an import registers differ.

Each test writes a small src/ of its own (the machinery linked in from the repository's src/) and runs the
check as `make synth` does, before anything is built: `python -m infra.route_check <lambda file>`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from infra.route_check import checked_routes, unincluded_modules
from infra.routes import RouteError, scan_routes
from local.server import unincluded_lines

ROOT = Path(__file__).resolve().parents[2]

LAMBDA_FUNCTION = """
import db_utils
import reports
from lambdakit import Router

router = Router()
router.include(reports.router)
router.include(db_utils.maintenance)


def handler(event, context):
    return router.handle(event, context)
"""

REPORTS = """
from db_utils import transaction
from lambdakit import Router

router = Router()


@router.rest("GET", "/reports")
@transaction(read_only=True)
def list_reports(conn) -> list:
    return []
"""


def _src(tmp_path: Path, files: dict[str, str]) -> Path:
    """A src/ folder with the repository's machinery and `files`; returns its Lambda module."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "lambdakit").symlink_to(ROOT / "src" / "lambdakit")
    (src / "db_utils.py").symlink_to(ROOT / "src" / "db_utils.py")
    for name, text in {"lambda_function.py": LAMBDA_FUNCTION, "reports.py": REPORTS, **files}.items():
        (src / name).write_text(textwrap.dedent(text).lstrip())
    return src / "lambda_function.py"


def _check(lambda_file: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "infra.route_check", str(lambda_file), *options],
        cwd=lambda_file.parent.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_routes_the_source_shows_and_an_import_registers_alike_pass_with_no_output(tmp_path):
    lambda_file = _src(tmp_path, {})
    done = _check(lambda_file)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert [r.key for r in checked_routes(lambda_file).rest] == [("GET", "/reports")]


def test_a_route_registered_from_a_helper_function_fails_the_check_naming_the_route_and_its_place(tmp_path):
    lambda_file = _src(
        tmp_path,
        {
            "counts.py": """
                def register(r):
                    @r.rest("GET", "/reports/count")
                    def count() -> dict:
                        return {"count": 1}
            """,
            "lambda_function.py": LAMBDA_FUNCTION.replace("import reports", "import counts\nimport reports")
            + "\ncounts.register(router)\n",
        },
    )
    done = _check(lambda_file)
    assert done.returncode == 1
    assert "error: src/lambda_function.py: the routes the stack reads from the source" in done.stderr
    assert "REST GET /reports/count (count() at counts.py:2) is registered when the module is imported" in done.stderr
    assert "GET /reports (" not in done.stderr  # the route both agree on is not named


def test_a_route_the_source_shows_but_an_import_does_not_register_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lambda_file = _src(
        tmp_path,
        {
            "reports.py": REPORTS + "\n\nrouter = Router()  # the router served is a new, empty one\n",
        },
    )
    with pytest.raises(
        RouteError, match=r"REST GET /reports \(list_reports\(\) at src/reports.py:\d+\) is in the source"
    ):
        checked_routes(lambda_file)


def test_a_declaration_the_source_and_the_import_read_differently_is_named_with_both_values(tmp_path):
    lambda_file = _src(
        tmp_path,
        {
            "reports.py": """
                from lambdakit import Router

                router = Router()
                STATUS = 200


                @router.rest("POST", "/reports", status=STATUS)
                def create_report(body: dict) -> dict:
                    return body


                STATUS = 201
            """
        },
    )
    with pytest.raises(RouteError, match=r"REST POST /reports .*status: the source says 201, the import 200"):
        checked_routes(lambda_file)


def test_a_module_that_fails_at_import_is_one_line_with_its_file_and_line(tmp_path):
    lambda_file = _src(
        tmp_path, {"reports.py": REPORTS.replace("router = Router()", "router = Router()\nundefined_name")}
    )
    done = _check(lambda_file)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr == (
        "error: src/lambda_function.py: importing it to check its routes failed:"
        " src/reports.py:5: NameError: name 'undefined_name' is not defined\n"
    )


def test_a_package_missing_where_synth_runs_leaves_the_routes_unchecked_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lambda_file = _src(tmp_path, {"reports.py": "import no_such_package\n" + REPORTS})
    warnings: list[str] = []
    assert [r.key for r in checked_routes(lambda_file, warn=warnings.append).rest] == [("GET", "/reports")]
    assert warnings == [
        "warning: src/lambda_function.py: importing it to check its routes failed: src/reports.py:1:"
        " ModuleNotFoundError: No module named 'no_such_package'; the routes are read from the source alone"
        " (make install to check them)"
    ]


def test_a_name_missing_from_a_module_of_src_is_an_error_not_a_missing_package(tmp_path):
    lambda_file = _src(
        tmp_path,
        {"reports.py": REPORTS.replace("from lambdakit import Router", "from lambdakit import Router, transaction")},
    )
    done = _check(lambda_file)
    assert done.returncode == 1
    assert "src/reports.py:2: ImportError: cannot import name 'transaction' from 'lambdakit'" in done.stderr


@pytest.mark.parametrize("module", ["reports.py", "helpers.py"])
def test_a_syntax_error_in_any_module_of_src_is_one_line_naming_its_file_and_line(tmp_path, module):
    lambda_file = _src(tmp_path, {module: "def broken(:\n    pass\n"})
    done = _check(lambda_file)
    assert done.returncode == 1
    assert done.stderr == f"error: src/{module}:1: syntax error: invalid syntax\n"


ORPHAN = """
from lambdakit import Router

router = Router()


@router.rest("GET", "/orphans")
@router.direct("orphans")
def list_orphans() -> list:
    return []
"""


def test_a_route_module_nothing_includes_is_a_warning_naming_its_routes_and_the_include_that_serves_them(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    lambda_file = _src(tmp_path, {"orphans.py": ORPHAN})
    warnings: list[str] = []
    checked_routes(lambda_file, warn=warnings.append)
    assert warnings == [
        "warning: src/orphans.py:6: routes nothing includes, never served: GET /orphans, direct 'orphans'"
        " (add `import orphans` and `router.include(orphans.router)` to src/lambda_function.py)"
    ]
    assert _check(lambda_file).stderr == warnings[0] + "\n"
    quiet = _check(lambda_file, "--quiet")
    assert (quiet.returncode, quiet.stderr) == (0, "")  # make synth leaves the warning to synth itself


def test_modules_reached_through_include_and_modules_without_routes_are_not_reported(tmp_path):
    lambda_file = _src(tmp_path, {"plain.py": "VALUE = 1\n"})
    assert unincluded_modules(scan_routes(lambda_file)) == []


def test_the_local_server_reports_a_module_nothing_includes_as_the_synth_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lambda_file = _src(tmp_path, {"orphans.py": ORPHAN})
    (line,) = unincluded_lines(lambda_file.parent)
    assert line.endswith(
        "routes nothing includes, never served: GET /orphans, direct 'orphans'"
        " (add `import orphans` and `router.include(orphans.router)` to src/lambda_function.py)"
    )


def test_make_synth_checks_the_routes_before_it_builds_the_package():
    commands = subprocess.run(
        ["make", "-n", "synth"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    check = next(i for i, line in enumerate(commands) if "infra.route_check" in line)
    build = next(i for i, line in enumerate(commands) if "infra.build" in line)
    assert check < build
