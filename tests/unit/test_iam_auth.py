"""IAM auth tokens signed with the standard library: byte for byte what boto3 signs, env or container credentials."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest

from lambdakit.iam_auth import MissingCredentials, auth_token

HOST, PORT, USER = "students.proxy-abc.eu-west-1.rds.amazonaws.com", 5432, "app user"
NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def boto3_token(session_token: str | None) -> str:
    import boto3
    import botocore.auth

    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW):
        client = boto3.client(
            "rds",
            region_name="eu-west-1",
            aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=session_token,
        )
        return client.generate_db_auth_token(HOST, PORT, USER)


@pytest.mark.parametrize("session_token", ["IQoJb3JpZ2luX2Vj/+=token", None])
def test_the_token_is_exactly_what_boto3_generates(session_token):
    env = {**KEYS, "AWS_REGION": "eu-west-1"}
    if session_token:
        env["AWS_SESSION_TOKEN"] = session_token
    assert auth_token(HOST, PORT, USER, env, NOW) == boto3_token(session_token)


def test_snapstart_functions_sign_with_the_container_endpoints_credentials():
    answer = json.dumps(
        {"AccessKeyId": KEYS["AWS_ACCESS_KEY_ID"], "SecretAccessKey": KEYS["AWS_SECRET_ACCESS_KEY"], "Token": "tok"}
    ).encode()
    seen = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.handle_request, daemon=True).start()
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{server.server_address[1]}/2021-04-23/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer abc",
    }
    try:
        assert auth_token(HOST, PORT, USER, env, NOW) == boto3_token("tok")
    finally:
        server.server_close()
    assert seen == ["Bearer abc"]


def test_no_credentials_or_no_region_is_a_clear_error():
    with pytest.raises(MissingCredentials, match="AWS_REGION"):
        auth_token(HOST, PORT, USER, KEYS, NOW)
    with pytest.raises(MissingCredentials, match="credentials"):
        auth_token(HOST, PORT, USER, {"AWS_REGION": "eu-west-1"}, NOW)
