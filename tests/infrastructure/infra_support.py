"""Shared by the infrastructure tests: a source folder of their own to scan, and a real in-process synth.

The folder is laid out as a project is (src/lambda_function.py including a route module), with routes,
schema and settings of these tests, never the shipped sample's. A synth costs seconds on a small machine,
so tests share module-scoped synths; each one also goes through the deploy check, as `make synth` does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]
# The deploy check's regions and the region every account-bound synth here is for.
ACCOUNT = {"account": "123456789012", "region": "eu-west-1"}

HANDLER_SOURCE = """
from lambdakit import Router

import routes_under_test

router = Router()
router.include(routes_under_test.router)


def handler(event, context):
    return router.handle(event, context)
"""

LAMBDA_SOURCE = """
from db_utils import transaction
from lambdakit import Router

router = Router()

NEW_STUDENT = {
    "type": "object",
    "properties": {"firstName": {"type": "string", "maxLength": 100}},
    "required": ["firstName"],
}


@router.rest("GET", "/students")
@router.graphql("Query", "listStudents")
@router.direct("list_students")
@transaction(read_only=True)
def list_students(conn):
    return []


@transaction(read_only=True)
@router.rest("GET", "/students/{studentId}")
@router.graphql("Query", "getStudent")
@router.direct("get_student")
def get_student(conn, student_id: int):
    return {}


@router.rest("POST", "/students", status=201, body=NEW_STUDENT)
@router.direct("create_student")
@transaction()
def create_student(conn, body):
    return body


@router.rest("PUT", "/students/{studentId}")
@router.direct("update_student")
@transaction()
def update_student(conn, student_id: int, body):
    return body


@router.graphql("Mutation", "saveStudent")
@router.direct("save_student")
@transaction()
def save_student(conn, student):
    return student


@router.rest(method="DELETE", path="/students/{studentId}")
@router.graphql("Mutation", "deleteStudent")
@router.direct("delete_student")
@transaction()
def delete_student(conn, student_id: int):
    return None
"""

# The same routes with background work: a job in a time zone and two queue consumers (tests and the matrix).
BACKGROUND_SOURCE = (
    LAMBDA_SOURCE
    + '''

from lambdakit import Message


@router.schedule("cron(0 3 * * ? *)", timezone="Europe/Paris")
@transaction
def nightly(conn) -> dict:
    """Nightly cleanup."""
    return {}


@router.queue("welcome", batch_size=5, max_receives=3)
@transaction
def welcome(conn, message: Message) -> None:
    return None


@router.queue("reports")
def report(message: Message) -> None:
    return None
'''
)

SCHEMA = """
type Student { studentId: Int! firstName: String }
input StudentInput { firstName: String }
type Query {
  listStudents(limit: Int): [Student!]!
  getStudent(studentId: Int!): Student
}
type Mutation {
  saveStudent(
    student: StudentInput!
  ): Student
  deleteStudent(studentId: Int!): Boolean
}
"""

# Your own database, fully described: the configuration every security assertion runs against.
BYO_CONTEXT = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
    "dbSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:students-db-AbC123",
    "dbHost": "students.cluster-abc.eu-west-1.rds.amazonaws.com",
    "dbName": "students",
    "dbSecurityGroupId": "sg-0db0db0db0db0db00",
    "reservedConcurrency": 20,
}


@dataclass
class Synth:
    """One synthesized stack: its template, the nag report, the deploy check's findings and where cdk.out is."""

    template: dict[str, Any]
    outdir: Path
    stack_name: str
    warnings: list[str]
    findings: list[Any]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def one(self, kind: str) -> dict[str, Any]:
        """The only resource of `kind` (fails when there are several or none)."""
        found = list(self.resources(kind).values())
        assert len(found) == 1, f"{len(found)} {kind}"
        return found[0]

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"


def write_module(
    directory: Path, source: str | None = None, schema: str | None = SCHEMA, *, routes: str = LAMBDA_SOURCE
) -> Path:
    """Write `directory/src/`: the handler including `routes` (or one module `source`), and the schema.

    It doubles as the code folder of the synth. Returns the path of lambda_function.py.
    """
    directory = directory / "src"
    directory.mkdir(parents=True, exist_ok=True)
    if source is None:
        (directory / "lambda_function.py").write_text(HANDLER_SOURCE)
        (directory / "routes_under_test.py").write_text(routes)
    else:
        (directory / "lambda_function.py").write_text(source)
    if schema is not None:
        (directory / "schema.graphql").write_text(schema)
    return directory / "lambda_function.py"


def project_context(src: Path) -> dict[str, Any]:
    """cdk.json's context, pointed at the source folder `src` and packaging it as it is (no pip per synth)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(
        {
            "lambdaFile": str(src / "lambda_function.py"),
            "schemaFile": str(src / "schema.graphql"),
            "srcDir": str(src),
            "buildDir": str(src / "no-build"),
            # These tests look at the template, not at the package.
            "synthWithoutBuild": True,
        }
    )
    return context


def synth(directory: Path, context: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Synth:
    """Synthesize the real app (cdk.json context + `context`) for the source folder in `directory`."""
    import aws_cdk as cdk

    from infra.config import load_config
    from infra.deploy_check import check_template, partition_regions
    from infra.nag import add_checks
    from infra.routes import scan_routes
    from infra.stack import ApiStack

    outdir = directory / "cdk.out"
    merged = {**project_context(directory / "src"), **(context or {})}
    app = cdk.App(context=merged, outdir=str(outdir))
    config = load_config(app.node.try_get_context, environ or {})
    stack = ApiStack(app, config.stack_name, config=config, routes=scan_routes(config.lambda_file))
    add_checks(app)
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    warnings = [m.entry.data for m in artifact.messages if str(m.level).endswith("WARNING")]
    findings = check_template(artifact.template, config, () if config.region else partition_regions())
    return Synth(artifact.template, outdir, stack.stack_name, [str(w) for w in warnings], findings)
