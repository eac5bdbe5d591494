"""Your Lambda function: one router, the route modules it serves, and the handler Lambda calls.

Write routes in modules of your own (students.py is the sample) and include each module's router
here: the runtime, the stack (app.py) and the local server all find them through these lines.
"""

from __future__ import annotations

import db_utils
import students
from lambdakit import Router

router = Router()
router.include(students.router)  # the sample: delete this line and students.py to start afresh
router.include(db_utils.maintenance)  # `migrate`, the direct route behind `make migrate STAGE=...`


def handler(event: dict, context: object) -> object:
    """Lambda's entry point for every event source (REST v1/v2, AppSync, direct invokes)."""
    return router.handle(event, context)
