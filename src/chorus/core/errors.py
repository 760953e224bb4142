"""Errors raised by services; views turn them into form errors, the API into JSON."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule said no. `code` is stable for API clients; `field` names the input."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(ServiceError):
    """The acting user's role or scope does not permit this."""

    code = "permission_denied"
    status = 403


class NotFound(ServiceError):
    """The object does not exist or is not visible to the acting user."""

    code = "not_found"
    status = 404


class Conflict(ServiceError):
    """The request clashes with the current state (duplicate, already done...)."""

    code = "conflict"
    status = 409
