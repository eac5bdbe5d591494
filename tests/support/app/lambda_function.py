"""The fixture app's handler module: what a project's src/lambda_function.py is, serving the fixture's routes."""

from __future__ import annotations

import fixture_widgets

from lambdakit import Router, maintenance

router = Router()
router.include(fixture_widgets.router)
router.include(maintenance.router)


def handler(event: dict, context: object) -> object:
    """Lambda's entry point for every event source."""
    return router.handle(event, context)
