"""Domain errors raised by services; app/errors.py maps them to HTTP."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    field: str | None = None
    location = "body"  # where the field is: body, header, path or query (the 422's loc)

    def __init__(self, message: str, *, field: str | None = None, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if location is not None:
            self.location = location


class NotFound(ServiceError):
    status = 404


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    """Bad input that passed the schema: 422 naming the field."""

    status = 422


class Gone(ServiceError):
    """A stored instance whose family version changed: it can no longer be reproduced exactly."""

    status = 410


class TooManyRequests(ServiceError):
    status = 429
