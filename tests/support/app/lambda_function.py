"""The fixture app's handler module: what a project's src/lambda_function.py is, serving the fixture's routes."""

from __future__ import annotations

import fixture_widgets

import db_utils
from lambdakit import Router

router = Router()
router.include(fixture_widgets.router)
router.include(db_utils.maintenance)


def handler(event: dict, context: object) -> object:
    """Lambda's entry point for every event source."""
    return router.handle(event, context)
