"""Account pages: an instructor's roster import, and self-registration with a course code."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.deps import InstructorUser, OptionalUser, SessionDep, SettingsDep, start_session
from app.routing import OneTripRoute
from app.services import users
from app.services.csvtext import decode_upload
from app.services.errors import Conflict, Invalid
from app.web.csrf import verify_csrf
from app.web.i18n import page_lang
from app.web.templating import page

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)


@router.get("/roster")
def roster_form(request: Request, user: InstructorUser) -> Response:
    return page(request, "web/roster.html", user, created=None, errors=[])


@router.post("/roster")
async def roster_import(
    request: Request,
    session: SessionDep,
    user: InstructorUser,
    csrf_token: Annotated[str, Form(max_length=100)],
    roster: UploadFile | None = None,
    roster_text: Annotated[str, Form(max_length=1_000_000)] = "",
) -> Response:
    """Create student accounts from a CSV (student id, name); show their first passwords once."""
    uploaded = await roster.read(1_000_001) if roster is not None and roster.filename else None
    # Hashing a class's passwords takes seconds of CPU: off the event loop.
    return await run_in_threadpool(_import_roster, request, session, user, csrf_token, uploaded, roster_text)


def _import_roster(
    request: Request, session: Session, user: Any, csrf_token: str, uploaded: bytes | None, text: str
) -> Response:
    verify_csrf(request, csrf_token)
    try:
        if uploaded is not None:
            text = decode_upload(uploaded, field="roster")
        created = users.import_roster(session, text)
        session.commit()
    except Invalid as exc:
        session.rollback()
        errors = exc.lines(page_lang(request, user))
        return page(
            request, "web/roster.html", user, status=422, created=None, errors=errors, roster_text=text
        )
    return page(request, "web/roster.html", user, created=created, errors=[])


@router.get("/register")
def register_form(request: Request, user: OptionalUser, settings: SettingsDep) -> Response:
    return page(
        request,
        "web/register.html",
        user,
        status=200 if settings.registration_code else 404,
        open=bool(settings.registration_code),
        error=None,
    )


@router.post("/register")
def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    code: Annotated[str, Form(max_length=100)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Self-registration, open only while the instructor has set a course code."""
    verify_csrf(request, csrf_token)
    if not settings.registration_code:
        return page(request, "web/register.html", None, status=404, open=False, error=None)
    if not hmac.compare_digest(code.strip(), settings.registration_code):
        return page(
            request, "web/register.html", None, status=403, open=True, error="wrong course code", name=name
        )
    try:
        user = users.create_user(session, name=name, role="student", password=password)
        session.commit()
    except (Invalid, Conflict) as exc:
        session.rollback()
        return page(request, "web/register.html", None, status=422, open=True, error=exc.message, name=name)
    start_session(request, user)
    return RedirectResponse("/", status_code=303)
