"""`make synth`'s last lines: what the template holds for operating the stage (alarms, dashboard, queries)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# Error metrics alarmed on as an Average, i.e. the fraction of requests that failed.
_RATES = {"5XXError", "4XXError", "5xx", "4xx"}


def summary(template: dict) -> list[str]:
    """One line for the resources, then one per alarm (name, condition)."""
    resources = template.get("Resources", {})
    kinds = Counter(r["Type"] for r in resources.values())
    dashboards = [
        _text(r["Properties"].get("DashboardName", "?")) for r in resources.values() if r["Type"].endswith("Dashboard")
    ]
    lines = [
        f"{kinds['AWS::CloudWatch::Alarm']} alarms, dashboard {', '.join(dashboards) or 'none'},"
        f" {kinds['AWS::Logs::QueryDefinition']} saved queries, {kinds['AWS::SNS::Topic']} alarm topics,"
        f" {len(resources)} resources"
    ]
    operators = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<"}
    for resource in resources.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            props = resource["Properties"]
            metric = props.get("MetricName") or props["Metrics"][0]["MetricStat"]["Metric"]["MetricName"]
            threshold = f"{props['Threshold']:g}"
            if metric in _RATES:
                threshold = f"{props['Threshold'] * 100:g} % of requests"
            condition = f"{metric} {operators.get(props['ComparisonOperator'], '?')} {threshold}"
            lines.append(f"  alarm {props['AlarmName']}: {condition}")
    return lines + background_lines(template)


def background_lines(template: dict) -> list[str]:
    """The connection budget's split, then each job and queue with the function, file and line behind it."""
    lines = []
    for resource in template.get("Resources", {}).values():
        facts = resource.get("Metadata", {}).get("lambdakit") or {}
        if "connections" in facts:
            lines.insert(0, facts["connections"])
        props = resource.get("Properties", {})
        if facts.get("kind") == "job":
            expression = props.get("ScheduleExpression", "?")
            zone = props.get("ScheduleExpressionTimezone") if expression.startswith("cron(") else None
            when = expression + (f" {zone}" if zone else "")
            lines.append(f"  job {facts['name']}: {when} -> {facts['function']}() at {facts['where']}")
        elif facts.get("kind") == "queue":
            lines.append(f"  queue {facts['name']}: -> {facts['function']}() at {facts['where']}")
    return lines


def _text(value: object) -> str:
    """A name as a reader sees it: literal parts joined, a reference as <what it refers to>."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref'].removeprefix('AWS::').lower()}>"
    return str(value)


def main(argv: list[str]) -> int:
    """Print the summary of each template given on the command line."""
    for path in argv:
        print("\n".join(summary(json.loads(Path(path).read_text(encoding="utf-8")))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
