"""Browser pages for students (server-rendered Jinja2; every page works without JavaScript)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import accounts, pages
from app.web.templating import STATIC_DIR


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(accounts.router)
