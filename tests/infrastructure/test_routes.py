"""The scanner reads routes with ast, across the route modules the Lambda includes, never importing them.

The path grammar and clash rules are the route model's, tested against runtime and scanner alike in
tests/unit/test_routemodel.py; here: what only the scanner does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from infra_support import LAMBDA_SOURCE, ROOT, write_module

from infra.routes import RouteError, scan_routes, scan_source


def scan(source: str, path: str = "lf.py"):
    return scan_source(textwrap.dedent(source), path)


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return folder / "lambda_function.py"


def test_a_source_folder_scans_to_exactly_the_table_its_runtime_registers(tmp_path):
    src = write_module(tmp_path).parent
    scanned = scan_routes(src / "lambda_function.py").table
    modules = ("lambda_function", "routes_under_test")
    saved = {name: sys.modules.pop(name, None) for name in modules}
    sys.path.insert(0, str(src))
    try:
        import lambda_function

        registered = list(lambda_function.router.routes)
    finally:
        sys.path.remove(str(src))
        for name, module in saved.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module
    assert list(scanned) == registered
    assert any(r.spec.body for r in scanned.rest), "schemas declared on the decorators reach the stack"


def test_fixture_module_yields_every_rest_graphql_and_direct_route_with_its_function():
    routes = scan(LAMBDA_SOURCE)
    assert {(r.method, r.path.text, r.function) for r in routes.rest} == {
        ("GET", "/students", "list_students"),
        ("GET", "/students/{studentId}", "get_student"),
        ("POST", "/students", "create_student"),
        ("PUT", "/students/{studentId}", "update_student"),
        ("DELETE", "/students/{studentId}", "delete_student"),
    }
    assert {r.key for r in routes.graphql} == {
        ("Query", "listStudents"),
        ("Query", "getStudent"),
        ("Mutation", "saveStudent"),
        ("Mutation", "deleteStudent"),
    }
    assert len(routes.direct) == 6


def test_transaction_above_or_below_the_route_decorators_drops_the_connection_parameter():
    routes = scan(
        """
        from lambdakit import Router, transaction
        router = Router()
        @transaction()
        @router.direct("get_one")
        @router.graphql("Query", "getOne")
        @router.rest("GET", "/one/{oneId}")
        def get_one(conn, one_id: int, verbose: bool = False): ...
        """
    )
    (rest,) = routes.rest
    assert [(p.name, p.type, p.required) for p in rest.spec.parameters] == [
        ("one_id", "int", True),
        ("verbose", "bool", False),
    ]
    assert rest.where == "lf.py:7" and routes.graphql[0].where == "lf.py:6" and routes.direct[0].where == "lf.py:5"


def test_router_is_found_by_its_assignment_and_through_aliases_whatever_its_name():
    routes = scan(
        """
        from lambdakit import router as routing
        api = routing.Router()
        r = api
        @r.rest("GET", "/a")
        def a(): ...
        @api.rest(method="post", path="/a")
        def c(): ...
        """
    )
    assert [r.key for r in routes.rest] == [("GET", "/a"), ("POST", "/a")]


def test_decorators_of_objects_that_are_not_the_router_are_ignored():
    routes = scan(
        """
        from lambdakit import Router
        router = Router()
        app = Flask()
        @app.rest("GET", "/not-ours")
        def f(): ...
        """
    )
    assert routes.rest == ()


def test_route_modules_included_by_the_lambda_module_are_scanned_like_the_runtime_includes_them(tmp_path):
    lambda_file = _write(
        tmp_path,
        {
            "lambda_function.py": """
                import courses
                from shop import orders as order_routes
                from lambdakit import Router
                router = Router()
                router.include(courses.router)
                router.include(order_routes.router)
                """,
            "courses.py": """
                from lambdakit import Router
                from shared import COURSE
                router = Router()
                @router.rest("POST", "/courses", body=COURSE, status=201)
                def create_course(body: dict): ...
                """,
            "shared.py": """
                _NAME = {"type": "string", "maxLength": 2 ** 5}
                COURSE = {"type": "object", "properties": {"title": _NAME, **{"code": _NAME}}}
                """,
            "shop/__init__.py": "",
            "shop/orders.py": """
                from lambdakit import Router
                router = Router()
                @router.rest("GET", "/orders/{orderId}")
                def get_order(order_id: int): ...
                """,
        },
    )
    routes = scan_routes(lambda_file)
    assert [(r.module, r.function) for r in routes.rest] == [("courses", "create_course"), ("shop.orders", "get_order")]
    assert routes.rest[0].spec.body == {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 32}, "code": {"type": "string", "maxLength": 32}},
    }


def test_a_schema_that_is_not_a_constant_is_an_error_naming_file_and_line():
    with pytest.raises(RouteError, match=r"^lf\.py:4: body of @rest on f\(\) must be a literal or a constant"):
        scan(
            """
            from lambdakit import Router
            router = Router()
            @router.rest("POST", "/x", body=load_schema("x.json"))
            def f(body): ...
            """
        )


def test_an_include_of_something_that_is_not_a_route_module_in_src_is_an_error(tmp_path):
    lambda_file = _write(
        tmp_path,
        {
            "lambda_function.py": """
                import json
                from lambdakit import Router
                router = Router()
                router.include(json.router)
                """
        },
    )
    with pytest.raises(RouteError, match=r"lambda_function\.py:5: include\(json\.router\) must name the router"):
        scan_routes(lambda_file)


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ('@router.rest("GET", PATH)', "path of @rest on f() must be a literal or a constant defined in src/"),
        ('@router.rest("GET")', "missing path"),
        ("@router.rest", "needs arguments"),
        ("@router.rest(*args)", "takes 2 positional argument(s)"),
        ('@router.rest("GET", "/x", **options)', "cannot be read statically"),
    ],
)
def test_each_unreadable_decorator_is_an_error_naming_file_and_line(decorator, message):
    source = f"from lambdakit import Router\nrouter = Router()\n\n{decorator}\ndef f(): ...\n"
    with pytest.raises(RouteError) as error:
        scan_source(source, "src/lambda_function.py")
    assert str(error.value).startswith("src/lambda_function.py:4: ")
    assert message in str(error.value)


def test_a_syntax_error_names_the_line():
    with pytest.raises(RouteError, match=r"lf\.py:2: syntax error"):
        scan_source("x = 1\ndef (:\n", "lf.py")


def test_scanning_never_imports_the_module_or_its_dependencies(tmp_path):
    module = tmp_path / "lambda_function.py"
    module.write_text(
        "import psycopg2\nimport no_such_package\nraise SystemExit('imported!')\n"
        "from lambdakit import Router\nrouter = Router()\n@router.rest('GET', '/x')\ndef x(): ...\n"
    )
    blocker = tmp_path / "blocker"
    for package in ("psycopg2", "aws_lambda_powertools"):
        (blocker / package).mkdir(parents=True)
        (blocker / package / "__init__.py").write_text(f"raise ImportError('{package} is not installed here')\n")
    code = f"from infra.routes import scan_routes; print(scan_routes({str(module)!r}).rest[0].path.text)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": f"{blocker}:{ROOT}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/x"
