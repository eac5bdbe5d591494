"""Log groups the stack owns: the stage's retention, removed with the stack."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import RETENTION_NAMES, Config
from infra.nag import acknowledge_checkov


def retained_log_group(scope: Construct, construct_id: str, config: Config, name: str | None = None) -> logs.LogGroup:
    """A log group created by us rather than by the service, so it has a retention and no leftovers."""
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=logs.RetentionDays[RETENTION_NAMES[config.log_retention_days]],
        removal_policy=RemovalPolicy.DESTROY,
    )
    acknowledge_checkov(
        group,
        "CKV_AWS_158",
        "CloudWatch Logs encrypts every log group at rest with its own keys; a customer-managed key adds a"
        " key policy per service and a monthly fee, and makes the logs unreadable once the key is disabled.",
    )
    return group
