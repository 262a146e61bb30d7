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


def csrf_valid(request: Request, submitted: str | None) -> bool:
    """Does a form post carry the session's token? (not: a cross-site forgery, or a form served
    before the session ended: a logout in another tab, cookies cleared)"""
    expected = request.session.get("csrf")
    return isinstance(expected, str) and bool(submitted) and hmac.compare_digest(expected, submitted or "")


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form post whose token does not match the session's."""
    if not csrf_valid(request, submitted):
        raise HTTPException(
            403,
            "表单已过期或来自其他网站，请刷新页面后重试。"
            "The form expired or came from another site; reload the page and try again.",
        )
