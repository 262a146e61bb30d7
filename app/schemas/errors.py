"""The error body every API error status documents in OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "The body could not be read (not UTF-8 or not JSON)"),
        (401, "No token, or an invalid or revoked one"),
        (403, "The caller's role does not allow this"),
        (404, "Unknown id"),
        (409, "Conflicts with what exists"),
        (410, "The instance can no longer be reproduced (its family changed version)"),
        (413, "Request body over the size limit"),
        (429, "Too many attempts; see Retry-After"),
        (503, "The database is not answering; nothing was written"),
    )
}
