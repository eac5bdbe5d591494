"""The deploy check: what CloudFormation or the account would refuse, or leave behind, found in the template.

cfn-lint judges each resource against its schema and cdk-nag against security rules; neither knows
what only a deploy shows. This check reads the synthesized template for those classes of failure:

- a security group rule given twice (EC2 refuses the second: InvalidPermission.Duplicate);
- a value looked up per region in a mapping (a layer ARN, a service principal) that has no entry for a
  region the template may be deployed in (Fn::FindInMap fails at deploy);
- a resource of which an account holds one per region (API Gateway's CloudWatch role) that the
  configuration did not ask for (the last stack deployed silently wins);
- a log group without a retention, or one a service creates by itself because the template made none;
- a name that must be unique per account (IAM, dashboards) without the region in it, or unique per
  region without the stack's name in it (a second stage or region fails on "already exists").

`app.py` runs it after every synth, so `make synth` and `make deploy` stop on a finding; the settings
matrix (tests/infrastructure/test_matrix.py) runs it on every documented combination.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.config import Config

Template = dict[str, Any]


def partition_regions(partition: str = "aws") -> tuple[str, ...]:
    """The regions CDK knows in `partition`: where a region-agnostic template might be deployed."""
    from aws_cdk.region_info import RegionInfo

    return tuple(sorted(r.name for r in RegionInfo.regions if r.partition == partition))


@dataclass(frozen=True)
class Finding:
    """One problem: the rule it breaks, what to do, and whether it stops the synth."""

    rule: str
    message: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def check_template(template: Template, config: Config, regions: tuple[str, ...] = ()) -> list[Finding]:
    """Every finding of every rule; `regions` are those a region-agnostic template might be deployed in."""
    resources = template.get("Resources", {})
    return [
        *duplicate_security_group_rules(resources),
        *unmapped_regions(template, config, regions),
        *unasked_singletons(resources, config),
        *log_groups_without_retention(resources),
        *names_not_unique(resources, config),
    ]


# -- security group rules ---------------------------------------------------------------------------------
def _group(value: Any) -> str:
    """A security group as the rule names it: the logical id of one in the template, else the value itself."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return json.dumps(value, sort_keys=True)


_PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "DestinationSecurityGroupId",
    "SourcePrefixListId",
    "DestinationPrefixListId",
)
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "-1": "-1"}


def _rules(resources: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(what EC2 compares, where the rule is written) for every ingress and egress rule of the template."""
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::EC2::SecurityGroup":
            for direction in ("Ingress", "Egress"):
                for rule in props.get(f"SecurityGroup{direction}", []):
                    yield _rule_key(direction, logical_id, rule), f"{logical_id} (inline)"
        elif kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            direction = kind.rsplit("Group", 1)[1]
            yield _rule_key(direction, _group(props.get("GroupId")), props), logical_id


def _rule_key(direction: str, group: str, rule: dict[str, Any]) -> tuple[Any, ...]:
    protocol = str(rule.get("IpProtocol", "")).lower()
    peer = next(((name, _group(rule[name])) for name in _PEERS if name in rule), None)
    # The description is not part of a rule's identity: EC2 refuses a second rule that differs only there.
    ports = tuple(_port(rule.get(name)) for name in ("FromPort", "ToPort"))
    return (direction, group, _PROTOCOLS.get(protocol, protocol), *ports, peer)


def _port(value: Any) -> Any:
    """A port as written: a number, or a reference (a cluster's port) that compares by what it names."""
    return value if isinstance(value, (int, str, type(None))) else json.dumps(value, sort_keys=True)


def duplicate_security_group_rules(resources: dict[str, Any]) -> list[Finding]:
    """Rules EC2 would see twice: the second fails the deploy with InvalidPermission.Duplicate."""
    seen: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for key, where in _rules(resources):
        seen[key].append(where)
    findings = []
    for (direction, group, protocol, low, high, peer), places in seen.items():
        if len(places) > 1:
            ports = f"{low}" if low == high else f"{low}-{high}"
            other = f" {'from' if direction == 'Ingress' else 'to'} {peer[1]}" if peer else ""
            findings.append(
                Finding(
                    "duplicate-security-group-rule",
                    f"{direction.lower()} {protocol} {ports} on {group}{other} is written {len(places)} times"
                    f" ({', '.join(places)}); EC2 refuses the second as InvalidPermission.Duplicate",
                )
            )
    return findings


# -- region mappings --------------------------------------------------------------------------------------
# Which setting decides a mapping CDK writes, by the mapping's name; others are named by the mapping.
MAPPING_SETTINGS = {"paramsandsecrets": "paramsAndSecrets (or paramsAndSecretsLayerArn)"}


def _region_lookups(node: Any) -> Iterator[str]:
    """Names of the mappings looked up by the deploy's region (`Fn::FindInMap [map, AWS::Region, ...]`)."""
    if isinstance(node, dict):
        lookup = node.get("Fn::FindInMap")
        if isinstance(lookup, list) and len(lookup) >= 2 and lookup[1] == {"Ref": "AWS::Region"}:
            yield lookup[0]
        for value in node.values():
            yield from _region_lookups(value)
    elif isinstance(node, list):
        for value in node:
            yield from _region_lookups(value)


def unmapped_regions(template: Template, config: Config, regions: tuple[str, ...]) -> list[Finding]:
    """A per-region lookup must have an entry for every region the template can be deployed in.

    With a region chosen, only that one; without, every region given (CDK's list for the partition). A
    template for an account is always for one region (config), so a gap there blocks; an offline
    template is a placeholder anyway, and the gap is reported without stopping the synth.
    """
    mappings = template.get("Mappings", {})
    findings = []
    for name in dict.fromkeys(_region_lookups(template.get("Resources", {}))):
        covered = set(mappings.get(name, {}))
        wanted = (config.region,) if config.region else regions
        missing = [region for region in wanted if region not in covered]
        if not missing:
            continue
        setting = next((s for key, s in MAPPING_SETTINGS.items() if name.lower().startswith(key)), f"mapping {name}")
        where = f"in {config.region}" if config.region else f"in {len(missing)} of {len(wanted)} regions"
        shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        findings.append(
            Finding(
                "region-mapping",
                f"{setting}: no value {where} ({shown}), where a deploy fails in Fn::FindInMap;"
                " synthesize for the region (REGION=...) or change the setting",
                blocking=config.region is not None or _deployable(config),
            )
        )
    return findings


def _deployable(config: Config) -> bool:
    """A template that could be deployed as it is: real subnets and a database, not the offline placeholders."""
    return not config.offline or bool(config.private_subnet_ids and config.database_given)


# -- one per account and region ---------------------------------------------------------------------------
# Resources of which an account holds one per region (or one per account), and the setting that asks for one.
SINGLETONS = {
    "AWS::ApiGateway::Account": ("apiGatewayCloudWatchRole", lambda c: c.api_gateway_cloud_watch_role is True),
    "AWS::IAM::OIDCProvider": ("githubOidcProviderArn", lambda c: c.github_oidc_provider_arn is None),
    "AWS::GuardDuty::Detector": (None, None),
    "AWS::SecurityHub::Hub": (None, None),
    "AWS::Config::ConfigurationRecorder": (None, None),
    "AWS::Logs::AccountPolicy": (None, None),
}


def unasked_singletons(resources: dict[str, Any], config: Config) -> list[Finding]:
    """A resource the account holds once per region replaces another stack's: only when the settings ask."""
    findings = []
    for logical_id, resource in resources.items():
        if resource["Type"] not in SINGLETONS:
            continue
        setting, asked = SINGLETONS[resource["Type"]]
        if asked is not None and asked(config):
            continue
        ask = f"; created only with {setting}" if setting else ""
        findings.append(
            Finding(
                "singleton",
                f"{logical_id} ({resource['Type']}) exists once per account and region: this stack would replace"
                f" whatever another stack set there{ask}",
            )
        )
    return findings


# -- log groups -------------------------------------------------------------------------------------------
def _parts(value: Any) -> tuple[Any, ...]:
    """A name as a sequence of literal text and references, so two spellings of one name compare equal."""
    parts: list[Any] = []

    def add(item: Any) -> None:
        if isinstance(item, str):
            if parts and isinstance(parts[-1], str):
                parts[-1] += item
            else:
                parts.append(item)
        elif isinstance(item, dict) and "Fn::Join" in item and item["Fn::Join"][0] == "":
            for piece in item["Fn::Join"][1]:
                add(piece)
        elif isinstance(item, dict) and "Fn::GetAtt" in item:
            parts.append(("GetAtt", *item["Fn::GetAtt"]))
        elif isinstance(item, dict) and "Ref" in item:
            parts.append(("Ref", item["Ref"]))
        else:
            parts.append(json.dumps(item, sort_keys=True))

    add(value)
    return tuple(parts)


def _implicit_log_groups(resources: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...] | None]]:
    """(who writes, the name of the group it writes to) for groups services create when none exists.

    None as the name: the writer names no group of the template at all (a Lambda function without
    LoggingConfig writes to /aws/lambda/<its generated name>).
    """
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function":
            group = props.get("LoggingConfig", {}).get("LogGroup")
            yield logical_id, (_parts(group) if group is not None else None)
        elif kind == "AWS::ApiGateway::Stage":
            levels = {s.get("LoggingLevel", "OFF") for s in props.get("MethodSettings", [])}
            if levels - {"OFF"}:
                name = ["API-Gateway-Execution-Logs_", props.get("RestApiId"), "/", props.get("StageName")]
                yield logical_id, _parts({"Fn::Join": ["", name]})
        elif kind == "AWS::AppSync::GraphQLApi" and props.get("LogConfig"):
            yield logical_id, _parts({"Fn::Join": ["", ["/aws/appsync/apis/", {"Fn::GetAtt": [logical_id, "ApiId"]}]]})
        elif kind == "AWS::RDS::DBCluster":
            for log in props.get("EnableCloudwatchLogsExports", []):
                cluster = str(props.get("DBClusterIdentifier", "")).lower()
                yield logical_id, _parts(f"/aws/rds/cluster/{cluster}/{log}")
        elif kind == "AWS::RDS::DBProxy" and props.get("DebugLogging"):
            yield logical_id, _parts({"Fn::Join": ["", ["/aws/rds/proxy/", props.get("DBProxyName", "")]]})


def log_groups_without_retention(resources: dict[str, Any]) -> list[Finding]:
    """Every log group the stack causes has a retention: its own, and those services would create."""
    findings = []
    groups = set()
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Logs::LogGroup":
            props = resource.get("Properties", {})
            # A group is named by its LogGroupName, and by a Ref to it (which resolves to that name).
            groups |= {_parts({"Ref": logical_id}), _parts(props.get("LogGroupName", {"Ref": logical_id}))}
            if "RetentionInDays" not in props:
                findings.append(Finding("log-retention", f"{logical_id} keeps its logs forever: give it a retention"))
    for writer, name in _implicit_log_groups(resources):
        if name is None or name not in groups:
            shown = "its own group" if name is None else "".join(p if isinstance(p, str) else "{..}" for p in name)
            findings.append(
                Finding(
                    "log-retention",
                    f"{writer} writes to {shown}, which the template does not create: the service creates it"
                    " with no retention and it outlives the stack",
                )
            )
    return findings


# -- names ------------------------------------------------------------------------------------------------
# Physical names unique in the whole account (every region), and unique per region.
ACCOUNT_WIDE_NAMES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    # "All dashboards in your account are global, not region-specific." (AWS::CloudWatch::Dashboard)
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::S3::Bucket": "BucketName",
}
REGIONAL_NAMES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBProxy": "DBProxyName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::KMS::Alias": "AliasName",
}


def _mentions_region(parts: tuple[Any, ...], config: Config) -> bool:
    return ("Ref", "AWS::Region") in parts or bool(
        config.region and any(isinstance(p, str) and config.region in p for p in parts)
    )


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _mentions_stack(parts: tuple[Any, ...], config: Config, resources: dict[str, Any]) -> bool:
    """The name holds the stack's name (CDK may drop its dashes), or a reference to a resource of the stack."""
    for part in parts:
        if isinstance(part, str) and _alnum(config.stack_name) in _alnum(part):
            return True
        if isinstance(part, tuple) and (part[1] in resources or part[1] == "AWS::StackName"):
            return True
    return False


def names_not_unique(resources: dict[str, Any], config: Config) -> list[Finding]:
    """Given names must not collide with another stage's or another region's of the same service."""
    findings = []
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind in ACCOUNT_WIDE_NAMES and ACCOUNT_WIDE_NAMES[kind] in props:
            parts = _parts(props[ACCOUNT_WIDE_NAMES[kind]])
            if not _mentions_region(parts, config):
                findings.append(
                    Finding(
                        "unique-name",
                        f"{logical_id}: {kind} names are unique in the whole account, and this"
                        f" {ACCOUNT_WIDE_NAMES[kind]} has no region in it: the same stack in a second region"
                        " fails with 'already exists'",
                    )
                )
        if kind in REGIONAL_NAMES and REGIONAL_NAMES[kind] in props:
            parts = _parts(props[REGIONAL_NAMES[kind]])
            if not _mentions_stack(parts, config, resources):
                findings.append(
                    Finding(
                        "unique-name",
                        f"{logical_id}: this {REGIONAL_NAMES[kind]} does not name the stack ({config.stack_name}):"
                        " a second stage in the same region fails with 'already exists'",
                    )
                )
    return findings


def report(template: Template, config: Config, out: Any = None) -> int:
    """Print the findings (`error:` blocks, `warning:` does not); the exit status `app.py` ends with."""
    import sys

    out = out or sys.stderr
    regions = () if config.region else partition_regions()
    findings = check_template(template, config, regions)
    for finding in findings:
        print(f"{'error' if finding.blocking else 'warning'}: deploy check: {finding}", file=out)
    return 1 if any(f.blocking for f in findings) else 0
