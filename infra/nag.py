"""cdk-nag AwsSolutions checks and the one helper every acknowledged finding goes through."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `construct`; a written reason is mandatory."""
    if len(reason.split()) < 5:
        raise ValueError(f"{rule}: a suppression needs a real reason, got {reason!r}")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def add_checks(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synth; an unacknowledged finding fails the synth."""
    # Acknowledgments are copied into the template metadata, so every reason is reviewable there.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
