"""Authorization in the synthesized stack: each `auth` mode, the refusal of a public prod stage, and AppSync's modes.

Every mode's template must carry its authorizer on every operation but the public ones, pass cfn-lint
and cdk-nag with no APIG4/COG4 acknowledgment (those are for a stack that says auth=none).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from infra_support import ACCOUNT, BYO_CONTEXT, ROOT, synth, write_module
from test_stack import cfn_lint_errors, nag_findings

from infra.graphql_auth import check_schema_access, deployable_schema
from infra.routes import RouteError, scan_source

ANY = "x-amazon-apigateway-any-method"
OPERATIONS = ("get", "post", "put", "delete", "patch", ANY)

SOURCE = """
from lambdakit import Router

router = Router()


@router.rest("GET", "/health", auth="none")
def health():
    return {"ok": True}


@router.rest("GET", "/students")
@router.graphql("Query", "listStudents")
def list_students():
    return []


@router.rest("POST", "/students", groups=["staff"])
@router.graphql("Mutation", "saveStudent", groups=["staff"])
def save_student(body: dict):
    return body


@router.rest("DELETE", "/students/{studentId}", groups=["admin"])
@router.graphql("Mutation", "deleteStudent", groups=["admin"])
def delete_student(student_id: int):
    return None


@router.rest("POST", "/jobs", auth="iam")
def jobs():
    return None


def handler(event, context):
    return router.handle(event, context)
"""

SCHEMA = """
type Student { studentId: Int! }
type Query { listStudents: [Student!]! }
type Mutation {
  saveStudent(body: String): Student @aws_cognito_user_pools(cognito_groups: ["staff"])
  deleteStudent(studentId: Int!): Student @aws_cognito_user_pools(cognito_groups: ["admin"])
}
"""


def _synth(tmp_path_factory, name: str, context: dict, environ: dict | None = None):
    directory = tmp_path_factory.mktemp(name)
    write_module(directory, SOURCE, SCHEMA)
    return synth(directory, {**BYO_CONTEXT, **ACCOUNT, **context}, environ)


@pytest.fixture(scope="module")
def cognito(tmp_path_factory):
    return _synth(tmp_path_factory, "cognito", {"auth": "cognito"})


@pytest.fixture(scope="module")
def iam(tmp_path_factory):
    return _synth(tmp_path_factory, "iam", {"auth": "iam", "apiKeys": True})


@pytest.fixture(scope="module")
def jwt_http(tmp_path_factory):
    context = {"auth": "jwt", "apiType": "http", "jwtIssuer": "https://id.example.com", "jwtAudience": ["app"]}
    return _synth(tmp_path_factory, "jwt", context)


def _body(s):
    kind = "AWS::ApiGateway::RestApi" if s.resources("AWS::ApiGateway::RestApi") else "AWS::ApiGatewayV2::Api"
    return s.one(kind)["Properties"]["Body"]


def _unprotected(body) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in body["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS and not operation.get("security")
    }


def _acknowledged(s) -> set[str]:
    return {
        rule["id"]
        for resource in s.template["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }


@pytest.mark.parametrize("mode", ["cognito", "iam", "jwt_http"])
def test_every_operation_but_the_public_one_carries_an_authorizer_and_the_template_is_clean(mode, request):
    s = request.getfixturevalue(mode)
    assert _unprotected(_body(s)) == {("/health", "get")}
    assert nag_findings(s) == []
    assert {"AwsSolutions-APIG4", "AwsSolutions-COG4"}.isdisjoint(_acknowledged(s))
    assert cfn_lint_errors(s.template_path) == []
    assert s.one("AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]["AUTH"] == mode.split("_")[0]


def test_cognito_creates_a_pool_with_the_routes_groups_and_points_every_authorizer_at_it(cognito):
    (pool_id,) = cognito.resources("AWS::Cognito::UserPool")
    pool = cognito.one("AWS::Cognito::UserPool")["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    groups = {g["Properties"]["GroupName"] for g in cognito.resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"staff", "admin"}
    body = _body(cognito)
    scheme = body["components"]["securitySchemes"]["cognito"]
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    assert body["paths"]["/students"]["get"]["security"] == [{"cognito": []}]
    assert body["paths"]["/jobs"]["post"]["security"] == [{"sigv4": []}]
    assert body["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    assert {"UserPoolId", "UserPoolClientId"} <= set(cognito.template["Outputs"])


def test_cognito_appsync_defaults_to_the_pool_with_iam_beside_it_and_keeps_the_group_directives(cognito):
    api = cognito.one("AWS::AppSync::GraphQLApi")["Properties"]
    assert api["AuthenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert api["UserPoolConfig"]["DefaultAction"] == "ALLOW"
    assert api["AdditionalAuthenticationProviders"] == [{"AuthenticationType": "AWS_IAM"}]
    definition = cognito.one("AWS::AppSync::GraphQLSchema")["Properties"]["Definition"]
    assert '@aws_cognito_user_pools(cognito_groups: ["admin"])' in definition


def test_iam_signs_every_operation_requires_an_api_key_in_a_usage_plan_and_appsync_drops_pool_directives(iam):
    body = _body(iam)
    assert body["paths"]["/students"]["get"]["security"] == [{"sigv4": [], "api_key": []}]
    assert body["x-amazon-apigateway-api-key-source"] == "HEADER"
    plan = iam.one("AWS::ApiGateway::UsagePlan")["Properties"]
    assert plan["Throttle"] == {"BurstLimit": 100, "RateLimit": 50}
    assert iam.one("AWS::ApiGateway::UsagePlanKey") and "ApiKeyId" in iam.template["Outputs"]
    assert iam.resources("AWS::Cognito::UserPool") == {}
    api = iam.one("AWS::AppSync::GraphQLApi")["Properties"]
    assert api["AuthenticationType"] == "AWS_IAM" and "AdditionalAuthenticationProviders" not in api
    assert "aws_cognito_user_pools" not in iam.one("AWS::AppSync::GraphQLSchema")["Properties"]["Definition"]
    assert any("left out of the deployed schema" in w for w in iam.warnings)
    assert any("save_student(), delete_student() name groups" in w for w in iam.warnings)


def test_an_http_api_checks_tokens_of_the_configured_issuer_and_appsync_uses_it_too(jwt_http):
    body = _body(jwt_http)
    authorizer = body["components"]["securitySchemes"]["jwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt" and authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {"issuer": "https://id.example.com", "audience": ["app"]}
    api = jwt_http.one("AWS::AppSync::GraphQLApi")["Properties"]
    assert api["AuthenticationType"] == "OPENID_CONNECT"
    assert api["OpenIDConnectConfig"] == {"ClientId": "app", "Issuer": "https://id.example.com"}


def test_a_public_dev_stack_keeps_its_acknowledged_public_api(tmp_path_factory):
    public = _synth(tmp_path_factory, "public", {"auth": "none"})
    assert _unprotected(_body(public)) == {
        (p, m) for p, item in _body(public)["paths"].items() for m in item if m in OPERATIONS
    } - {("/jobs", "post")}
    assert {"AwsSolutions-APIG4", "AwsSolutions-COG4"} <= _acknowledged(public)
    assert public.one("AWS::AppSync::GraphQLApi")["Properties"]["AuthenticationType"] == "API_KEY"


def _app_py(tmp_path, environ: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_OUTDIR": str(tmp_path / "out"),
        "CDK_CONTEXT_JSON": json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"]),
        **environ,
    }
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_app_py_refuses_a_public_prod_stage_in_one_line_that_says_how(tmp_path):
    result = _app_py(tmp_path, {"STACK_AUTH": "none", "STACK_STAGE": "prod"})
    assert result.returncode == 1
    assert "stage prod would deploy a public API (auth=none)" in result.stderr
    assert "publicApi=true (PUBLIC_API=true)" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.template.json"))


# -- the schema's directives against the routes (no synth needed) -------------------------------------
def _graphql_routes(source: str = SOURCE):
    return scan_source(source, "lambda_function.py").graphql


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (SCHEMA.replace('["admin"]', '["staff"]'), "declares groups=['admin'] but Mutation.deleteStudent"),
        (SCHEMA.replace(' @aws_cognito_user_pools(cognito_groups: ["staff"])', ""), "has cognito_groups []"),
        (SCHEMA.replace("listStudents: [Student!]!", "listStudents: [Student!]! @aws_api_key"), "public in one place"),
    ],
)
def test_a_schema_whose_directives_disagree_with_the_routes_is_a_synth_error(schema, message):
    with pytest.raises(RouteError, match=re.escape(message)):
        check_schema_access(_graphql_routes(), schema)


def test_the_directives_of_modes_the_api_lacks_are_cut_out_and_the_rest_of_the_text_kept():
    text, left_out = deployable_schema(SCHEMA, {"AWS_IAM"})
    assert left_out == ["AMAZON_COGNITO_USER_POOLS"] and "aws_cognito" not in text
    assert text.replace(" ", "") == SCHEMA.replace(' @aws_cognito_user_pools(cognito_groups: ["staff"])', "").replace(
        ' @aws_cognito_user_pools(cognito_groups: ["admin"])', ""
    ).replace(" ", "")
    assert deployable_schema(SCHEMA, {"AMAZON_COGNITO_USER_POOLS"}) == (SCHEMA, [])


def test_the_real_schema_agrees_with_the_real_routes():
    from infra.routes import scan_routes

    routes = scan_routes(ROOT / "src" / "lambda_function.py").graphql
    check_schema_access(routes, (ROOT / "src" / "schema.graphql").read_text())
