"""CSRF tokens for browser forms: one random token per session, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form post whose token does not match the session's (a cross-site forgery)."""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "the form expired or came from another site; reload the page and try again")
