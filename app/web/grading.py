"""Hand grading of practice short answers in the browser: the API's GET /attempts?ungraded=true
and POST /attempts/{id}/grade as a page (exam short answers are graded on the exam's own page).
Before it, a short answer practised outside an exam waited for a TA who had to use the API."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.deps import SessionDep, StaffUser
from app.models import Attempt, User
from app.routing import OneTripRoute
from app.services import attempts, instances
from app.services.errors import ServiceError
from app.services.handgrades import share_of
from app.web.csrf import csrf_valid
from app.web.i18n import page_lang
from app.web.templating import page
from grader.parse import normalize

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)

QUEUE_SIZE = 100  # the oldest answers first: a page at a time, the rest after these are graded
SCORE_HELP = {  # a form from before grades were typed in points (a page left open): a share
    "zh": "得分应是 0 到 1 之间的数（例如 0.8）。",
    "en": "The score is a number from 0 to 1 (e.g. 0.8).",
}
POINTS_HELP = {
    "zh": "得分应是 0 到 {full} 之间的数（满分 {full} 分，例如 {example}）。",
    "en": "The score is a number of points from 0 to {full} (out of {full}, e.g. {example}).",
}


def points_help(full: float, lang: str) -> str:
    return POINTS_HELP[lang].format(full=f"{full:g}", example=f"{round(full * 0.7, 2):g}")


FORM_EXPIRED = {
    "zh": "表单已过期（也许你在别处登出过），评分未保存，请再提交一次。",
    "en": "The form expired (perhaps you logged out elsewhere); the grade was not saved: send it again.",
}
NOT_WAITING = {
    "zh": "这个答案不在待批改之列（已删除，或无需人工评分），未作修改。",
    "en": "This answer is not waiting for a TA (deleted, or nothing in it is graded by hand); nothing changed.",
}


def read_score(text: str) -> float | None:
    """A TA's score from 0 to 1 as typed, from an IME too (０．８, 0，8); None when it is not one."""
    return read_points(text, 1.0)


def read_points(text: str, full: float) -> float | None:
    """A TA's points out of `full` as typed (7, ７, 7.5, 7，5, 7 分), as the share of the answer a
    grade is stored as; None when it is not a number from 0 to `full`."""
    typed = normalize(text).replace(",", ".").strip().removesuffix("分").strip()
    try:
        points = float(typed)
    except ValueError:
        return None
    return share_of(points, full) if math.isfinite(points) else None


def typed_share(points: str | None, score: str | None, full: float, lang: str) -> float | str:
    """The share of an answer a TA's form gives: `points` out of `full`, or `score` as a share (a
    form rendered before grades were typed in points); the message to show when it is neither."""
    if points is not None:
        share = read_points(points, full)
        return share if share is not None else points_help(full, lang)
    share = read_score(score or "")
    return share if share is not None else SCORE_HELP[lang]


class _AttemptGrade(BaseModel):
    csrf_token: str = Field(default="", max_length=100)
    # Read here, with a message a form can show: points out of the question's full marks; a share
    # (`score`, 0..1) from a form rendered before grades were typed in points.
    points: str | None = Field(default=None, max_length=20)
    score: str | None = Field(default=None, max_length=20)
    comment: str = Field(
        default="", max_length=10_000
    )  # a browser sends 5000 characters' line breaks as CRLF


AttemptForm = Annotated[_AttemptGrade, Form()]


def waiting(session: Session, request: Request, lang: str) -> tuple[list[dict[str, Any]], int]:
    """Practice attempts with a part waiting for a TA, oldest first (first come, first graded),
    each with the question and its outline and rubric; and how many wait in all."""
    rows, total = attempts.list_attempts(session, ungraded=True, limit=QUEUE_SIZE, oldest_first=True)
    ids = {a.user_id for a in rows}
    names: dict[int, str] = {
        uid: name for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    }
    items = []
    for a in rows:
        inst = _posed(request, session, a.instance_id)
        items.append(
            {
                "id": a.id,
                "full_points": _full_marks(inst),  # what it is graded out of (its rubric's total)
                "student": names.get(a.user_id, "?"),
                "problem": a.problem,
                "created_at": a.created_at,
                "answers": {
                    n: a.answers.get(n, "") for n, p in a.parts.items() if p.get("reason") == "manual"
                },
                # A question whose family changed beyond its stored params is graded by the answer alone
                **(instances.question_and_guide(inst, lang) if inst else {"statement": "", "guide": []}),
            }
        )
    return items, total


def _posed(request: Request, session: Session, instance_id: str) -> Any:
    """The attempt's instance, or None when its family can no longer pose it (a 410 elsewhere):
    one such answer must not take the whole queue, nor a TA's typed grade, with it."""
    try:
        return instances.build(request.app.state.records.fetch(session, instance_id))
    except ServiceError:
        return None


def _full_marks(inst: Any) -> float:
    return instances.full_marks(inst) if inst is not None else 1.0


def _queue_page(
    request: Request,
    session: Session,
    user: User,
    *,
    status: int = 200,
    error: str | None = None,
    form_of: int | None = None,
    form: _AttemptGrade | None = None,
) -> Response:
    lang = page_lang(request, user)
    items, total = waiting(session, request, lang)
    # A TA's score and comment come back in their answer's form; an answer no longer waiting (graded
    # by a colleague, gone) has none, and they are shown beside the message instead (as on an
    # exam's page): never lost.
    in_queue = form is not None and any(i["id"] == form_of for i in items)
    kept = None if in_queue else form
    about = (
        session.execute(
            select(User.name, Attempt.problem)
            .join(User, User.id == Attempt.user_id)
            .where(Attempt.id == form_of)
        ).first()
        if kept is not None
        else None
    )
    return page(
        request,
        "web/grading.html",
        user,
        status=status,
        items=items,
        total=total,
        error=error,
        form_of=form_of,
        form=form if in_queue else None,
        kept_grade=kept,
        kept_about=about,
    )


@router.get("/grading")
def grading_queue(request: Request, session: SessionDep, user: StaffUser) -> Response:
    """Short answers from practice waiting for a TA, each with a score and comment box."""
    return _queue_page(request, session, user)


@router.post("/grading/{attempt_id}")
def grade_attempt(
    request: Request,
    attempt_id: Annotated[int, Path(ge=1, le=2**31 - 1)],  # as the API's: a bigger id was a 500 on SQLite
    session: SessionDep,
    user: StaffUser,
    form: AttemptForm,
) -> Response:
    """Score one practice short answer; back to the queue. A grade given meanwhile is not
    overwritten (a second TA, Back and resend: 409); changing a grade is deliberate, through the API.
    Refused (that, a score that is not one, an expired form, an answer gone), the queue comes back
    with the message and what the TA typed."""
    lang = page_lang(request, user)

    def refused(status: int, error: str) -> Response:
        return _queue_page(request, session, user, status=status, error=error, form_of=attempt_id, form=form)

    # An expired form (a logout in another tab): the grade is not even read, a forged post changes nothing
    if not csrf_valid(request, form.csrf_token):
        return refused(403, FORM_EXPIRED[lang])
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or not attempt.needs_manual:
        return refused(404, NOT_WAITING[lang])
    full = _full_marks(_posed(request, session, attempt.instance_id))
    if attempt.graded_at is not None:
        return refused(409, _graded_already(session, attempt_id, full, lang))
    score = typed_share(form.points, form.score, full, lang)
    if isinstance(score, str):
        return refused(422, score)
    # Claimed in one statement: two TAs (or a double submit) both past the check above, the second
    # finds it taken instead of overwriting the first one's grade.
    claim = update(Attempt).where(Attempt.id == attempt_id, Attempt.graded_at.is_(None))
    if session.execute(claim.values(graded_at=utcnow(), graded_by=user.id)).rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        return refused(409, _graded_already(session, attempt_id, full, lang))
    attempts.grade_manually(
        session, attempt_id=attempt_id, grader=user, score=score, comment=form.comment.replace("\r\n", "\n")
    )
    return RedirectResponse("/grading", status_code=303)


def _graded_already(session: Session, attempt_id: int, full: float, lang: str) -> str:
    score = session.scalar(select(Attempt.manual_score).where(Attempt.id == attempt_id)) or 0.0
    return graded_already(score, full, lang)


def graded_already(score: float, full: float | None, lang: str) -> str:
    """A hand grade found given already (a form left open, a second TA): said in points out of
    `full` (None: as the share it is stored as), nothing changed."""
    given = (
        f"{score:g}"
        if full is None
        else (
            f"{score * full:.4g} 分，满分 {full:g} 分"
            if lang == "zh"
            else f"{score * full:.4g} of {full:g} points"
        )
    )
    return (
        f"这个答案已评分（{given}），未作修改。"
        if lang == "zh"
        else f"This answer was graded already ({given}); nothing changed."
    )
