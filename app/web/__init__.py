"""Browser pages for students (server-rendered Jinja2; every page works without JavaScript)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web import accounts, exam_pages, grading, homework, pages
from app.web.templating import STATIC_DIR


def mount(app: FastAPI) -> None:
    app.add_middleware(RememberLanguage)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(accounts.router)
    app.include_router(exam_pages.router)
    app.include_router(grading.router)
    app.include_router(homework.router)


class RememberLanguage:
    """?lang=zh|en on any page sets the language cookie, redirects included.

    Plain ASGI rather than @app.middleware("http"): that wrapper ran every request, API calls
    and /healthz included, through an extra task and memory stream (measured: a fifth of the
    health endpoint's cost)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang = _lang_query(scope)
        if lang is None:
            await self.app(scope, receive, send)
            return
        cookie = Response()
        cookie.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _lang_query(scope: Scope) -> str | None:
    if scope["type"] != "http" or scope["path"].startswith("/api") or not scope.get("query_string"):
        return None
    values = parse_qs(scope["query_string"].decode("latin-1")).get("lang", [])
    lang = values[-1] if values else None
    return lang if lang in ("zh", "en") else None
