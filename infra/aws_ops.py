"""`make invoke` and `make tail`, with boto3 (which honours AWS_ENDPOINT_URL, so moto can stand in).

The function and its log group are found from the stack's outputs, or given directly. Anything
missing (credentials, region, the stack) is reported in one line, not as a traceback.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, TextIO

from infra.config import ROOT, project_config

EVENTS_DIR = ROOT / "events"


class OpsError(Exception):
    """A problem the user can fix; printed as `error: ...` and exit status 2."""


NO_CREDENTIALS = "no AWS credentials: set AWS_PROFILE (aws sso login / aws configure) or AWS_ACCESS_KEY_ID"
NO_REGION = "no AWS region: set AWS_REGION (or make ... REGION=eu-west-1) or configure a default region"


def aws_client(service: str) -> Any:
    """A boto3 client, or one OpsError naming everything missing: credentials first, then the region."""
    import boto3  # late: `make synth` and the tests of the scanner never need boto3

    session = boto3.session.Session()
    checks = ((NO_CREDENTIALS, session.get_credentials() is None), (NO_REGION, not session.region_name))
    missing = [message for message, absent in checks if absent]
    if missing:
        raise OpsError("; ".join(missing))
    return session.client(service)


def stack_outputs(stack_name: str, client: Callable[[str], Any] = aws_client) -> dict[str, str]:
    """The stack's outputs by key (FunctionName, LogGroupName, RestApiUrl, ...)."""
    try:
        stacks = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            raise OpsError(f"stack {stack_name} is not deployed in this account/region (make deploy)") from exc
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def event_path(name: str) -> Path:
    """EVENT= is a name in events/ (get_student) or a path to a JSON file."""
    for candidate in (Path(name), EVENTS_DIR / name, EVENTS_DIR / f"{name}.json"):
        if candidate.is_file():
            return candidate
    names = ", ".join(sorted(p.stem for p in EVENTS_DIR.glob("*.json"))) or "none"
    raise OpsError(f"no event {name!r}; events/ has: {names}")


def invoke(function_name: str, event: Path, out: TextIO = sys.stdout, client: Callable[[str], Any] = aws_client) -> int:
    """Invoke once; print the decoded payload (a JSON body decoded too) and the log tail."""
    payload = event.read_bytes()
    response = client("lambda").invoke(FunctionName=function_name, Payload=payload, LogType="Tail")
    raw = response["Payload"].read().decode("utf-8", "replace")
    out.write(f"status: {response.get('StatusCode')}")
    if response.get("FunctionError"):
        out.write(f" (function error: {response['FunctionError']})")
    out.write("\npayload:\n" + _pretty(raw) + "\n")
    if response.get("LogResult"):
        # Lambda returns the last 4 KB of the invocation's log, base64-encoded.
        out.write("log tail:\n" + base64.b64decode(response["LogResult"]).decode("utf-8", "replace"))
    return 1 if response.get("FunctionError") else 0


def _pretty(raw: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict) and isinstance(data.get("body"), str):
        try:
            data["body"] = json.loads(data["body"])
        except ValueError:
            pass
    return json.dumps(data, indent=2, ensure_ascii=False)


def log_events(
    log_group: str,
    since_ms: int,
    follow: bool,
    client: Callable[[str], Any] = aws_client,
    poll_seconds: float = 2.0,
    *,
    filter_pattern: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the group's events from `since_ms` on (those matching `filter_pattern`); with `follow`, keep polling."""
    logs = client("logs")
    seen: set[str] = set()
    start = since_ms
    while True:
        kwargs: dict[str, Any] = {"logGroupName": log_group, "startTime": start, "interleaved": True}
        if filter_pattern:
            kwargs["filterPattern"] = filter_pattern
        while True:
            page = logs.filter_log_events(**kwargs)
            for event in page.get("events", []):
                if event["eventId"] not in seen:
                    seen.add(event["eventId"])
                    start = max(start, event["timestamp"])
                    yield event
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        if not follow:
            return
        time.sleep(poll_seconds)


def request_filter(request_id: str) -> str:
    """A CloudWatch Logs filter pattern for every line that names the id: JSON logs, EMF lines, START/REPORT."""
    if not request_id or '"' in request_id or "\\" in request_id:
        raise OpsError(f"REQUEST_ID {request_id!r}: give the id as the X-Request-Id header or a log line shows it")
    # A quoted term matches it anywhere in the line; unquoted, its dashes would read as exclusions.
    return f'"{request_id}"'


def tail(
    log_group: str,
    since_minutes: int = 10,
    follow: bool = True,
    out: TextIO = sys.stdout,
    client: Callable = aws_client,
    *,
    request_id: str | None = None,
) -> int:
    """Print `time stream message` per log event (only a request's with `request_id`); follows until interrupted."""
    since = int((time.time() - since_minutes * 60) * 1000)
    pattern = request_filter(request_id) if request_id is not None else None
    try:
        for event in log_events(log_group, since, follow, client, filter_pattern=pattern):
            stamp = time.strftime("%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
            out.write(f"{stamp} {event.get('logStreamName', '')[-8:]} {event['message'].rstrip()}\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    return 0


def check(stage: str | None, require_stage: bool, client: Callable[[str], Any] = aws_client) -> str:
    """Fail early, in words, when a command that talks to AWS cannot work; return the account."""
    if require_stage and not stage:
        raise OpsError("STAGE is not set: say which stage to change, e.g. `make deploy STAGE=dev`")
    try:
        return client("sts").get_caller_identity()["Account"]
    except OpsError:
        raise
    except Exception as exc:
        raise OpsError(_explain(exc)) from exc


def _explain(exc: Exception) -> str:
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "ProfileNotFound"):
        return NO_CREDENTIALS
    if name == "NoRegionError":
        # A client is built before it signs anything, so boto3 notices the region first: say both.
        return NO_REGION if _has_credentials() else f"{NO_CREDENTIALS}; {NO_REGION}"
    if name in ("ClientError", "EndpointConnectionError", "TokenRetrievalError", "SSOTokenLoadError"):
        return f"AWS rejected or could not be reached: {exc}"
    return f"{name}: {exc}"


def _has_credentials() -> bool:
    import boto3

    return boto3.session.Session().get_credentials() is not None


def main(argv: list[str] | None = None) -> int:
    """Command line for the make targets: check | invoke | tail."""
    parser = argparse.ArgumentParser(prog="python -m infra.aws_ops", description=__doc__)
    parser.add_argument("command", choices=["check", "invoke", "tail"])
    parser.add_argument("--stage", default=os.environ.get("STAGE"))
    parser.add_argument("--require-stage", action="store_true")
    parser.add_argument("--service", default=None, help="the stack's serviceName (default: cdk.json)")
    parser.add_argument("--function", default=os.environ.get("FUNCTION_NAME"), help="skip the stack lookup")
    parser.add_argument("--log-group", default=os.environ.get("LOG_GROUP"), help="skip the stack lookup")
    parser.add_argument("--event", default=os.environ.get("EVENT", "get_student"))
    parser.add_argument("--request-id", default=os.environ.get("REQUEST_ID") or None, help="tail: one request's lines")
    parser.add_argument(
        "--since", type=int, default=None, help="minutes of history for tail (10; 60 with a request id)"
    )
    parser.add_argument("--no-follow", action="store_true")
    args = parser.parse_args(argv)
    use_region_from_environment()
    stage = args.stage or "dev"
    try:
        if args.command == "check":
            account = check(args.stage, args.require_stage)
            print(f"AWS account {account}, stage {stage}")
            return 0
        needs_stack = (args.command == "invoke" and not args.function) or (
            args.command == "tail" and not args.log_group
        )
        service = args.service or project_config().service_name
        outputs = stack_outputs(f"{service}-{stage}") if needs_stack else {}
        if args.command == "invoke":
            event = event_path(args.event)
            return invoke(args.function or outputs["FunctionName"], event)
        # One request's lines are history: search further back and stop at the end instead of following.
        since = args.since or (60 if args.request_id else 10)
        follow = not args.no_follow and not args.request_id
        return tail(args.log_group or outputs["LogGroupName"], since, follow, request_id=args.request_id)
    except Exception as exc:
        return report_aws_error(exc)


def use_region_from_environment(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Make AWS_REGION (or the stack's region, STACK_REGION) the region boto3 uses; return it.

    boto3 reads AWS_DEFAULT_REGION only (AWS_REGION is what the Lambda runtime and most tools set), so
    without this a region given the way the error message asks for was silently ignored.
    """
    env = os.environ if environ is None else environ
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or env.get("STACK_REGION")
    if region:
        env["AWS_DEFAULT_REGION"] = region
    return region


def report_aws_error(exc: Exception) -> int:
    """Print an AWS-facing command's failure as one line and return exit code 2; re-raise our own bugs."""
    if isinstance(exc, OpsError):
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # botocore's exceptions, recognised without importing botocore at module level
    if type(exc).__module__.startswith("botocore"):
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return 2
    raise exc


if __name__ == "__main__":
    sys.exit(main())
