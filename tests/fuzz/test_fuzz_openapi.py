"""Fuzz a REST API from its generated OpenAPI document: schemathesis against the local server serving the fixture app.

Valid and invalid inputs generated from the document; every answer must be documented, match its
schema, and never be a 5xx. Bounded (max examples per operation) to keep the run well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lambdakit.openapi import Access, client_document
from tests.conftest import remove_database, start_database
from tests.faults.harness import LocalServer
from tests.support import app
from tests.support.identities import signed_in_session

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 20

# The document the local server serves under the template's auth (cognito), fuzzed as a user in every group.
schema = schemathesis.openapi.from_dict(client_document(app.router().routes, access=Access("cognito")))
# deterministic and no example database: the same cases every run, and no .hypothesis folder left behind
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")


@pytest.fixture(scope="module")
def base_url(app_src, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = start_database()  # its own: the fuzzer fills the fixture's table with odd rows
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    env = {"DATABASE_URL": db.url, "LOCAL_ACCESS_LOG": "0", "LOCAL_SRC_DIR": str(app_src)}
    try:
        with LocalServer(env, workers=2, log=log) as server:
            yield server.base
    finally:
        remove_database(db)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with signed_in_session() as s:
        yield s


@schema.parametrize()
def test_no_5xx_and_every_answer_matches_the_document(case, base_url, session):
    case.call_and_validate(
        base_url=base_url,
        session=session,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
