"""The sample's src/schema.graphql and its routes agree: queries and mutations as AppSync would run them.

The schema is served by the local server's AppSync look-alike (local/graphql.py) in this process, each
field resolved by the real handler, so a field, argument or type the routes do not answer fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lambda_function
from local.graphql import GraphqlEndpoint
from local.invoke import invoke
from tests.support.identities import as_user

ROOT = Path(__file__).resolve().parents[2]
STUDENT_FIELDS = "studentId studentUuid firstName lastName status programId active createdAt updatedAt"


def signed_in(event: dict, context: object) -> object:
    """The handler, for a caller in every group the sample names (the rules have tests of their own)."""
    return lambda_function.handler(as_user(event), context)


@pytest.fixture
def graphql(lambda_env):
    endpoint = GraphqlEndpoint(
        ROOT / "src" / "schema.graphql",
        lambda event: invoke(signed_in, event, 30),
        lambda_function.router.routes.graphql,
    )
    assert endpoint.unknown == [], "every GraphQL route must name a field of the schema"

    def run(query: str, **variables: object) -> dict:
        status, answer, _ = endpoint.answer(json.dumps({"query": query, "variables": variables}).encode(), {})
        assert status == 200 and "errors" not in answer, answer
        return answer["data"]

    return run


def test_save_get_list_and_delete_a_student_through_the_schema(graphql):
    save = (
        "mutation Save($id: Int, $body: StudentInput!)"
        f" {{ saveStudent(studentId: $id, body: $body) {{ {STUDENT_FIELDS} }} }}"
    )
    created = graphql(save, body={"firstName": "Katherine", "lastName": "J"})["saveStudent"]
    sid = created["studentId"]
    try:
        updated = graphql(save, id=sid, body={"lastName": "Johnson", "programId": None})["saveStudent"]
        assert updated["lastName"] == "Johnson" and updated["firstName"] == "Katherine"
        got = graphql(f"query Get($id: Int!) {{ getStudent(studentId: $id) {{ {STUDENT_FIELDS} }} }}", id=sid)
        assert got["getStudent"] == updated
        page = graphql(
            f"query Page($n: Int) {{ listStudents(limit: $n) {{ items {{ {STUDENT_FIELDS} }} nextCursor }} }}", n=100
        )["listStudents"]
        assert page["items"] and all(set(item) == set(STUDENT_FIELDS.split()) for item in page["items"])
    finally:
        deleted = graphql(f"mutation {{ deleteStudent(studentId: {sid}) {{ studentId }} }}")
    assert deleted == {"deleteStudent": {"studentId": sid}}
