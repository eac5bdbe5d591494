"""The request ids: which id each event source gives, and that every log line of a request carries them."""

from __future__ import annotations

import pytest
from aws_lambda_powertools import Logger

from lambdakit import observability, proxy, request_ids
from lambdakit.log import logger as lazy_logger
from local.events import LambdaContext, appsync_event, direct_event, http_v2_event, rest_v1_event
from tests.support.emf import log_lines


@pytest.fixture(autouse=True)
def warm(capsys):
    """Past the cold start, so these tests see log lines only."""
    observability.reset()
    observability.start_request({}, None)
    capsys.readouterr()
    yield
    observability.reset()


def rest_event() -> dict:
    event = rest_v1_event("GET", "/students/1", "", [], b"")
    event["requestContext"]["requestId"] = "rest-request-id"
    return event


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (rest_event(), "rest-request-id"),
        ({**http_v2_event("GET", "/students"), "requestContext": {"requestId": "http-request-id"}}, "http-request-id"),
        (appsync_event("Query", "getStudent", {}, headers={"x-amzn-requestid": "appsync-id"}), "appsync-id"),
        (appsync_event("Query", "getStudent", {}, headers={"x-amzn-trace-id": "Root=1-abc"}), "Root=1-abc"),
    ],
    ids=["rest-v1", "http-v2", "appsync-request-id", "appsync-trace-id"],
)
def test_the_gateway_request_id_is_the_correlation_id(event, expected):
    assert observability.start_request(event, LambdaContext(aws_request_id="lambda-id")) == expected
    assert request_ids.correlation_id == expected


def test_a_direct_invoke_has_no_gateway_so_the_lambda_request_id_stands_in():
    context = LambdaContext(aws_request_id="lambda-id")
    assert observability.start_request(direct_event("get_student", studentId=1), context) == "lambda-id"


def test_every_log_line_of_a_request_carries_both_ids_from_any_logger_of_the_function():
    other_module_logger = Logger()  # db_utils, the router and user code each hold their own instance
    with log_lines() as lines:
        observability.start_request(rest_event(), LambdaContext(aws_request_id="lambda-id"))
        other_module_logger.info("first")
        other_module_logger.error("second", extra={"error_type": "Boom"})
        lazy_logger.warning("third")  # the template's own (lambdakit.log), made on this first line
    assert [line["message"] for line in lines] == ["first", "second", "third"]
    for line in lines:
        assert line["correlation_id"] == "rest-request-id"
        assert line["function_request_id"] == "lambda-id"


def test_the_next_request_replaces_the_ids_so_nothing_leaks_between_requests():
    observability.start_request(rest_event(), LambdaContext(aws_request_id="first-lambda-id"))
    with log_lines() as lines:
        observability.start_request(direct_event("x"), LambdaContext(aws_request_id="second-lambda-id"))
        Logger().info("next")
    assert lines[0]["correlation_id"] == lines[0]["function_request_id"] == "second-lambda-id"


def test_without_a_lambda_context_no_id_is_invented():
    with log_lines() as lines:
        assert observability.start_request(direct_event("x"), None) is None
        Logger().info("no ids")
    assert "correlation_id" not in lines[0] and "function_request_id" not in lines[0]


def test_the_response_header_name_is_the_common_one():
    assert proxy.REQUEST_ID_HEADER == "X-Request-Id"


def test_the_answer_headers_gain_the_request_id_and_the_given_dict_is_left_alone():
    observability.start_request(rest_event(), LambdaContext(aws_request_id="lambda-id"))
    given = {"Content-Type": "application/json"}
    assert proxy.with_request_id(given) == {
        "Content-Type": "application/json",
        "X-Request-Id": "rest-request-id",
    }
    assert given == {"Content-Type": "application/json"}


def test_without_an_id_the_headers_are_returned_as_they_are():
    observability.start_request(direct_event("x"), None)
    given = {"Content-Type": "application/json"}
    assert proxy.with_request_id(given) is given
