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

from collections.abc import Callable, Mapping

from lambdakit import credentials
from lambdakit.settings import database_settings, initialization_type, secret_read_with_boto3


def before_snapshot(close_connection: Callable[[], None]) -> None:
    """Close the connection; load boto3 now if a restored environment would import it for the secret."""
    close_connection()
    if secret_read_with_boto3():
        import boto3  # noqa: F401  (imported for the snapshot's sake; the client is built after restore)


def after_restore(close_connection: Callable[[], None]) -> None:
    """Forget everything tied to the environment the snapshot was taken in."""
    import random  # here, not at the top: every cold start imports this module, few ever restore

    close_connection()
    credentials.forget_credentials()
    database_settings.cache_clear()
    random.seed()


def register_hooks(close_connection: Callable[[], None], environ: Mapping[str, str] | None = None) -> bool:
    """Register both hooks when initializing for a snapshot, closing with `close_connection`; True when registered."""
    if initialization_type(environ) != "snap-start":
        return False
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(lambda: before_snapshot(close_connection))
    register_after_restore(lambda: after_restore(close_connection))
    return True
