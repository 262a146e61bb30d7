"""The Jinja2 environment shared by the pages (autoescaping on)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import URL
from starlette.responses import Response

from app.models import User
from app.rendering import plain_text, render, render_inline
from app.web.csrf import csrf_token
from app.web.i18n import UI, page_lang

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC_DIR = Path(__file__).resolve().parent / "static"
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.filters["md"] = render
templates.env.filters["md_inline"] = render_inline
templates.env.filters["plain"] = plain_text  # a family title ($V^\pi$) where no markup is shown
# a worked step that is itself a list item ("1. ...", "- ...")
templates.env.tests["is_list_item"] = lambda step: bool(re.match(r"\s*(\d+[.)]|[-*+])\s", str(step)))


def page(
    request: Request,
    template: str,
    user: User | None,
    status: int = 200,
    canonical: str | None = None,
    **ctx: Any,
) -> Response:
    """Render a page in the visitor's language (see app.web.i18n.page_lang).

    `canonical` is the page's own address where the request's is not (the answer to a form
    post): the language link must reopen the same instance, not pose a new one.
    """
    lang = page_lang(request, user)
    other = "en" if lang == "zh" else "zh"
    switch = (URL(canonical) if canonical else request.url).include_query_params(lang=other)
    resp = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": other,
            "lang_switch_url": f"{switch.path}?{switch.query}",
            # where the login link brings the visitor back to: this instance, not a new one
            "here": str(URL(canonical))
            if canonical
            else request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "ui": {k: v[lang] for k, v in UI.items()},
            "user": user,
            "csrf": csrf_token(request),
            "course_time": course_time(request),
            **ctx,
        },
        status_code=status,
    )
    return resp


def course_time(request: Request) -> Any:
    """The course's clock for a request's app (what the pages show deadlines in)."""
    return _course_clock(request.app.state.settings.course_utc_offset_hours)


def _course_clock(offset_hours: float) -> Any:
    """A moment on the course's clock (DLGRADER_COURSE_UTC_OFFSET_HOURS, Beijing time by default),
    as deadlines are given to students: `2027-01-01 08:00 (UTC+8)`."""
    zone = timezone(timedelta(hours=offset_hours))

    def show(moment: datetime | str | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") + f" (UTC{offset_hours:+g})"

    return show
