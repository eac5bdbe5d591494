"""Routes the template adds to every function: `migrate`, a direct route for `make migrate STAGE=...`.

Direct only, so no API can reach it; lambda_function.py includes this router next to yours.
"""

from __future__ import annotations

from db_utils import transaction
from lambdakit.router import Router

router = Router()


@router.direct("migrate")
@transaction
def migrate(conn) -> dict:
    """Apply pending src/migrations/*.sql inside the function, the one thing that reaches a private database."""
    from lambdakit.migrator import apply_migrations  # only this route needs it, and never on a cold start

    return {"applied": apply_migrations(conn)}
