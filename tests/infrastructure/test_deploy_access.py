"""The CI deploy roles: GitHub OIDC provider, a role per stage scoped to the CDK bootstrap roles (nag, cfn-lint)."""

from __future__ import annotations

import json

import pytest
from infra_support import ROOT
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
    environ = {"ACCOUNT": "123456789012", "REGION": "eu-west-1", "GITHUB_REPOSITORY": "acme/students"}
    return _synth(tmp_path_factory.mktemp("access"), {}, environ)


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_the_github_oidc_provider_trusts_sts_as_the_audience(access):
    template, _, _ = access
    (provider,) = resources(template, "AWS::IAM::OIDCProvider").values()
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]


def test_each_stage_has_a_role_only_its_github_environment_of_this_repository_may_assume(access):
    template, _, _ = access
    roles = {r["RoleName"]: r for r in resources(template, "AWS::IAM::Role").values()}
    assert set(roles) == {"students-api-dev-github-deploy", "students-api-prod-github-deploy"}
    for stage in ("dev", "prod"):
        (statement,) = roles[f"students-api-{stage}-github-deploy"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:acme/students:environment:{stage}",
            }
        }
        assert roles[f"students-api-{stage}-github-deploy"]["MaxSessionDuration"] == 3600


def test_a_deploy_role_may_only_assume_the_cdk_bootstrap_roles_read_its_stack_and_invoke_its_function(access):
    template, _, _ = access
    policies = [p for p in resources(template, "AWS::IAM::Policy").values() if "Prod" in p["PolicyName"]]
    statements = {json.dumps(s["Action"]): s["Resource"] for p in policies for s in p["PolicyDocument"]["Statement"]}
    assume = statements[json.dumps(["sts:AssumeRole", "sts:TagSession"])]
    names = sorted(json.dumps(arn).split(":role/")[1].split("-123456789012")[0] for arn in assume)
    assert names == [
        f"cdk-hnb659fds-{n}" for n in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
    ]
    assert "stack/students-api-prod/*" in json.dumps(statements['"cloudformation:DescribeStacks"'])
    assert "function:students-api-prod-*" in json.dumps(statements['"lambda:InvokeFunction"'])
    assert len(statements) == 3


def test_an_existing_provider_is_reused_and_other_stages_and_qualifiers_follow_the_settings(tmp_path):
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    environ = {
        "GITHUB_REPOSITORY": "acme/students",
        "DEPLOY_STAGES": "staging",
        "GITHUB_OIDC_PROVIDER_ARN": arn,
        "CDK_QUALIFIER": "custom1",
    }
    template, _, _ = _synth(tmp_path, {}, environ)
    assert resources(template, "AWS::IAM::OIDCProvider") == {}
    (role,) = resources(template, "AWS::IAM::Role").values()
    assert role["RoleName"] == "students-api-staging-github-deploy"
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
