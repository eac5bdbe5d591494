"""A greedy `{path+}` segment: served by the local server with the tail as one parameter, and synthesized."""

from __future__ import annotations

import requests

from tests.faults.harness import LocalServer
from tests.support.identities import signed_in_session


def test_the_local_server_serves_a_greedy_path_with_the_tail_as_one_parameter(pg, tmp_path):
    env = {"DATABASE_URL": pg.url, "LOCAL_ACCESS_LOG": "0"}
    with LocalServer(env, workers=1, module="tests.local.greedy_routes", log=tmp_path / "server.log") as server:
        answer = requests.get(f"{server.base}/files/reports/2026/q4.csv", timeout=10)
        assert answer.status_code == 200 and answer.json() == {"path": "reports/2026/q4.csv"}
        # No route: the catch-all answers, behind the authorizer as deployed (401 unsigned, 404 signed in).
        assert requests.get(f"{server.base}/files", timeout=10).status_code == 401
        assert signed_in_session().get(f"{server.base}/files", timeout=10).status_code == 404
