"""One route model: the same path table judged alike by the runtime (import) and the stack's scanner (synth)."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from infra.routes import SIGNATURES, scan_source
from lambdakit.routemodel import RouteError, RouteTable, annotation_type, parse_path, rest_route
from lambdakit.router import Router

# (path, request path, expected path parameters); each path is declared, then requested.
SERVED = [
    ("/", "/", {}),
    ("/students", "/students", {}),
    ("/students/{studentId}", "/students/42", {"studentId": "42"}),
    ("/files/{path+}", "/files/a/b/c.txt", {"path": "a/b/c.txt"}),
    ("/a.b/{x}/c~d", "/a.b/1/c~d", {"x": "1"}),
]
# (path, the reason both sides give)
REFUSED = [
    ("students", "it must start with '/'"),
    ("/students/", "no trailing '/'"),
    ("/x//y", "empty segment"),
    ("/x/{a b}", "is neither a literal"),
    ("/students/{student-id}", "is neither a literal"),
    ("/{a}/{a}", "parameter {a} appears twice"),
    ("/{rest+}/x", "greedy {rest+} must be the last segment"),
]


def _module_source(decorators: str, params: str = "**kwargs") -> str:
    return f"from lambdakit import Router\nrouter = Router()\n\n{decorators}\ndef f({params}):\n    return {{}}\n"


def _import(source: str, tmp_path: Path):
    """Import `source` as a fresh module, as Lambda (and the local server's workers) would."""
    name = _name(tmp_path)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


@pytest.mark.parametrize(("path", "request_path", "parameters"), SERVED)
def test_a_path_the_model_accepts_is_served_by_the_runtime_and_synthesized_by_the_scanner(
    path, request_path, parameters, tmp_path
):
    source = _module_source(f'@router.rest("GET", {path!r})')
    module = _import(source, tmp_path)
    found = module.router.match("GET", request_path)
    assert found.route is not None and found.route.path.text == path
    assert found.path_parameters == parameters
    event = {"httpMethod": "GET", "path": request_path, "resource": path, "pathParameters": parameters or None}
    answer = module.router.handle(event)
    assert answer["statusCode"] == 200, answer
    assert list(_scan(source, tmp_path).table) == list(module.router.routes)


@pytest.mark.parametrize(("path", "reason"), REFUSED)
def test_a_path_the_model_refuses_is_the_same_clear_error_at_import_and_at_synth(path, reason, tmp_path):
    source = _module_source(f'@router.rest("GET", {path!r})')
    with pytest.raises(RouteError) as at_import:
        _import(source, tmp_path)
    with pytest.raises(RouteError) as at_synth:
        _scan(source, tmp_path)
    assert reason in str(at_import.value) and reason in str(at_synth.value)
    assert f"malformed path {path!r}" in str(at_import.value) and f"malformed path {path!r}" in str(at_synth.value)


@pytest.mark.parametrize(
    ("decorators", "reason"),
    [
        ('@router.rest("GET", "/a/{id}")\n@router.rest("PUT", "/a/{key}")', "API Gateway needs one name per position"),
        ('@router.rest("GET", "/a/{id}")\n@router.rest("PUT", "/a/{id+}")', "API Gateway needs one name per position"),
        ('@router.rest("GET", "/x")\n@router.rest("get", "/x")', "REST GET /x on f() is already claimed by f()"),
        ('@router.graphql("Query", "x")\n@router.graphql("Query", "x")', "GraphQL Query.x on f() is already claimed"),
        ('@router.rest("FETCH", "/x")', "unknown HTTP method 'FETCH'"),
        ('@router.rest("GET", "/x", status=500)', "a success status is 200..399"),
        ('@router.graphql("Query", "get-x")', "'get-x' is not a GraphQL name"),
        ('@router.direct("no spaces")', "'no spaces' is not a valid direct route name"),
    ],
)
def test_clashes_and_bad_names_are_refused_alike_at_import_and_at_synth(decorators, reason, tmp_path):
    source = _module_source(decorators)
    with pytest.raises(RouteError, match=None) as at_import:
        _import(source, tmp_path)
    with pytest.raises(RouteError) as at_synth:
        _scan(source, tmp_path)
    assert reason in str(at_import.value), at_import.value
    assert reason in str(at_synth.value), at_synth.value


def test_a_path_parameter_the_function_does_not_take_is_refused_alike(tmp_path):
    source = _module_source('@router.rest("GET", "/things/{thingId}")', params="other: int = 0")
    reason = "{thingId} needs a parameter thing_id in the function"
    with pytest.raises(RouteError, match=reason):
        _import(source, tmp_path)
    with pytest.raises(RouteError, match=reason):
        _scan(source, tmp_path)


def test_a_keyword_the_runtime_does_not_take_is_refused_alike(tmp_path):
    source = _module_source('@router.graphql(type="Query", field="x")')
    with pytest.raises(TypeError, match="unexpected keyword argument 'type'"):
        _import(source, tmp_path)
    with pytest.raises(RouteError, match="unexpected keyword argument 'type'"):
        _scan(source, tmp_path)
    keywords = _module_source('@router.graphql(type_name="Query", field_name="x")')
    assert list(_scan(keywords, tmp_path).table) == list(_import(keywords, tmp_path).router.routes)


def test_auth_groups_and_scopes_are_the_same_record_fields_at_import_and_at_synth(tmp_path):
    source = _module_source(
        '@router.rest("DELETE", "/x", groups=["admin"])\n@router.graphql("Mutation", "x", groups=GROUPS)\n'
        '@router.direct("x")',
    ).replace("router = Router()", "router = Router()\nGROUPS = ['admin']")
    public = _module_source(
        '@router.rest("GET", "/health", auth="none")\n@router.graphql("Query", "health", auth="none")'
    )
    for text in (source, public):
        scanned, imported = list(_scan(text, tmp_path).table), list(_import(text, tmp_path).router.routes)
        assert scanned == imported
    (delete, *_) = _scan(source, tmp_path).table
    assert delete.spec.groups == ("admin",) and delete.spec.auth is None
    assert next(iter(_scan(public, tmp_path).table)).spec.access("cognito") == "none"


@pytest.mark.parametrize(
    ("decorators", "reason"),
    [
        ('@router.rest("GET", "/x", auth="public")', "auth='public' on f(): use 'none' (public) or 'iam'"),
        (
            '@router.rest("GET", "/x", auth="none", groups=["a"])',
            "names groups or scopes but auth='none' makes it public",
        ),
        ('@router.rest("GET", "/x", auth="iam", scopes=["s"])', "auth='iam' makes it signed with IAM"),
        ('@router.rest("GET", "/x", groups="staff")', "groups= on f() must be a list of names"),
        ('@router.rest("GET", "/x", groups=["a"])\n@router.direct("x", groups=["b"])', "groups= is declared twice"),
    ],
)
def test_a_contradictory_or_malformed_access_declaration_is_refused_alike(decorators, reason, tmp_path):
    source = _module_source(decorators)
    with pytest.raises(RouteError) as at_import:
        _import(source, tmp_path)
    with pytest.raises(RouteError) as at_synth:
        _scan(source, tmp_path)
    assert reason in str(at_import.value), at_import.value
    assert reason in str(at_synth.value), at_synth.value


def test_the_scanner_knows_the_decorators_signatures_as_the_runtime_declares_them():
    for kind, (positional, optional) in SIGNATURES.items():
        parameters = list(inspect.signature(getattr(Router, kind)).parameters.values())[1:]
        assert tuple(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD) == positional
        assert {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY} == optional


def test_matching_prefers_literals_then_variables_then_a_greedy_tail_whatever_the_order_declared():
    table = RouteTable(
        rest_route("GET", path, "f", spec=_any()) for path in ("/{y}/{rest+}", "/a/{x}/c", "/{y}/b/c", "/a/b", "/a/{x}")
    )
    assert table.match("GET", "/a/b").route.path.text == "/a/b"
    assert table.match("GET", "/a/z").route.path.text == "/a/{x}"
    assert table.match("GET", "/a/b/c").route.path.text == "/a/{x}/c"
    assert table.match("GET", "/z/b/c").route.path.text == "/{y}/b/c"
    assert table.match("GET", "/z/q/r/s").route.path.text == "/{y}/{rest+}"
    assert table.match("POST", "/a/b").allowed == ("GET",)


def test_rest_apis_ignore_a_trailing_slash_and_http_apis_do_not():
    table = RouteTable([rest_route("GET", "/a", "f", spec=_any())])
    assert table.match("GET", "/a/").route is not None
    assert table.match("GET", "/a/", ignore_trailing_slash=False).route is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int", ("int", None)),
        ("int | None", ("int", None)),
        ("Optional[int]", ("int", None)),
        ("typing.Optional[uuid.UUID]", ("uuid", None)),
        ("list[int]", ("array", "int")),
        ("list[str] | None", ("array", "str")),
        ("dict[str, int]", ("object", None)),
        ("int | str", ("any", None)),
        ("Caller", ("caller", None)),
        (None, ("any", None)),
    ],
)
def test_annotations_read_as_text_give_one_type_for_runtime_and_scanner(text, expected):
    assert annotation_type(text) == expected


def test_parse_path_exposes_parameters_and_specificity():
    template = parse_path("/files/{owner}/{path+}")
    assert template.parameters == ("owner", "path")
    assert template.specificity == (0, 1, 2)


def _name(tmp_path: Path) -> str:
    return f"routes_{abs(hash(str(tmp_path))) % 10**8}"


def _scan(source: str, tmp_path: Path):
    return scan_source(source, tmp_path / f"{_name(tmp_path)}.py")


def _any():
    from lambdakit.routemodel import Spec

    return Spec(accepts_any=True)
