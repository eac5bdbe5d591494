"""Answers beyond plain JSON: status and Location, binary bodies, redirects, cookies, HEAD and CORS preflight.

In the proxy shape API Gateway requires (REST v1 and HTTP API v2) and over real HTTP from the local server.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

from local.events import http_response, http_v2_event, rest_v1_event
from tests.local.answers_routes import PIXEL, router
from tests.support.identities import as_user, bearer


@pytest.mark.parametrize("http_api", [False, True], ids=["rest-v1", "http-v2"])
def test_a_binary_body_is_base64_with_its_content_type_in_the_proxy_answer(http_api):
    event = (
        http_v2_event("GET", "/answers/pixel.png")
        if http_api
        else rest_v1_event("GET", "/answers/pixel.png", "", [], b"")
    )
    answer = router.handle(event)
    assert answer["isBase64Encoded"] is True and base64.b64decode(answer["body"]) == PIXEL
    headers = answer["headers"] if http_api else {k: v[0] for k, v in answer["multiValueHeaders"].items()}
    assert headers["Content-Type"] == "image/png" and headers["ETag"] == '"px1"'
    assert headers["Cache-Control"] == "public, max-age=60"


def test_cookies_travel_apart_in_multi_value_headers_for_rest_and_in_cookies_for_http_apis():
    rest = router.handle(rest_v1_event("POST", "/answers/session", "", [], b""))
    assert rest["statusCode"] == 201 and json.loads(rest["body"]) == {"signedIn": True}
    assert rest["multiValueHeaders"]["Set-Cookie"] == ["sid=abc; HttpOnly; Secure; Path=/", "theme=dark; Path=/"]
    http = router.handle(http_v2_event("POST", "/answers/session"))
    assert http["cookies"] == ["sid=abc; HttpOnly; Secure; Path=/", "theme=dark; Path=/"]
    assert "Set-Cookie" not in http["headers"]


def test_a_redirect_and_text_keep_their_status_and_type():
    moved = router.handle(rest_v1_event("GET", "/answers/old", "", [], b""))
    assert moved["statusCode"] == 301 and moved["multiValueHeaders"]["Location"] == ["/answers/pixel.png"]
    status, headers, body = http_response(router.handle(rest_v1_event("GET", "/answers/report.csv", "", [], b"")))
    assert status == 200 and body == b"a,b\n1,2\n" and ("Content-Type", "text/csv; charset=utf-8") in headers


def test_head_on_a_get_route_is_the_get_without_its_body():
    event = as_user(rest_v1_event("HEAD", "/answers/whoami", "", [], b""))
    answer = router.handle(event)
    assert answer["statusCode"] == 200 and answer["body"] == ""
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert router.handle(rest_v1_event("HEAD", "/answers/session", "", [], b""))["statusCode"] == 405


# -- over HTTP -------------------------------------------------------------------------------------------
pytest_http = pytest.mark.slow


@pytest_http
def test_a_binary_download_arrives_byte_for_byte_with_its_headers(cognito_server):
    answer = requests.get(f"{cognito_server}/answers/pixel.png", timeout=10)
    assert answer.status_code == 200 and answer.content == PIXEL
    assert answer.headers["content-type"] == "image/png" and answer.headers["etag"] == '"px1"'
    assert answer.headers["cache-control"] == "public, max-age=60"


@pytest_http
def test_a_redirect_cookies_and_a_201_with_location_over_http(cognito_server):
    moved = requests.get(f"{cognito_server}/answers/old", allow_redirects=False, timeout=10)
    assert moved.status_code == 301 and moved.headers["location"] == "/answers/pixel.png"
    session = requests.post(f"{cognito_server}/answers/session", timeout=10)
    assert session.status_code == 201 and session.json() == {"signedIn": True}
    assert session.raw.headers.getlist("set-cookie") == ["sid=abc; HttpOnly; Secure; Path=/", "theme=dark; Path=/"]
    assert session.cookies.get("theme") == "dark"
    created = requests.post(
        f"{cognito_server}/widgets", json={"name": "Ida", "maker": "Noddack"}, headers=bearer(), timeout=10
    )
    assert created.status_code == 201 and created.headers["location"] == f"/widgets/{created.json()['widgetId']}"
    requests.delete(f"{cognito_server}{created.headers['location']}", headers=bearer(), timeout=10)


@pytest_http
def test_head_answers_the_gets_status_and_type_without_a_body(cognito_server):
    answer = requests.head(f"{cognito_server}/widgets/1", headers=bearer(), timeout=10)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-type"] == "application/json"


@pytest_http
def test_cors_preflight_is_answered_before_any_authorizer_and_answers_carry_the_origin(cognito_server):
    preflight = requests.options(
        f"{cognito_server}/widgets",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    answer = requests.get(f"{cognito_server}/widgets/1", headers=bearer(), timeout=10)
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
