"""Errors a route may raise; each carries the HTTP status and a message that is safe to show a client."""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error the router turns into a `{"message": ...}` answer."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    """The input is malformed or invalid; the message names the field."""

    status = 400


class Unauthorized(ApiError):
    """The route needs a signed-in caller and nobody was identified."""

    status = 401


class Forbidden(ApiError):
    """The caller is known but lacks a group or scope the route requires."""

    status = 403


class NotFound(ApiError):
    """The route or the row does not exist."""

    status = 404


class MethodNotAllowed(ApiError):
    """The path exists but not with this method."""

    status = 405

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class Conflict(ApiError):
    """The write clashes with existing data (unique or foreign key)."""

    status = 409


class PayloadTooLarge(ApiError):
    """The request body is larger than Lambda accepts."""

    status = 413


class UnsupportedMediaType(ApiError):
    """The request body is not JSON."""

    status = 415


class ServiceUnavailable(ApiError):
    """The database cannot be reached right now; the client may retry.

    `retry_after` (seconds) is set when the wait is known to be short, as when every connection slot of
    the database is taken; a REST answer carries it as the `Retry-After` header.
    """

    status = 503

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GatewayTimeout(ApiError):
    """The database took longer than the statement timeout."""

    status = 504


INTERNAL_ERROR_MESSAGE = "internal error"


class InternalError(ApiError):
    """Something failed that the client cannot fix; the details stay in the logs."""

    status = 500

    def __init__(self) -> None:
        super().__init__(INTERNAL_ERROR_MESSAGE)
