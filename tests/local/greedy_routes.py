"""A Lambda module with a greedy path, for the local server: the tail of the path arrives as one parameter."""

from __future__ import annotations

from lambdakit import Router

router = Router()


@router.rest("GET", "/files/{path+}", auth="none")
def get_file(path: str) -> dict:
    """Echo the tail of the path."""
    return {"path": path}


def handler(event: dict, context: object) -> object:
    """Lambda entry point."""
    return router.handle(event, context)
