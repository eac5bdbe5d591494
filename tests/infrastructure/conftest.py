"""Fixtures for the infrastructure tests (helpers live in infra_support.py)."""

from __future__ import annotations

import pytest
from infra_support import ACCOUNT, BYO_CONTEXT, Synth, synth, write_module


@pytest.fixture(scope="module")
def byo(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Bring-your-own database, explicit VPC, REST + GraphQL (the main template under test)."""
    directory = tmp_path_factory.mktemp("byo")
    write_module(directory)
    return synth(directory, {**BYO_CONTEXT, **ACCOUNT})
