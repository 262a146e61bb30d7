"""Home, practice, solution, login and progress pages."""

from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import nullcontext
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

import problems
from app.db import utcnow
from app.deps import OptionalUser, SessionDep, start_session
from app.models import Attempt, InstanceRecord, User
from app.routing import OneTripRoute
from app.services import attempts, checks, exams, instances, progress, users
from app.services.catalogue import list_problems
from app.services.errors import NotFound, TooManyRequests
from app.web import charts
from app.web.csrf import csrf_valid, verify_csrf
from app.web.i18n import page_lang
from app.web.templating import STATIC_DIR, page
from problems.syllabus import CHAPTERS

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)
# custom.answer is a TA's own question posed with params; it is not a topic to practise.
NOT_FOR_PRACTICE = frozenset({"custom.answer"})
TRIED_KEY = "tried"  # instance ids an anonymous visitor has submitted (solutions unlock after one try)


def _chapters(stats: dict[str, progress.FamilyStat]) -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = {c: [] for c in CHAPTERS}
    for fam in list_problems():
        if fam["id"] in NOT_FOR_PRACTICE:
            continue
        by[fam["chapter"]].append({**fam, "stat": stats.get(fam["id"])})
    return [{"tag": c, "title": CHAPTERS[c], "families": fams} for c, fams in by.items() if fams]


@router.get("/")
def home(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    stats = progress.family_stats(progress.judged_attempts(session, user=user)) if user else {}
    return page(request, "web/home.html", user, chapters=_chapters(stats))


def _family_or_404(problem_id: str) -> problems.Family[Any]:
    try:
        return problems.get_family(problem_id)
    except problems.UnknownProblem:
        raise NotFound(f"no problem family {problem_id!r}") from None


def _practice_page(
    request: Request,
    user: User | None,
    record: InstanceRecord,
    *,
    answers: dict[str, str] | None = None,
    stored: dict[str, str] | None = None,
    result: dict[str, Any] | None = None,
    tried: bool = False,
    expired: bool = False,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    inst = instances.build(record)
    return page(
        request,
        "web/practice.html",
        user,
        status=403 if expired else status,
        expired=expired,
        notice=notice,
        form_key=secrets.token_urlsafe(12),
        canonical=f"/practice/{record.problem}?i={record.id}",
        family=inst.family,
        record=record,
        inst=inst,
        answers=answers or {},
        # what the server holds of this user's answers here: the browser drops drafts equal to it
        stored=stored,
        result=result,
        tried=tried,
    )


def _has_tried(request: Request, session: Any, user: User | None, record: InstanceRecord) -> bool:
    if record.id in request.session.get(TRIED_KEY, []):
        return True
    if user is None:
        return False
    return (
        session.scalar(
            select(Attempt.id).where(Attempt.user_id == user.id, Attempt.instance_id == record.id).limit(1)
        )
        is not None
    )


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon() -> Response:
    """The site's icon where a browser asks for it unbidden: every page without a link to it (an
    exam paper, an error from the API) logged a 404 in the console."""
    return FileResponse(
        STATIC_DIR / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/practice/{problem_id}")
def practice(
    request: Request, problem_id: str, session: SessionDep, user: OptionalUser, i: str | None = None
) -> Response:
    """A fresh instance (redirects to its own address so a reload keeps the same numbers)."""
    _family_or_404(problem_id)
    if i is not None:
        record = request.app.state.records.fetch(session, i)
        if record.problem != problem_id:
            raise NotFound(f"no instance {i!r} of {problem_id}")
        # A student back on an instance they have checked finds their last answers in the boxes
        # (Back after a submit showed them empty: the boxes are autocomplete="off").
        last = attempts.last_answers(session, user=user, instance_id=record.id) if user else None
        tried = last is not None or record.id in request.session.get(TRIED_KEY, [])
        return _practice_page(request, user, record, answers=last, stored=last, tried=tried)
    record, _ = instances.create_instance(
        session, problem=problem_id, seed=secrets.randbelow(2**53), params=None, user=user
    )
    request.app.state.records.put(record)  # the redirect reads it back at once
    return RedirectResponse(f"/practice/{problem_id}?i={record.id}", status_code=303)


@router.post("/practice/{problem_id}")
async def practice_submit(
    request: Request, problem_id: str, session: SessionDep, user: OptionalUser
) -> Response:
    """Grade the form; the answers stay in their boxes and each part shows its verdict."""
    form = await request.form()
    grader = request.app.state.grader

    def read_form() -> tuple[InstanceRecord, dict[str, str]]:
        record = request.app.state.records.fetch(session, str(form.get("instance_id", "")))
        if record.problem != problem_id:
            raise NotFound(f"no instance {record.id!r} of {problem_id}")
        inst = instances.build(record)
        # Each box is named after its part (the contract); `answer.<part>` is how pages before
        # that named them, and a page open in a tab since then still sends it.
        answers = {
            q.name: str(form.get(q.name) or form.get(f"answer.{q.name}") or "")[:10_000] for q in inst.parts
        }
        return record, {k: v for k, v in answers.items() if v.strip()}

    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        # Not graded, and not lost either: the same boxes, filled in, with a fresh token.
        def expired() -> Response:
            record, answers = read_form()
            return _practice_page(request, user, record, answers=answers, expired=True)

        return await run_in_threadpool(expired)

    if not any(str(v).strip() for k, v in form.multi_items() if k not in _FORM_FIELDS):
        # Nothing typed: not an attempt (it counted 0% and unlocked the worked solution).
        def blank() -> Response:
            record, _ = read_form()
            return _practice_page(request, user, record, notice="nothing_typed", status=422)

        return await run_in_threadpool(blank)

    def begin() -> checks.Begun:
        record, answers = read_form()
        return checks.begin_check(
            session,
            grader=grader,
            record=record,
            user=user,
            answers=answers,
            lang=page_lang(request, user),
            idempotency_key=_resent_key(str(form.get("form_key", "")), answers),
        )

    # Off the event loop, like the API's check: it ran on the loop, where one slow check stopped
    # every request of the worker.
    begun, result = await checks.check_off_the_loop(
        lambda: nullcontext(session), grader=grader, begin=lambda _: begin()
    )
    record, answers = begun.record, begun.answers
    tried = list(request.session.get(TRIED_KEY, []))[-19:] + [record.id]
    request.session[TRIED_KEY] = tried
    return await run_in_threadpool(
        _practice_page,
        request,
        user,
        record,
        answers=answers,
        stored=answers if user else None,  # the attempt is stored: its drafts are done with
        result=result,
        tried=True,
    )


_FORM_FIELDS = ("csrf_token", "instance_id", "form_key")  # the practice form's own, not answers


def _resent_key(form_key: str, answers: dict[str, str]) -> str | None:
    """The same page sending the same answers again is one attempt: a reload of the result (the
    browser posts the form again) stored a second one. The same page with changed answers (Back,
    edit, submit) is a new attempt, so the answers are part of the key."""
    if not form_key or len(form_key) > 40:
        return None
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:24]
    return f"page:{form_key}:{digest}"


@router.get("/practice/{problem_id}/solution")
def solution(request: Request, problem_id: str, i: str, session: SessionDep, user: OptionalUser) -> Response:
    """The worked solution, once the visitor has tried this instance at least once."""
    record = request.app.state.records.fetch(session, i)
    if record.problem != problem_id:
        raise NotFound(f"no instance {i!r} of {problem_id}")
    tried = _has_tried(request, session, user, record) or (user is not None and user.is_staff)
    inst = instances.build(record)
    return page(
        request,
        "web/solution.html",
        user,
        status=200 if tried else 403,
        family=inst.family,
        record=record,
        inst=inst,
        steps=inst.solution() if tried else None,
    )


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Response:
    return page(request, "web/login.html", user, next=_safe_next(next), error=None)


def _safe_next(target: str) -> str:
    # Only same-site paths: an open redirect would let a phishing link bounce through us.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    verify_csrf(request, csrf_token)
    key = f"{name.strip().lower()}|{request.client.host if request.client else '-'}"
    limiter = request.app.state.login_limiter
    try:
        limiter.check(key)
    except TooManyRequests as exc:
        return page(
            request, "web/login.html", None, status=429, next=_safe_next(next), error=exc.message, name=name
        )
    user = users.authenticate(session, name=name, password=password)
    if user is None:
        limiter.fail(key)
        lang = page_lang(request, None)
        msg = "用户名或密码错误。" if lang == "zh" else "Wrong user name or password."
        return page(request, "web/login.html", None, status=401, next=_safe_next(next), error=msg, name=name)
    session.commit()
    start_session(request, user)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    if request.cookies.get("lang") not in ("zh", "en"):
        # Keep the language the visitor was reading in: the account's (zh unless chosen) took
        # over at login, and an English browser's pages turned Chinese.
        resp.set_cookie(
            "lang", page_lang(request, None), max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return resp


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    verify_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/me")
def me(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Progress: accuracy per chapter and per family over time, and the attempt history."""
    if user is None:
        return RedirectResponse("/login?next=/me", status_code=303)
    lang = page_lang(request, user)
    fams = {f["id"]: f for f in list_problems()}
    judged = progress.judged_attempts(session, user=user)
    stats = progress.family_stats(judged)
    by_chapter = progress.chapter_accuracy(judged)
    chapter_chart = charts.bar_chart(
        [(CHAPTERS[c][lang], by_chapter[c]) for c in CHAPTERS if c in by_chapter],
        title="正确率（按章节）" if lang == "zh" else "Accuracy by chapter",
    )
    series: dict[str, list[float]] = {}
    for _, problem, score in progress.attempts_over_time(session, user=user):
        series.setdefault(problem, []).append(score)
    family_rows = [
        {
            "id": p,
            "title": fams[p]["title_md"][lang] if p in fams else p,
            "stat": stats[p],
            "spark": charts.sparkline(series.get(p, [])[-30:], title=p),
        }
        for p in sorted(stats, key=lambda p: stats[p].recent_accuracy)
    ]
    history, total = attempts.list_attempts(session, user=user, limit=50)
    return page(
        request,
        "web/me.html",
        user,
        chapter_chart=chapter_chart,
        family_rows=family_rows,
        history=history,
        total=total,
        titles={p: f["title_md"][lang] for p, f in fams.items()},
        my_exams=exams.assignments_of(session, user),
    )


@router.get("/practice-next")
def practise_weak_spot(session: SessionDep, user: OptionalUser) -> Response:
    """Go to the family where recent accuracy is lowest (spaced: a just-failed family waits)."""
    families = [
        f["id"] for f in list_problems() if f["id"] not in NOT_FOR_PRACTICE | {"concept.short_answer"}
    ]
    stats = progress.family_stats(progress.judged_attempts(session, user=user)) if user else {}
    choice = progress.next_weak_spot(stats, families, now=utcnow(), tie_break=secrets.randbelow(1000))
    return RedirectResponse(f"/practice/{choice}", status_code=303)
