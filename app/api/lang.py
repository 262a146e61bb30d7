"""Which language to answer in: the request's choice, the user's, the browser's, else English."""

from __future__ import annotations

from fastapi import Request

from app.models import User


def pick_lang(request: Request, explicit: str | None, user: User | None) -> str:
    if explicit in ("zh", "en"):
        return explicit
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    if user is not None and user.lang in ("zh", "en"):
        return user.lang
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


def asked_lang(request: Request) -> str | None:
    """The language the request itself asks for (?lang=, else Accept-Language), not the account's:
    an error said in both languages is in Chinese only for a caller who asks (scripts read English)."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else None
