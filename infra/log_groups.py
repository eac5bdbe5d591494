"""Log groups the stack owns: the stage's retention, removed with the stack."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import RETENTION_NAMES, Config


def retained_log_group(scope: Construct, construct_id: str, config: Config, name: str | None = None) -> logs.LogGroup:
    """A log group created by us rather than by the service, so it has a retention and no leftovers."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=logs.RetentionDays[RETENTION_NAMES[config.log_retention_days]],
        removal_policy=RemovalPolicy.DESTROY,
    )
