"""The local server enforces the stack's `auth` as API Gateway and AppSync do, over real HTTP.

cognito: 401 without a valid token, the function's 403 for a missing group, the identity reaching the
route; iam: SigV4 signed with the local credentials, API Gateway's 403 otherwise. GraphQL answers as
AppSync does (401 for the request, `Unauthorized` for a field the caller's groups may not read).
"""

from __future__ import annotations

import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.sigv4 import LOCAL_PRINCIPAL, local_credentials
from local.tokens import issue_token
from tests.support.identities import bearer

pytestmark = pytest.mark.slow


def _get(base: str, path: str, **headers: str) -> requests.Response:
    return requests.get(f"{base}{path}", headers=headers, timeout=10)


def test_without_a_token_a_route_is_a_401_json_answer(cognito_server):
    answer = _get(cognito_server, "/widgets")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json" and answer.json() == {"message": "Unauthorized"}


def test_a_signed_in_user_reads_a_staff_member_writes_and_only_an_admin_deletes(cognito_server):
    alice, staff, admin = bearer(groups=(), user="alice"), bearer(groups=("staff",)), bearer(groups=("admin",))
    assert requests.get(f"{cognito_server}/widgets", headers=alice, timeout=10).status_code == 200
    refused = requests.post(f"{cognito_server}/widgets", json={"name": "A", "maker": "B"}, headers=alice, timeout=10)
    assert refused.status_code == 403 and refused.json() == {"message": "requires group staff"}
    created = requests.post(
        f"{cognito_server}/widgets", json={"name": "Mae", "maker": "Jemison"}, headers=staff, timeout=10
    )
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == f"/widgets/{created.json()['widgetId']}"
    assert requests.get(f"{cognito_server}{location}", headers=alice, timeout=10).json()["maker"] == "Jemison"
    forbidden = requests.delete(f"{cognito_server}{location}", headers=alice, timeout=10)
    assert forbidden.status_code == 403 and forbidden.json() == {"message": "requires group admin"}
    assert requests.delete(f"{cognito_server}{location}", headers=admin, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        issue_token("alice", ("admin",), now=time.time() - 7200),  # expired an hour ago
        issue_token("alice", ("admin",))[:-6] + "AAAAAA",  # signature tampered with
    ],
    ids=["garbage", "expired", "forged"],
)
def test_a_bad_token_is_refused_before_the_function_runs(cognito_server, token):
    answer = _get(cognito_server, "/widgets", Authorization=f"Bearer {token}")
    assert answer.status_code == 401 and answer.json() == {"message": "Unauthorized"}


def test_the_identity_and_headers_reach_the_route_from_rest_and_from_graphql(cognito_server):
    headers = {**bearer(groups=("staff",), user="ada"), "X-Trace": "t-1"}
    rest = requests.get(f"{cognito_server}/answers/whoami", headers=headers, timeout=10).json()
    query = {"query": "{ whoami { kind username groups principal trace source } }"}
    graphql = requests.post(f"{cognito_server}/graphql", json=query, headers=headers, timeout=10).json()
    assert rest == {**graphql["data"]["whoami"], "source": "rest"}
    assert rest == {
        "kind": "cognito",
        "username": "ada",
        "groups": ["staff"],
        "principal": None,
        "trace": "t-1",
        "source": "rest",
    }


def test_graphql_answers_401_without_a_token_and_unauthorized_for_a_field_outside_the_callers_groups(cognito_server):
    query = {"query": "mutation { deleteWidget(widgetId: 987654) { widgetId } }"}
    anonymous = requests.post(f"{cognito_server}/graphql", json=query, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["errorType"] == "UnauthorizedException"
    staff = requests.post(f"{cognito_server}/graphql", json=query, headers=bearer(groups=("staff",)), timeout=10)
    assert staff.status_code == 200 and staff.json()["data"] is None
    (error,) = staff.json()["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access deleteWidget on type Mutation"
    admin = requests.post(f"{cognito_server}/graphql", json=query, headers=bearer(groups=("admin",)), timeout=10)
    assert admin.json()["errors"][0]["message"] == "widget 987654 not found"  # past AppSync, the function answered


def test_swagger_ui_and_its_document_need_no_token_and_offer_the_bearer_scheme(cognito_server):
    assert _get(cognito_server, "/docs").status_code == 200
    document = _get(cognito_server, "/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/widgets"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/answers/pixel.png"]["get"]


# -- IAM -----------------------------------------------------------------------------------------------
def _signed(method: str, url: str, *, body: bytes = b"", service: str = "execute-api", secret: str | None = None):
    credentials = local_credentials()
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    key = Credentials(credentials["aws_access_key_id"], secret or credentials["aws_secret_access_key"])
    SigV4Auth(key, service, "eu-west-1").add_auth(request)
    return requests.request(method, url, data=body or None, headers=dict(request.headers), timeout=10)


def test_with_iam_an_unsigned_request_gets_api_gateways_403_and_a_signed_one_reaches_the_route(iam_server):
    unsigned = _get(iam_server, "/widgets")
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    assert _signed("GET", f"{iam_server}/widgets?limit=2").status_code == 200
    who = _signed("GET", f"{iam_server}/answers/whoami").json()
    assert who["kind"] == "iam" and who["principal"] == LOCAL_PRINCIPAL


def test_with_iam_a_wrong_secret_is_refused_and_groups_are_still_the_functions_to_check(iam_server):
    wrong = _signed("GET", f"{iam_server}/widgets", secret="not-the-secret")
    assert wrong.status_code == 403 and "signature we calculated does not match" in wrong.json()["message"]
    delete = _signed("DELETE", f"{iam_server}/widgets/987654")
    assert delete.status_code == 403 and delete.json() == {"message": "requires group admin"}


def test_with_iam_graphql_takes_a_request_signed_for_appsync(iam_server):
    query = b'{"query": "{ listWidgets(limit: 1) { items { widgetId } } }"}'
    signed = _signed("POST", f"{iam_server}/graphql", body=query, service="appsync")
    assert signed.status_code == 200 and len(signed.json()["data"]["listWidgets"]["items"]) == 1
    assert requests.post(f"{iam_server}/graphql", data=query, timeout=10).status_code == 401
