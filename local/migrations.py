"""`make migrate`: apply src/migrations/*.sql to the local database, or (STAGE=dev) to the deployed one.

A deployed database sits in private subnets that only the Lambda reaches, so for a stage this invokes
the function's direct route `migrate`, which runs the same src/migrator.py. boto3 honours
AWS_ENDPOINT_URL, so an emulator can stand in for AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

MIGRATE_EVENT = {"route": "migrate", "args": {}}


def migrate_local(out: TextIO = sys.stdout) -> int:
    """Apply pending migrations to DATABASE_URL or the embedded database; print what was applied."""
    from local.database import apply_migrations, database_url, load_migrator

    url = database_url()
    try:
        applied = apply_migrations(url)
    except load_migrator().MigrationFailed as exc:
        out.write(f"error: {exc.message}\n")
        return 1
    out.write(_summary(applied, "local database"))
    return 0


def migrate_stage(
    stage: str,
    *,
    function_name: str | None = None,
    service: str | None = None,
    client: Callable[[str], Any] | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Invoke the deployed function's `migrate` route; exit status 1 when a migration failed."""
    from infra.aws_ops import stack_outputs

    client = client or _boto3_client
    if not function_name:
        from infra.config import project_config

        service = service or project_config().service_name
        function_name = stack_outputs(f"{service}-{stage}", client)["FunctionName"]
    out.write(f"migrating stage {stage} through {function_name} ...\n")
    response = client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(MIGRATE_EVENT).encode())
    raw = response["Payload"].read().decode("utf-8", "replace")
    if response.get("FunctionError"):
        out.write(f"error: the function failed ({response['FunctionError']}): {raw}\n")
        return 1
    answer = json.loads(raw) if raw else {}
    if "error" in answer:
        out.write(f"error: {answer['error'].get('message')} (status {answer['error'].get('status')})\n")
        return 1
    out.write(_summary(answer.get("data", {}).get("applied", []), f"stage {stage}"))
    return 0


def _boto3_client(service: str) -> Any:
    import boto3  # late: only a deployed stage needs it, and boto3 is slow to import

    return boto3.client(service)


def _summary(applied: list[str], where: str) -> str:
    if not applied:
        return f"{where}: up to date, nothing to apply\n"
    return f"{where}: applied {len(applied)} migration(s):\n" + "".join(f"  {name}\n" for name in applied)


def main(argv: list[str] | None = None) -> int:
    """Command line of `make migrate [STAGE=...]`."""
    parser = argparse.ArgumentParser(prog="python -m local.migrations", description=__doc__)
    parser.add_argument("--stage", default=os.environ.get("STAGE") or None, help="a deployed stage; local when absent")
    parser.add_argument("--function", default=os.environ.get("FUNCTION_NAME"), help="skip the stack lookup")
    parser.add_argument("--service", default=None, help="the stack's serviceName (default: cdk.json, SERVICE_NAME)")
    args = parser.parse_args(argv)
    if not args.stage:
        return migrate_local()
    from infra.aws_ops import report_aws_error, use_region_from_environment

    use_region_from_environment()

    try:
        return migrate_stage(args.stage, function_name=args.function, service=args.service)
    except Exception as exc:
        return report_aws_error(exc)


if __name__ == "__main__":
    sys.exit(main())
