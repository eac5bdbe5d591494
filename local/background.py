"""Background work on localhost, as AWS runs it deployed: a local SQS, the schedules, and an environment that consumes.

- The queues are moto's SQS server (the API boto3 speaks to SQS deployed), started by `make serve` on
  127.0.0.1 and kept across reloads, so queued messages outlive an edit. Each consumer's queue gets a
  dead-letter queue and SQS's redrive policy (moto moves a message there after `max_receives` receives,
  as SQS does) and the deployed visibility timeout (six times the function's timeout;
  LOCAL_VISIBILITY_TIMEOUT shortens it). The workers send to it through QUEUE_URLS and
  AWS_ENDPOINT_URL_SQS: the same code path as deployed, boto3 included.
- With each generation of workers, one more execution environment (`python -m local.background`)
  imports the handler and does what Lambda's event source mapping and EventBridge Scheduler do: it
  takes up to a consumer's batch size from its queue, invokes the handler with the SQS event, deletes
  the messages the answer does not name as failed (those come back after the visibility timeout), and
  starts each job when its schedule is due (`--no-schedules`, or SCHEDULES=off, turns that off). The
  outbox relay also runs once at start, so messages left unsent while nothing served go out.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# The account moto files its queues under; only URLs and ARNs show it.
LOCAL_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
# How long an idle loop waits before looking at the queues and the timetable again.
_IDLE_SECONDS = 0.2
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- the local SQS (in `make serve`'s own process) -----------------------------------------------------
class LocalQueues:
    """moto's SQS server on 127.0.0.1, for as long as `make serve` runs."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it would log every poll
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> str:
        """Start serving; the endpoint URL, also left in LOCAL_SQS_ENDPOINT for the workers to come."""
        self._server.start()
        endpoint = f"http://127.0.0.1:{self._server.get_host_and_port()[1]}"
        os.environ["LOCAL_SQS_ENDPOINT"] = endpoint
        return endpoint

    def stop(self) -> None:
        """Stop serving (the messages go with it)."""
        self._server.stop()


def local_queues(src: Path) -> LocalQueues | None:
    """The local SQS, started when src/ consumes a queue (a consumer added later needs a restart of make serve)."""
    from infra.routes import RouteError, scan_routes

    try:
        if not scan_routes(src / "lambda_function.py").queues:
            return None
    except RouteError:
        return None  # the workers' import reports it
    queues = LocalQueues()
    queues.start()
    return queues


def region() -> str:
    """The region the local queues live in: the shell's, else us-east-1 (moto keeps queues per region)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def sqs_client(endpoint: str) -> Any:
    """A boto3 SQS client for the local endpoint (moto accepts any signature; nothing leaves the machine)."""
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=region(),
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's, not a credential
    )


def visibility_timeout(function_timeout: float) -> int:
    """As deployed, six times the function's timeout; LOCAL_VISIBILITY_TIMEOUT (seconds) to see redeliveries sooner."""
    raw = os.environ.get("LOCAL_VISIBILITY_TIMEOUT", "").strip()
    return int(raw) if raw.isdigit() else int(6 * function_timeout)


def ensure_queues(client: Any, consumers: Iterable[Any], function_timeout: float) -> dict[str, str]:
    """Each consumer's queue and dead-letter queue, made as the stack makes them; {queue: URL}."""
    urls = {}
    for consumer in consumers:
        dead = client.create_queue(QueueName=f"{consumer.queue}-dead-letters")["QueueUrl"]
        dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": consumer.max_receives})
        attributes = {"VisibilityTimeout": str(visibility_timeout(function_timeout)), "RedrivePolicy": redrive}
        url = client.create_queue(QueueName=consumer.queue)["QueueUrl"]
        client.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # also when it existed with others
        urls[consumer.queue] = url
    return urls


def function_environment(endpoint: str, urls: dict[str, str]) -> dict[str, str]:
    """What the workers need to send to the local queues: their URLs, the endpoint, a region, credentials.

    Credentials only when the shell has none, so route code that calls AWS with the developer's keeps them.
    """
    env = {
        "QUEUE_URLS": json.dumps(urls),
        "AWS_ENDPOINT_URL_SQS": endpoint,
        "AWS_REGION": region(),
        "AWS_DEFAULT_REGION": region(),
    }
    has_credentials = any(os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE"))
    has_credentials = has_credentials or (Path.home() / ".aws" / "credentials").is_file()
    if not has_credentials:
        env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # noqa: S106 - moto's
    return env


# -- per generation of workers (local/server.py) -------------------------------------------------------
def start(src: Path, function_timeout: float) -> subprocess.Popen | None:
    """Before the workers start: make the queues, give the workers their URLs, start the consuming environment.

    None when src/ declares no consumer and no job to run (nothing to do in the background).
    """
    from infra.routes import RouteError, scan_routes
    from lambdakit.outbox import scheduled_jobs

    try:
        routes = scan_routes(src / "lambda_function.py")
    except RouteError:
        return None  # the workers' import reports it
    endpoint = os.environ.get("LOCAL_SQS_ENDPOINT", "")
    if routes.queues and endpoint:
        urls = ensure_queues(sqs_client(endpoint), routes.queues, function_timeout)
        os.environ.update(function_environment(endpoint, urls))
    elif routes.queues:
        _log("background: queues need the local SQS `make serve` starts with them; restart make serve")
    if not (routes.queues and endpoint) and not (schedules_on() and scheduled_jobs(routes.jobs, bool(routes.queues))):
        return None
    return subprocess.Popen([sys.executable, "-m", "local.background"], env=os.environ.copy())


def schedules_on() -> bool:
    """Whether `make serve` runs the jobs on their timetable (SCHEDULES=off, or `serve --no-schedules`, stops it)."""
    return os.environ.get("SCHEDULES", "on").strip().lower() not in ("off", "0", "false", "no")


def stop(process: subprocess.Popen | None) -> None:
    """End the consuming environment with its generation of workers."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the timetable -------------------------------------------------------------------------------------
def next_run(expression: str, timezone: str | None, after: datetime.datetime) -> datetime.datetime:
    """The first time after `after` (aware) that the schedule fires, in UTC: as EventBridge Scheduler reckons it.

    A rate counts from `after`; a cron is read in its time zone's wall clock (aws-croniter reads the fields).
    """
    utc = datetime.UTC
    if expression.startswith("rate("):
        value, unit = expression[5:-1].split()
        return after + datetime.timedelta(seconds=int(value) * _RATE_UNITS[unit.rstrip("s")])
    from zoneinfo import ZoneInfo

    from aws_croniter import AwsCroniter

    zone = ZoneInfo(timezone or "UTC")
    wall = after.astimezone(zone).replace(tzinfo=utc)  # the library reckons in "UTC": give it the wall clock
    (found,) = AwsCroniter(expression[5:-1]).get_next(wall)
    if found is None:
        return datetime.datetime.max.replace(tzinfo=utc)  # a year field that has passed: never again
    return found.replace(tzinfo=zone).astimezone(utc)


class Timetable:
    """When each job runs next; `due` hands out the jobs whose time has come and books their next run."""

    def __init__(self, jobs: Iterable[Any], now: datetime.datetime, *, first: Iterable[str] = ()) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.next = {name: next_run(job.expression, job.timezone, now) for name, job in self.jobs.items()}
        for name in first:
            if name in self.next:
                self.next[name] = now

    def due(self, now: datetime.datetime) -> list[tuple[Any, datetime.datetime]]:
        """(job, the time it was due) for each job due by `now`, oldest first."""
        found = sorted((when, name) for name, when in self.next.items() if when <= now)
        for when, name in found:
            job = self.jobs[name]
            self.next[name] = next_run(job.expression, job.timezone, max(when, now))
        return [(self.jobs[name], when) for when, name in found]


# -- the consuming environment (`python -m local.background`) ------------------------------------------
class Environment:
    """One execution environment for background work: the handler, the queues it consumes, the jobs it runs."""

    def __init__(self, schedules: bool = True) -> None:
        from local.server import LambdaApp

        self.app = LambdaApp()
        table = self.app.router().routes  # the import of the handler: its src/ (and lambdakit) on the path from here
        from lambdakit.outbox import RELAY_JOB, scheduled_jobs

        self.consumers = table.queues
        self.jobs = scheduled_jobs(table.jobs, bool(table.queues)) if schedules else ()
        self.timetable = Timetable(self.jobs, _now(), first=[RELAY_JOB])
        self.client = None
        self.urls: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        self.dead: dict[str, tuple[str, int]] = {}
        endpoint = os.environ.get("LOCAL_SQS_ENDPOINT")
        if self.consumers and endpoint:
            self.client = sqs_client(endpoint)
            self.urls = json.loads(os.environ.get("QUEUE_URLS") or "{}")
            for name, url in self.urls.items():
                self.arns[name] = self._attribute(url, "QueueArn")
                dead = json.loads(self._attribute(url, "RedrivePolicy"))["deadLetterTargetArn"].rsplit(":", 1)[1]
                dead_url = self.client.get_queue_url(QueueName=dead)["QueueUrl"]
                self.dead[name] = (dead_url, int(self._attribute(dead_url, "ApproximateNumberOfMessages")))
        self.stopped = False

    def _attribute(self, url: str, name: str) -> str:
        return self.client.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name]

    def run(self) -> None:
        """Consume and run jobs until SIGTERM."""
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopped", True))
        while not self.stopped:
            busy = False
            for job, when in self.timetable.due(_now()):
                self.run_job(job, when)
                busy = True
            for consumer in self.consumers:
                if consumer.queue in self.urls:
                    busy = self.deliver(consumer) or busy
            if not busy:
                time.sleep(_IDLE_SECONDS)

    def run_job(self, job: Any, when: datetime.datetime) -> None:
        """One run of a job, as its schedule starts it; the outcome in one line."""
        from lambdakit.background import scheduled_event

        started = time.perf_counter()
        outcome = self.app.invoke(scheduled_event(job.name, when.strftime("%Y-%m-%dT%H:%M:%SZ")))
        took = (time.perf_counter() - started) * 1000
        if outcome.timed_out or outcome.error:
            _log(
                f"job {job.name}: failed after {took:.0f} ms (deployed, Lambda retries it twice, then dead-letters it)"
            )
        else:
            _log(f"job {job.name}: ran in {took:.1f} ms ({job.expression})")

    def deliver(self, consumer: Any) -> bool:
        """One batch from the consumer's queue through the handler, as the event source mapping does; False if none."""
        url = self.urls[consumer.queue]
        answer = self.client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=consumer.batch_size,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages") or []
        self._watch_dead_letters(consumer)
        if not messages:
            return False
        event = {"Records": [sqs_record(m, self.arns[consumer.queue], region()) for m in messages]}
        outcome = self.app.invoke(event)
        failed = failed_ids(outcome.result) if not (outcome.timed_out or outcome.error) else None
        if failed is None:
            failed = {m["MessageId"] for m in messages}  # Lambda's rule: an error or a bad answer fails the batch
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            self.client.delete_message_batch(QueueUrl=url, Entries=entries)
        line = f"queue {consumer.queue}: {len(messages)} message(s) to {consumer.function}()"
        if failed:
            line += f", {len(failed)} failed: back after the visibility timeout, dead-lettered after"
            line += f" {consumer.max_receives} tries"
        _log(line)
        return True

    def _watch_dead_letters(self, consumer: Any) -> None:
        url, seen = self.dead[consumer.queue]
        count = int(self._attribute(url, "ApproximateNumberOfMessages"))
        if count > seen:
            _log(f"queue {consumer.queue}: {count - seen} message(s) moved to its dead-letter queue ({count} there)")
        self.dead[consumer.queue] = (url, count)


def sqs_record(message: dict[str, Any], arn: str, region_name: str) -> dict[str, Any]:
    """One record of the SQS event Lambda's event source mapping builds from a received message."""
    attributes = {
        key: value
        for key, value in (message.get("Attributes") or {}).items()
        if key in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
    }
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region_name,
    }


def failed_ids(result: Any) -> set[str] | None:
    """The message ids a partial batch response names; None when the answer is not one (the whole batch failed)."""
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures"), list):
        return None
    ids = set()
    for failure in result["batchItemFailures"]:
        if not isinstance(failure, dict) or not isinstance(failure.get("itemIdentifier"), str):
            return None
        ids.add(failure["itemIdentifier"])
    return ids


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def main(argv: list[str] | None = None) -> int:
    """`python -m local.background`: the consuming environment `make serve` starts with each generation of workers."""
    parser = argparse.ArgumentParser(prog="python -m local.background")
    parser.add_argument("--no-schedules", action="store_true", help="consume the queues, but run no job")
    args = parser.parse_args(argv)
    Environment(schedules=schedules_on() and not args.no_schedules).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
