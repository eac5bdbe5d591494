"""SnapStart runtime hooks: what one initialized environment holds must not be shared by every environment
Lambda restores from its snapshot.

Before the snapshot: close the cached connection (a socket cannot be restored into many environments)
and import boto3 when the secret will be read with it, so restores do not pay for that import. After a
restore: drop the connection, the cached credentials and the settings again (whatever ran in between),
and reseed `random`, whose state would otherwise be the same in every restored environment.

`snapshot_restore_py` ships inside Lambda's Python runtime only, so it is imported only when the
environment is being initialized for a snapshot (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lambdakit import credentials, secrets_extension
from lambdakit.settings import database_settings


def before_snapshot() -> None:
    """Close the connection; load boto3 now if a restored environment would import it for the secret."""
    import db_utils

    db_utils.close_connection()
    if os.environ.get("DB_SECRET_ARN") and secrets_extension.configured_port(os.environ) is None:
        import boto3  # noqa: F401  (imported for the snapshot's sake; the client is built after restore)


def after_restore() -> None:
    """Forget everything tied to the environment the snapshot was taken in."""
    import random  # here, not at the top: every cold start imports this module, few ever restore

    import db_utils

    db_utils.close_connection()
    credentials.forget_credentials()
    database_settings.cache_clear()
    random.seed()


def register_hooks(environ: Mapping[str, str] | None = None) -> bool:
    """Register both hooks when initializing for a snapshot; True when registered."""
    env = os.environ if environ is None else environ
    if env.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True
