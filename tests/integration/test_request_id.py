"""One request id end to end through the handler: in every log line of the request and in the X-Request-Id header."""

from __future__ import annotations

from local.events import LambdaContext, direct_event, http_v2_event, rest_v1_event
from tests.support.app import handler
from tests.support.emf import log_lines


def get_widget_event(request_id: str) -> dict:
    event = rest_v1_event(
        "GET", "/widgets/1", "", [], b"", resource="/widgets/{widgetId}", path_parameters={"widgetId": "1"}
    )
    event["requestContext"]["requestId"] = request_id
    return event


def test_a_rest_answer_echoes_the_gateway_request_id_in_x_request_id(lambda_env):
    answer = handler(get_widget_event("gw-1"), LambdaContext(aws_request_id="fn-1"))
    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["X-Request-Id"] == ["gw-1"]


def test_an_error_answer_carries_the_id_too(lambda_env):
    event = rest_v1_event("GET", "/nowhere", "", [], b"")
    event["requestContext"]["requestId"] = "gw-404"
    answer = handler(event, LambdaContext())
    assert answer["statusCode"] == 404 and answer["multiValueHeaders"]["X-Request-Id"] == ["gw-404"]


def test_an_http_api_answer_echoes_its_request_id(lambda_env):
    event = http_v2_event("GET", "/widgets/1")
    event["requestContext"]["requestId"] = "http-1"
    answer = handler(event, LambdaContext())
    assert answer["headers"]["X-Request-Id"] == "http-1"


def test_every_log_line_of_a_failing_request_carries_both_ids(lambda_env, monkeypatch):
    # No database configured: db_utils and the router each log an error for this one request.
    monkeypatch.delenv("DATABASE_URL")
    with log_lines() as lines:
        answer = handler(get_widget_event("gw-500"), LambdaContext(aws_request_id="fn-500"))
    assert answer["statusCode"] == 500 and answer["multiValueHeaders"]["X-Request-Id"] == ["gw-500"]
    assert [line["message"] for line in lines] == ["database is not configured", "request failed"]
    for line in lines:
        assert (line["correlation_id"], line["function_request_id"]) == ("gw-500", "fn-500")


def test_a_self_healing_reconnect_logs_with_the_ids_of_the_request_it_served(lambda_env, admin):
    first = handler(direct_event("get_widget", widgetId=1), LambdaContext())
    assert "data" in first
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lambda-api'")
    with log_lines() as lines:
        answer = handler(get_widget_event("gw-heal"), LambdaContext(aws_request_id="fn-heal"))
    assert answer["statusCode"] == 200
    assert lines and all(line["correlation_id"] == "gw-heal" for line in lines)
    assert all(line["function_request_id"] == "fn-heal" for line in lines)
