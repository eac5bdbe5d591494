"""docs/architecture.md: the stack as a Mermaid diagram, drawn from the scanned routes and the stack's settings.

    python -m infra.diagram            write docs/architecture.md (`make diagram`)
    python -m infra.diagram --check    exit 1 when the page differs from what the code and cdk.json give

The page shows what `make synth` builds for one stage: API Gateway and AppSync (when routes ask for
them) -> the function -> RDS Proxy (when on) -> the database, and what the settings add around them.
It is drawn from cdk.json alone, never from the shell's environment, so the committed page is the
same on every machine. It holds no figures: sizes and limits live in the docs that explain them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from infra.config import ROOT, Config, project_config
from infra.routes import Routes, scan_routes
from lambdakit import outbox

PAGE = ROOT / "docs" / "architecture.md"
STAGE = "dev"

_API = {"rest": "API Gateway REST API", "http": "API Gateway HTTP API"}
_CALLERS = {
    "cognito": "a Cognito token",
    "iam": "a SigV4 signature",
    "jwt": "a token of your OIDC issuer",
    "none": "no credentials",
}


def _label(*lines: str) -> str:
    """A quoted Mermaid label; `<br/>` breaks lines and quotes become the `#quot;` entity."""
    return '"' + "<br/>".join(line.replace('"', "#quot;") for line in lines if line) + '"'


def _count(items: Iterable[object], one: str, many: str) -> str:
    number = len(list(items))
    return f"{number} {one if number == 1 else many}"


def mermaid(routes: Routes, config: Config) -> str:
    """The diagram's Mermaid source: what the stack holds for these routes and settings, nothing else."""
    where = f", {config.region}" if config.region else ""
    entry, entry_edges = _entry(routes, config)
    vpc, vpc_edges = _vpc(config)
    around, around_edges = _around(config)
    background, background_edges = _background(routes)
    lines = [
        "flowchart LR",
        "  clients([Clients])",
        f'  subgraph account["AWS account{where}, stage {config.stage}"]',
        *entry,
        '    subgraph vpc["VPC, private subnets"]',
        *vpc,
        "    end",
        *around,
        *background,
        "  end",
    ]
    return "\n".join(lines + entry_edges + vpc_edges + around_edges + background_edges) + "\n"


def _entry(routes: Routes, config: Config) -> tuple[list[str], list[str]]:
    """The APIs the routes ask for, and who signs their callers in."""
    nodes: list[str] = []
    edges: list[str] = []
    caller = _CALLERS.get(config.auth, config.auth)
    if config.auth == "cognito":
        pool = "your Cognito user pool" if config.cognito_user_pool_arn else "Cognito user pool"
        nodes.append(f"    pool{_shape('box', pool, 'users and groups')}")
    if config.auth == "jwt":
        nodes.append(f"    issuer{_shape('box', 'your OpenID Connect issuer')}")
    if routes.rest:
        keys = "API key and usage plan" if config.api_keys and config.api_type == "rest" else ""
        nodes.append(f"    api{_shape('box', _API[config.api_type], _count(routes.rest, 'route', 'routes'), keys)}")
        edges += [f"  clients -->|HTTPS, {caller}| api", "  api --> fn"]
    if routes.graphql:
        nodes.append(f"    gql{_shape('box', 'AppSync GraphQL API', _count(routes.graphql, 'field', 'fields'))}")
        edges += [f"  clients -->|GraphQL, {caller}| gql", "  gql --> fn"]
    signer = {"cognito": ("pool", "checks tokens"), "jwt": ("issuer", "signs tokens")}.get(config.auth)
    if signer:
        used = [name for name, present in (("api", routes.rest), ("gql", routes.graphql)) if present]
        edges += [f"  {signer[0]} -.->|{signer[1]}| {name}" for name in used]
    return nodes, edges


def _vpc(config: Config) -> tuple[list[str], list[str]]:
    """The function and what it reaches inside the VPC: RDS Proxy when on, the database, an endpoint."""
    extension = "Parameters and Secrets extension" if config.params_and_secrets and not config.snap_start else ""
    snap = "SnapStart, alias live" if config.snap_start else ""
    nodes = [f"      fn{_shape('box', f'Lambda function {config.stack_name}', extension, snap)}"]
    edges: list[str] = []
    if config.rds_proxy:
        nodes.append(f"      proxy{_shape('box', 'RDS Proxy', 'IAM authentication' if config.db_iam_auth else 'TLS')}")
        edges += ["  fn --> proxy", "  proxy --> db"]
    else:
        edges.append("  fn -->|one connection per environment, TLS| db")
    if config.create_database:
        nodes.append(f"      db{_shape('db', 'Aurora Serverless v2 PostgreSQL', 'created by the stack')}")
    else:
        nodes.append(f"      db{_shape('db', 'PostgreSQL', 'yours: dbSecretArn and dbHost, or dbStackName')}")
    # With IAM authentication the function signs a token and the proxy alone reads the secret.
    reader = "proxy" if config.rds_proxy and config.db_iam_auth else "fn"
    if config.secrets_manager_endpoint:
        nodes.append(f"      endpoint{_shape('box', 'Secrets Manager interface endpoint')}")
        edges.append(f"  {reader} -.-> endpoint -.-> secret")
    else:
        edges.append(f"  {reader} -.->|reads| secret")
    return nodes, edges


def _around(config: Config) -> tuple[list[str], list[str]]:
    """The secret and the monitoring every stage has."""
    traces = "X-Ray subsegments per SQL statement" if config.tracing else ""
    nodes = [
        f"    secret{_shape('box', 'Secrets Manager secret', 'database credentials')}",
        f"    monitoring{_shape('box', 'CloudWatch', 'alarms, dashboard, saved queries', traces)}",
    ]
    edges = ["  fn -.->|logs, metrics| monitoring"]
    if config.alarm_email:
        edges.append("  monitoring -.->|alarm topics| email([alarm email])")
    return nodes, edges


def _background(routes: Routes) -> tuple[list[str], list[str]]:
    """The schedules that start jobs and the queues whose messages the function sends and consumes."""
    nodes: list[str] = []
    edges: list[str] = []
    jobs = outbox.scheduled_jobs(routes.jobs, bool(routes.queues))
    if jobs:
        nodes.append(f"    scheduler{_shape('box', 'EventBridge Scheduler', _count(jobs, 'job', 'jobs'))}")
        edges.append("  scheduler -->|on its timetable| fn")
    if routes.queues:
        names = ", ".join(q.queue for q in routes.queues)
        nodes.append(f"    queues{_shape('box', 'SQS: ' + names, 'each with a dead-letter queue')}")
        edges += ["  fn -.->|sends after commit| queues", "  queues -->|batches| fn"]
    return nodes, edges


def _shape(kind: str, *lines: str) -> str:
    """A node's shape and label: a box, or a cylinder for a database."""
    label = _label(*lines)
    return f"[({label})]" if kind == "db" else f"[{label}]"


def _who(spec: object, default: str) -> str:
    """Who may call a route, in words: its mode, and the groups or scopes it names."""
    mode = spec.access(default)
    words = {
        "none": "anyone",
        "iam": "SigV4 callers",
        "cognito": "signed-in users",
        "jwt": "signed-in users",
        "direct": "holders of `lambda:InvokeFunction`",
    }
    who = words.get(mode, mode)
    if spec.groups:
        who += f", group {' or '.join(spec.groups)}"
    if spec.scopes:
        who += f", scope {' or '.join(spec.scopes)}"
    return who


def route_table(routes: Routes, config: Config) -> str:
    """The routes the diagram counts, one line each, with who may call them."""
    rows = ["| route | function | who may call |", "|---|---|---|"]
    rows += [f"| `{r.method} {r.path.text}` | `{r.function}` | {_who(r.spec, config.auth)} |" for r in routes.rest]
    rows += [
        f"| GraphQL `{r.type_name}.{r.field}` | `{r.function}` | {_who(r.spec, config.auth)} |" for r in routes.graphql
    ]
    rows += [f"| direct `{r.name}` | `{r.function}` | {_who(r.spec, 'direct')} |" for r in routes.direct]
    jobs = outbox.scheduled_jobs(routes.jobs, bool(routes.queues))
    rows += [f"| job `{r.name}`: `{r.expression}` | `{r.function}` | EventBridge Scheduler |" for r in jobs]
    rows += [f"| queue `{r.queue}` | `{r.function}` | messages the function sends |" for r in routes.queues]
    return "\n".join(rows) + "\n"


def settings_table(config: Config) -> str:
    """The settings that change the picture, as this stage has them."""
    on = {True: "on", False: "off"}
    rows = [
        ("`apiType`", config.api_type),
        ("`auth`", config.auth),
        ("`apiKeys`", on[config.api_keys]),
        ("`createDatabase`", on[config.create_database]),
        ("`rdsProxy`", on[config.rds_proxy]),
        ("`dbIamAuth`", on[config.db_iam_auth]),
        ("`snapStart`", on[config.snap_start]),
        ("`paramsAndSecrets`", on.get(config.params_and_secrets, str(config.params_and_secrets))),
        ("`secretsManagerEndpoint`", on[config.secrets_manager_endpoint]),
        ("`tracing`", on[config.tracing]),
    ]
    return "\n".join(["| setting | this stage |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]) + "\n"


def page(routes: Routes, config: Config) -> str:
    """The whole Markdown page."""
    return (
        "# Architecture\n\n"
        "<!-- Generated by `make diagram` (infra/diagram.py) from src/ and cdk.json: edit those, not this page. -->\n\n"
        f"What `make synth` builds for stage `{config.stage}` of `{config.service_name}`, drawn from the routes the\n"
        "stack scans in `src/` and the settings in `cdk.json`. Solid arrows carry requests, dotted ones\n"
        "credentials, logs and metrics. [Deploy](deploy.md) explains each setting; `make diagram` redraws\n"
        "this page after a change, and a test fails while it is stale.\n\n"
        f"```mermaid\n{mermaid(routes, config)}```\n\n"
        "## Routes\n\n"
        f"{route_table(routes, config)}\n"
        "## Settings that change the picture\n\n"
        f"{settings_table(config)}"
    )


def current_page(stage: str = STAGE) -> str:
    """The page as the code and cdk.json give it now (the shell's environment plays no part)."""
    config = project_config({"STAGE": stage})
    return page(scan_routes(config.lambda_file), config)


def main(argv: list[str] | None = None) -> int:
    """Command line of `make diagram`."""
    parser = argparse.ArgumentParser(prog="python -m infra.diagram", description=__doc__)
    parser.add_argument("--out", type=Path, default=PAGE, help="where to write the page")
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale, write nothing")
    parser.add_argument("--if-present", action="store_true", help="redraw only a page that exists, silently if current")
    args = parser.parse_args(argv)
    if args.if_present and not args.out.is_file():
        return 0
    text = current_page()
    if args.if_present and args.out.read_text(encoding="utf-8") == text:
        return 0
    if args.check:
        stale = not args.out.is_file() or args.out.read_text(encoding="utf-8") != text
        print(f"{args.out} is {'stale: run make diagram' if stale else 'current'}")
        return 1 if stale else 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
