"""The CI deploy roles: GitHub OIDC provider, a role per stage scoped to the CDK bootstrap roles (nag, cfn-lint)."""

from __future__ import annotations

import json

import pytest
from infra_support import ACCOUNT, ROOT
from test_stack import cfn_lint_errors

from infra.config import ConfigError


def _synth(tmp_path, context: dict, environ: dict):
    import aws_cdk as cdk

    from infra.deploy_access import build_app

    merged = {**json.loads((ROOT / "cdk.json").read_text())["context"], **context}
    app = cdk.App(context=merged, outdir=str(tmp_path / "cdk.out"))
    stack = build_app(app, environ)
    assembly = app.synth()
    return assembly.get_stack_by_name(stack.stack_name).template, tmp_path / "cdk.out", stack.stack_name


@pytest.fixture(scope="module")
def access(tmp_path_factory):
    environ = {"STACK_ACCOUNT": "123456789012", "STACK_REGION": "eu-west-1", "STACK_GITHUB_REPOSITORY": "acme/students"}
    return _synth(tmp_path_factory.mktemp("access"), {}, environ)


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_the_github_oidc_provider_trusts_sts_as_the_audience(access):
    template, _, _ = access
    (provider,) = resources(template, "AWS::IAM::OIDCProvider").values()
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]


def roles_by_stage(template: dict) -> dict[str, dict]:
    """Each deploy role by the GitHub environment (stage) its trust policy names."""
    found = {}
    for role in resources(template, "AWS::IAM::Role").values():
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        subject = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        found[subject.rsplit(":", 1)[1]] = role
    return found


def test_each_stage_has_a_role_only_its_github_environment_of_this_repository_may_assume(access):
    template, _, _ = access
    roles = roles_by_stage(template)
    assert set(roles) == {"dev", "prod"}
    for stage in ("dev", "prod"):
        (statement,) = roles[stage]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:acme/students:environment:{stage}",
            }
        }
        assert roles[stage]["MaxSessionDuration"] == 3600
    assert {"DeployRoleArnDev", "DeployRoleArnProd"} <= set(template["Outputs"])


def test_the_deploy_roles_have_no_fixed_name_so_a_second_region_can_have_its_own(access):
    # IAM role names are unique in the whole account; `{service}-{stage}-github-deploy` failed in region two.
    template, _, _ = access
    assert all("RoleName" not in role for role in resources(template, "AWS::IAM::Role").values())
    from infra.config import load_config
    from infra.deploy_check import check_template

    config = load_config({"githubRepository": "acme/students", **ACCOUNT}.get, {}, strict=False)
    assert [f for f in check_template(template, config) if f.rule == "unique-name"] == []


def test_the_deploy_check_finds_a_fixed_role_name_without_the_region():
    from infra.config import load_config
    from infra.deploy_check import check_template

    template = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "api-dev-github-deploy"}}}}
    (finding,) = check_template(template, load_config(ACCOUNT.get, {}, strict=False))
    assert finding.rule == "unique-name" and "second region" in finding.message


def test_a_deploy_role_may_only_assume_the_cdk_bootstrap_roles_read_its_stack_and_invoke_its_function(access):
    template, _, _ = access
    policies = [p for p in resources(template, "AWS::IAM::Policy").values() if "Prod" in p["PolicyName"]]
    statements = {json.dumps(s["Action"]): s["Resource"] for p in policies for s in p["PolicyDocument"]["Statement"]}
    assume = statements[json.dumps(["sts:AssumeRole", "sts:TagSession"])]
    names = sorted(json.dumps(arn).split(":role/")[1].split("-123456789012")[0] for arn in assume)
    assert names == [
        f"cdk-hnb659fds-{n}" for n in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
    ]
    stack_actions = json.dumps(["cloudformation:DescribeStacks", "cloudformation:ListStackResources"])
    assert "stack/students-api-prod/*" in json.dumps(statements[stack_actions])
    assert "function:students-api-prod-*" in json.dumps(
        statements[json.dumps(["lambda:GetFunctionConcurrency", "lambda:InvokeFunction"])]
    )
    assert statements['"lambda:GetAccountSettings"'] == "*"  # the preflight's quota read has no resource
    assert "/account" in json.dumps(statements['"apigateway:GET"'])
    assert len(statements) == 5


def test_an_existing_provider_is_reused_and_other_stages_and_qualifiers_follow_the_settings(tmp_path):
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    environ = {
        "STACK_GITHUB_REPOSITORY": "acme/students",
        "STACK_DEPLOY_STAGES": "staging",
        "STACK_GITHUB_OIDC_PROVIDER_ARN": arn,
        "STACK_CDK_QUALIFIER": "custom1",
    }
    template, _, _ = _synth(tmp_path, {}, environ)
    assert resources(template, "AWS::IAM::OIDCProvider") == {}
    assert set(roles_by_stage(template)) == {"staging"}
    assert "cdk-custom1-deploy-role" in json.dumps(template)


def test_without_a_repository_the_stack_is_refused_in_words(tmp_path):
    with pytest.raises(ConfigError, match="githubRepository is required"):
        _synth(tmp_path, {}, {})


def test_the_deploy_access_template_passes_cdk_nag_and_cfn_lint(access):
    _, outdir, stack_name = access
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    assert all(r["conclusion"] == "success" for r in reports), reports
    assert [v for r in reports for v in r["violations"] if "AwsSolutions" in v["ruleName"]] == []
    assert cfn_lint_errors(outdir / f"{stack_name}.template.json") == []
