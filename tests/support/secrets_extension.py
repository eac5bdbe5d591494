"""A stand-in for the Parameters and Secrets Lambda Extension's HTTP API, for tests and the benchmark.

It answers `GET /secretsmanager/get?secretId=...` as the extension does: the GetSecretValue JSON for a
caller that sends the session token in `X-Aws-Parameters-Secrets-Token`, 401 without it, 400 for a
secret it does not hold. It runs in a thread of the caller, as a context manager.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"


class FakeSecretsExtension:
    """Serves `secrets` (id or ARN -> SecretString) on 127.0.0.1:`port` (0: any free port) to holders of `token`."""

    def __init__(self, secrets: dict[str, str], token: str, port: int = 0) -> None:
        self.secrets = dict(secrets)
        self.token = token
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                secret_id = parse_qs(parts.query).get("secretId", [""])[0]
                owner.requests.append(secret_id)
                if self.headers.get(TOKEN_HEADER) != owner.token:
                    self._answer(401, {"message": "missing or bad session token"})
                elif parts.path != "/secretsmanager/get" or secret_id not in owner.secrets:
                    self._answer(400, {"message": "secret not found"})
                else:
                    self._answer(200, {"Name": secret_id, "SecretString": owner.secrets[secret_id]})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeSecretsExtension:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
