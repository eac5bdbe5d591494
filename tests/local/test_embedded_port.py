"""The local database names a taken port instead of failing inside pg_ctl."""

from __future__ import annotations

import socket

import pytest

from local.embedded_pg import EmbeddedPostgres, PortInUse, free_port


def test_a_database_whose_port_is_taken_says_so_before_starting(tmp_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(PortInUse, match=f"port {port} is taken"):
            EmbeddedPostgres(tmp_path / "data", port).start()
