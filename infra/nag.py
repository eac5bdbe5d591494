"""The security scanners' findings: cdk-nag's AwsSolutions checks at synth, and the one place every
finding of cdk-nag or checkov that the template does not fix is acknowledged, always with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def _require_reason(rule: str, reason: str) -> None:
    if len(reason.split()) < 5:
        raise ValueError(f"{rule}: a suppression needs a real reason, got {reason!r}")


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `construct`; a written reason is mandatory."""
    _require_reason(rule, reason)
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_checkov(construct: IConstruct, check: str, reason: str) -> None:
    """Acknowledge one checkov check (CKV_...) on the resource of `construct`, as checkov reads it.

    checkov takes its suppressions from the template: `Metadata.checkov.skip`, one id and comment each.
    """
    _require_reason(check, reason)
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{check}: {construct.node.path} has no CloudFormation resource to carry the reason")
    skips = [s for s in (resource.get_metadata("checkov") or {}).get("skip", []) if s["id"] != check]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": reason}]})


def add_checks(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synth; an unacknowledged finding fails the synth."""
    # Acknowledgments are copied into the template metadata, so every reason is reviewable there.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
