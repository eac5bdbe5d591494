"""One HTTP GET to a service on this machine: the secrets extension, or SnapStart's credentials endpoint.

Both answer small JSON bodies on the loopback, so a socket and a few lines do, where http.client or
urllib would add about 5 ms of imports to a cold start.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping


def _decode_chunked(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def get(url: str, headers: Mapping[str, str], timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body) of `GET url` over plain HTTP; OSError when nothing answers, ValueError on a garbled answer."""
    from urllib.parse import urlsplit  # on use: a cold start with DATABASE_URL never makes this request

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not a plain http URL: {url!r}")
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    chunks = []
    with socket.create_connection((parts.hostname, port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, separator, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("incomplete HTTP answer")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = status_line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise ValueError("no HTTP status line")
    pairs = (line.partition(":") for line in header_lines)
    answer_headers = {name.strip().lower(): value.strip() for name, _, value in pairs}
    if answer_headers.get("transfer-encoding", "").lower() == "chunked":
        body = _decode_chunked(body)
    elif answer_headers.get("content-length", "").isdigit():
        body = body[: int(answer_headers["content-length"])]
    return int(fields[1]), body
