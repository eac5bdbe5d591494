"""The scanner reads routes with ast, finds the router by its assignment, and rejects ambiguity by line."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from infra_support import LAMBDA_SOURCE, ROOT

from infra.routes import DirectRoute, GraphqlRoute, RestRoute, RouteError, scan_routes, scan_source


def scan(source: str):
    return scan_source(textwrap.dedent(source), "lf.py")


def test_fixture_module_yields_every_rest_graphql_and_direct_route_with_its_function():
    routes = scan(LAMBDA_SOURCE)
    assert {(r.method, r.path, r.function) for r in routes.rest} == {
        ("GET", "/students", "list_students"),
        ("GET", "/students/{studentId}", "get_student"),
        ("POST", "/students", "create_student"),
        ("PUT", "/students/{studentId}", "update_student"),
        ("DELETE", "/students/{studentId}", "delete_student"),
    }
    assert {(r.type_name, r.field) for r in routes.graphql} == {
        ("Query", "listStudents"),
        ("Query", "getStudent"),
        ("Mutation", "saveStudent"),
        ("Mutation", "deleteStudent"),
    }
    assert len(routes.direct) == 6


def test_several_decorators_on_one_function_in_any_order_around_transaction_each_become_a_route():
    routes = scan(
        """
        from lambdakit.router import Router
        router = Router()
        @transaction()
        @router.direct("get_one")
        @router.graphql("Query", "getOne")
        @transaction(read_only=True)
        @router.rest("GET", "/one")
        def get_one(conn): ...
        """
    )
    assert routes.rest == [RestRoute("GET", "/one", "get_one", 8)]
    assert routes.graphql == [GraphqlRoute("Query", "getOne", "get_one", 6)]
    assert routes.direct == [DirectRoute("get_one", "get_one", 5)]


def test_router_is_found_by_its_assignment_and_through_aliases_whatever_its_name():
    routes = scan(
        """
        from lambdakit import router as routing
        from lambdakit.router import Router as R
        api = routing.Router()
        other: R = R(prefix="x")
        r = api
        @r.rest("GET", "/a")
        def a(): ...
        @other.rest("GET", "/b")
        def b(): ...
        @api.rest(method="post", path="/a")
        def c(): ...
        """
    )
    assert [(r.method, r.path) for r in routes.rest] == [("GET", "/a"), ("GET", "/b"), ("POST", "/a")]


def test_decorators_of_objects_that_are_not_the_router_are_ignored():
    routes = scan(
        """
        from lambdakit.router import Router
        router = Router()
        app = Flask()
        @app.rest("GET", "/not-ours")
        def f(): ...
        """
    )
    assert routes.rest == []


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ('@router.rest("GET", PATH)', "path of @rest on f() must be a string literal"),
        ('@router.rest("FETCH", "/x")', "unknown HTTP method 'FETCH'"),
        ('@router.rest("GET", "x")', "must start with '/'"),
        ('@router.rest("GET", "/x/")', "no trailing '/'"),
        ('@router.rest("GET", "/x//y")', "empty segment"),
        ('@router.rest("GET", "/x/{a b}")', "neither a literal nor {param}"),
        ('@router.rest("GET", "/{a}/{a}")', "appears twice"),
        ('@router.rest("GET", "/{rest+}/x")', "must be the last segment"),
        ('@router.rest("GET")', "missing path"),
        ("@router.rest", "needs arguments"),
        ("@router.rest(*args)", "takes 2 argument(s)"),
        ('@router.graphql("Query", "get-x")', "is not a GraphQL name"),
        ("@router.direct(NAME)", "name of @direct on f() must be a string literal"),
    ],
)
def test_each_malformed_decorator_is_an_error_naming_file_and_line(decorator, message):
    source = f"from routing import Router\nrouter = Router()\n\n{decorator}\ndef f(): ...\n"
    with pytest.raises(RouteError) as error:
        scan_source(source, "src/lambda_function.py")
    assert str(error.value).startswith("src/lambda_function.py:4: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            '@router.rest("GET", "/x")',
            '@router.rest("get", "/x")',
            "REST GET /x on g() is already claimed by f() at line 4",
        ),
        ('@router.graphql("Query", "x")', '@router.graphql("Query", "x")', "GraphQL Query x on g()"),
        ('@router.direct("x")', '@router.direct("x")', "direct x on g()"),
        ('@router.rest("GET", "/a/{id}")', '@router.rest("PUT", "/a/{key}")', "one name per position"),
    ],
)
def test_two_functions_claiming_the_same_route_is_an_error_at_the_second_line(first, second, message):
    source = f"from routing import Router\nrouter = Router()\n\n{first}\ndef f(): ...\n{second}\ndef g(): ...\n"
    with pytest.raises(RouteError, match=r"^lf\.py:6: ") as error:
        scan_source(source, "lf.py")
    assert message in str(error.value)


def test_a_syntax_error_names_the_line():
    with pytest.raises(RouteError, match=r"^lf\.py:2: syntax error"):
        scan_source("x = 1\ndef (:\n", "lf.py")


def test_scanning_never_imports_the_module_or_its_dependencies(tmp_path):
    module = tmp_path / "lambda_function.py"
    module.write_text(
        "import psycopg2\nimport no_such_package\nraise SystemExit('imported!')\n"
        "from routing import Router\nrouter = Router()\n@router.rest('GET', '/x')\ndef x(): ...\n"
    )
    blocker = tmp_path / "blocker"
    (blocker / "psycopg2").mkdir(parents=True)
    (blocker / "psycopg2" / "__init__.py").write_text("raise ImportError('psycopg2 is not installed here')\n")
    code = f"from infra.routes import scan_routes; print(scan_routes({str(module)!r}).rest[0].path)"
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


def test_the_real_lambda_module_has_the_routes_the_runtime_promises():
    routes = scan_routes(ROOT / "src" / "lambda_function.py")
    rest = {(r.method, r.path) for r in routes.rest}
    assert {
        ("GET", "/students"),
        ("GET", "/students/{studentId}"),
        ("POST", "/students"),
        ("PUT", "/students/{studentId}"),
        ("DELETE", "/students/{studentId}"),
    } <= rest
    assert {
        ("Query", "listStudents"),
        ("Query", "getStudent"),
        ("Mutation", "saveStudent"),
        ("Mutation", "deleteStudent"),
    } <= {(r.type_name, r.field) for r in routes.graphql}
    assert {"list_students", "get_student", "create_student", "update_student", "save_student", "delete_student"} <= {
        r.name for r in routes.direct
    }
