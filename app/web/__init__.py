"""Browser pages for students (server-rendered Jinja2; every page works without JavaScript)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from app.web import accounts, exam_pages, pages
from app.web.templating import STATIC_DIR


def mount(app: FastAPI) -> None:
    @app.middleware("http")
    async def remember_language(request: Request, call_next):  # type: ignore[no-untyped-def]
        """?lang=zh|en on any page sets the language cookie, redirects included."""
        response = await call_next(request)
        lang = request.query_params.get("lang")
        if lang in ("zh", "en") and not request.url.path.startswith("/api"):
            response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(accounts.router)
    app.include_router(exam_pages.router)
