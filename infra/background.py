"""Background work from the routes: a schedule per job, a queue per consumer, and what keeps them safe.

- Jobs: EventBridge Scheduler rather than EventBridge rules, because rules read cron in UTC only and a
  job may name its time zone (`timezone="Europe/Paris"`, daylight saving included). Each schedule invokes
  the function (asynchronously, as Scheduler does) with the event lambdakit.background reads; Scheduler
  retries a failed delivery, Lambda retries a failed run twice, and what fails for good lands in the
  jobs' dead-letter queue, whose depth is alarmed on.
- Queues: an SQS queue per consumer, encrypted (SQS-managed keys) and TLS-only, with a dead-letter queue
  after the consumer's `max_receives` deliveries and an alarm on that queue's depth. The visibility
  timeout is six times the function's timeout, as AWS advises for a queue a function consumes. The event
  source mapping reports batch item failures and its maximum concurrency comes out of the connection
  budget (infra/budget.py), so a backlog never holds the connections the API needs.
- The function may send to each queue (`enqueue`) and learns their URLs from QUEUE_URLS.

The machinery's outbox relay (lambdakit.outbox.RELAY_JOB) is scheduled only where there is a queue.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.budget import Split
from infra.config import Config
from infra.nag import acknowledge, acknowledge_checkov
from infra.routes import QueueConsumer, RouteError, Routes, ScheduledJob
from lambdakit import outbox

# AWS's advice for a queue a Lambda function consumes: a visibility timeout of six times the function's.
VISIBILITY_TIMEOUTS = 6
# A message stays in a dead-letter queue this long (SQS's longest), time enough to look and redrive.
DEAD_LETTER_RETENTION = Duration.days(14)
# Lambda retries a failed asynchronous run (a job) this often, then hands the event to the jobs' DLQ.
JOB_RETRIES = 2
# Scheduler retries a failed delivery (the function throttled or unreachable) for this long.
JOB_EVENT_AGE = Duration.hours(1)
# What the summary reads back from the template: where each job and consumer is written.
METADATA_KEY = "lambdakit"


def scheduled_jobs(routes: Routes) -> tuple[ScheduledJob, ...]:
    """The jobs the stack schedules: every one, but the outbox relay only where a queue exists to relay to."""
    return outbox.scheduled_jobs(routes.jobs, bool(routes.queues))


def check_time_zones(jobs: tuple[ScheduledJob, ...]) -> None:
    """RouteError naming a job whose time zone is not in the IANA database (Scheduler would refuse the deploy)."""
    known = zoneinfo.available_timezones()
    for job in jobs:
        if job.timezone is not None and job.timezone not in known:
            raise RouteError(f"{job.where}: timezone={job.timezone!r} on job {job.name!r} is no IANA time zone")


@dataclass(frozen=True)
class Watch:
    """Where the alarms go and what the budget allows the consumers."""

    topic: sns.ITopic
    split: Split


class Background(Construct):
    """The schedules, queues, dead-letter queues, event source mappings and their alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        routes: Routes,
        function: lambda_.Function,
        invoked: lambda_.IFunction,
        watch: Watch,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config, self.function, self.invoked, self.watch = config, function, invoked, watch
        self.queues: dict[str, sqs.Queue] = {}
        for consumer in routes.queues:
            self.queues[consumer.queue] = self._queue(consumer)
        if self.queues:
            urls = {name: queue.queue_url for name, queue in self.queues.items()}
            function.add_environment("QUEUE_URLS", Stack.of(self).to_json_string(urls))
        jobs = scheduled_jobs(routes)
        check_time_zones(jobs)
        if jobs:
            self._jobs(jobs)
        if self.queues and config.create_database and config.db_min_capacity == 0:
            cdk.Annotations.of(self).add_warning_v2(
                "infra:relay-wakes-database",
                f"the outbox relay ({outbox.RELAY_JOB}) reads the database on its schedule, so the cluster that"
                " pauses at dbMinCapacity=0 wakes for it; see docs/background.md",
            )

    # -- queues -------------------------------------------------------------------------------------
    def _queue(self, consumer: QueueConsumer) -> sqs.Queue:
        name = consumer.queue
        dead = self._dead_letter_queue(f"{name}DeadLetters", f"queue {name!r} after {consumer.max_receives} tries")
        timeout = self.function.timeout.to_seconds() if self.function.timeout else self.config.timeout_seconds
        queue = sqs.Queue(
            self,
            f"Queue{name}",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(VISIBILITY_TIMEOUTS * timeout),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=consumer.max_receives, queue=dead),
        )
        _describe(queue, kind="queue", name=name, function=consumer.function, where=consumer.where)
        _encrypted_at_rest(queue)
        queue.grant_send_messages(self.function.role)  # enqueue()
        self.invoked.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=consumer.batch_size,
                report_batch_item_failures=True,
                max_concurrency=self.watch.split.queues[name],
            )
        )
        return queue

    def _dead_letter_queue(self, construct_id: str, what: str) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        _encrypted_at_rest(queue)
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: what lands here is kept for inspection and redrive, and an"
            " alarm watches its depth; a dead-letter queue of its own would only hide the failures.",
        )
        threshold = self.config.alarm_dead_letter_messages
        alarm = cloudwatch.Alarm(
            self,
            f"{construct_id}Alarm",
            alarm_name=f"{self.config.stack_name}-{construct_id}",
            alarm_description=f"{threshold}+ messages in the dead-letter queue of {what}: they failed every try."
            " What to do: docs/background.md, When a dead-letter queue alarms.",
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum"),
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.watch.topic))
        alarm.add_ok_action(actions.SnsAction(self.watch.topic))
        return queue

    # -- jobs ---------------------------------------------------------------------------------------
    def _jobs(self, jobs: tuple[ScheduledJob, ...]) -> None:
        dead = self._dead_letter_queue("JobDeadLetters", "the scheduled jobs (failed runs and deliveries)")
        # A job's run that still fails after Lambda's retries goes to the same queue as a failed delivery.
        self.invoked.configure_async_invoke(
            retry_attempts=JOB_RETRIES,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(dead),
        )
        role = self._scheduler_role()
        for job in jobs:
            time_zone = cdk.TimeZone.of(job.timezone) if job.timezone else None
            event = {
                "job": job.name,
                "scheduledTime": scheduler.ContextAttribute.scheduled_time,
                "attempt": scheduler.ContextAttribute.attempt_number,
            }
            schedule = scheduler.Schedule(
                self,
                f"Job{job.name}",
                schedule=scheduler.ScheduleExpression.expression(job.expression, time_zone),
                description=f"job {job.name}: {job.function}() of {job.module}",
                target=targets.LambdaInvoke(
                    self.invoked,
                    input=scheduler.ScheduleTargetInput.from_object(event),
                    dead_letter_queue=dead,
                    retry_attempts=JOB_RETRIES,
                    max_event_age=JOB_EVENT_AGE,
                    role=role,
                ),
            )
            _describe(schedule, kind="job", name=job.name, function=job.function, where=job.where)

    def _scheduler_role(self) -> iam.Role:
        """The role the schedules invoke the function with: this account's schedules only, this function only."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"{self.config.stack_name}: EventBridge Scheduler invokes the function for its jobs",
        )
        # Granted now, so the acknowledgment below finds the policy it is about.
        self.invoked.grant_invoke(role)
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::<Function76856677.Arn>:*]",
            "Lambda's invoke grant names the function and its qualified ARNs (versions and aliases, `:*`):"
            " this one function, which the schedules invoke through its alias when SnapStart is on.",
        )
        return role


def _encrypted_at_rest(queue: sqs.Queue) -> None:
    acknowledge_checkov(
        queue,
        "CKV_AWS_27",
        "The queue is encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which this check does not"
        " read; a KMS key would add a KMS call to every send and receive and a key grant to every producer.",
    )


def _describe(construct: Construct, **facts: str) -> None:
    """Write what the summary shows of a job or queue (its name, function, file and line) into its metadata."""
    resource = construct.node.default_child
    if isinstance(resource, cdk.CfnResource):
        resource.add_metadata(METADATA_KEY, facts)


def acknowledge_async_invocations(function: lambda_.Function) -> None:
    """checkov's function dead-letter queue check: the jobs' failed runs go to an on-failure destination instead."""
    acknowledge_checkov(
        function,
        "CKV_AWS_116",
        "The only asynchronous invocations are the scheduled jobs, whose failed runs go to an on-failure"
        " destination (the jobs' dead-letter queue, alarmed on), which carries the error with the event.",
    )
