"""The deploy check on small templates: each rule finds its class of failure, wherever it comes from."""

from __future__ import annotations

from typing import Any

import pytest
from infra_support import ACCOUNT

from infra.config import load_config
from infra.deploy_check import check_template, report


def config(**context: Any):
    return load_config({**ACCOUNT, **context}.get, {}, strict=False)


def rules(resources: dict, template: dict | None = None, **context: Any) -> list[str]:
    findings = check_template({"Resources": resources, **(template or {})}, config(**context), ("eu-west-1",))
    return [f"{f.rule}: {f.message}" for f in findings]


def group(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def ingress(target: Any, source: Any, port: Any = 5432, description: str = "x") -> dict:
    properties = {
        "GroupId": target,
        "SourceSecurityGroupId": source,
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "Description": description,
    }
    return {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": properties}


def test_the_same_ingress_rule_twice_is_found_whatever_the_descriptions_and_spellings_say():
    port = {"Fn::GetAtt": ["Cluster", "Endpoint.Port"]}
    found = rules(
        {
            "Db": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
            "Proxy": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
            "ByCdk": ingress(group("Db"), group("Proxy"), port, "from the proxy"),
            "ByUs": ingress({"Ref": "Db"}, group("Proxy"), port, "RDS Proxy to the database"),
            "Other": ingress(group("Db"), group("Proxy"), 5433),
        }
    )
    (finding,) = found
    assert finding.startswith("duplicate-security-group-rule: ingress tcp")
    assert "ByCdk, ByUs" in finding and "InvalidPermission.Duplicate" in finding


def test_an_inline_egress_rule_repeated_as_its_own_resource_is_found():
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
    found = rules(
        {
            "Fn": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupEgress": [rule]}},
            "Again": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {"GroupId": group("Fn"), **rule}},
        }
    )
    assert [f.split(":")[0] for f in found] == ["duplicate-security-group-rule"]


MAPPED_LAYER = {
    "Mappings": {"ParamsandsecretslayerMap": {"eu-west-1": {"x": "arn"}, "us-east-1": {"x": "arn"}}},
}
USES_LAYER = {
    "Fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Layers": [{"Fn::FindInMap": ["ParamsandsecretslayerMap", {"Ref": "AWS::Region"}, "x"]}],
            "LoggingConfig": {"LogGroup": {"Ref": "Logs"}},
        },
    },
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
}


def test_a_region_lookup_without_the_chosen_region_is_refused_naming_the_setting():
    (finding,) = check_template(
        {"Resources": USES_LAYER, **MAPPED_LAYER}, config(region="ca-west-1"), ("eu-west-1", "ca-west-1")
    )
    assert finding.blocking and finding.rule == "region-mapping"
    assert finding.message.startswith("paramsAndSecrets (or paramsAndSecretsLayerArn): no value in ca-west-1")
    assert check_template({"Resources": USES_LAYER, **MAPPED_LAYER}, config(region="eu-west-1")) == []


def test_a_region_agnostic_template_names_the_regions_its_lookups_miss():
    offline = load_config({}.get, {}, strict=False)
    (finding,) = check_template({"Resources": USES_LAYER, **MAPPED_LAYER}, offline, ("eu-west-1", "ap-south-2"))
    assert "no value in 1 of 2 regions (ap-south-2)" in finding.message
    assert not finding.blocking  # a placeholder template; one with real subnets and a database is refused
    deployable = load_config(
        {
            "vpcId": "vpc-1",
            "privateSubnetIds": ["subnet-1"],
            "dbSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC123",
            "dbHost": "db",
        }.get,
        {},
        strict=False,
    )
    (finding,) = check_template({"Resources": USES_LAYER, **MAPPED_LAYER}, deployable, ("eu-west-1", "ap-south-2"))
    assert finding.blocking


def test_api_gateways_account_role_is_refused_unless_the_settings_ask_for_it():
    account = {"Account": {"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": "arn"}}}
    (finding,) = rules(account)
    assert finding.startswith("singleton: Account (AWS::ApiGateway::Account) exists once per account and region")
    assert "apiGatewayCloudWatchRole" in finding
    assert rules(account, apiGatewayCloudWatchRole=True) == []


def test_log_groups_without_retention_and_groups_services_would_create_are_found():
    found = rules(
        {
            "Forever": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "StageName": "dev",
                    "MethodSettings": [{"LoggingLevel": "ERROR"}],
                },
            },
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        }
    )
    assert [f.split(" ")[1] for f in found] == ["Forever", "Fn", "Stage"]
    assert "API-Gateway-Execution-Logs_{..}/dev" in found[2]


def test_an_execution_log_group_of_the_stage_satisfies_the_check():
    name = {"Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": "Api"}, "/dev"]]}
    assert (
        rules(
            {
                "Stage": {
                    "Type": "AWS::ApiGateway::Stage",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "StageName": "dev",
                        "MethodSettings": [{"LoggingLevel": "ERROR"}],
                    },
                },
                "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
                "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name, "RetentionInDays": 30}},
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("resource", "ok"),
    [
        ({"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardName": "api-dev"}}, False),
        ({"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardName": "api-dev-eu-west-1"}}, True),
        (
            {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": {"Fn::Join": ["", ["api-dev-", {"Ref": "AWS::Region"}]]}},
            },
            True,
        ),
        ({"Type": "AWS::RDS::DBCluster", "Properties": {"DBClusterIdentifier": "app-db"}}, False),
        ({"Type": "AWS::RDS::DBCluster", "Properties": {"DBClusterIdentifier": "lambda-api-dev-db"}}, True),
        ({"Type": "AWS::RDS::DBProxy", "Properties": {"DBProxyName": "lambdaapidevDatabaseProxy1234"}}, True),
    ],
)
def test_names_unique_per_account_carry_the_region_and_names_unique_per_region_the_stack(resource, ok):
    assert (rules({"It": resource}) == []) is ok


def test_make_synth_prints_errors_and_warnings_and_fails_on_an_error():
    import io

    out = io.StringIO()
    bad = {"Resources": {"Forever": {"Type": "AWS::Logs::LogGroup", "Properties": {}}}}
    assert report(bad, config(), out) == 1
    assert out.getvalue() == "error: deploy check: log-retention: Forever keeps its logs forever: give it a retention\n"
    assert report({"Resources": {}}, config(), io.StringIO()) == 0
