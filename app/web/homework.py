"""A student's homework and online exams in the browser: the variant's questions, one form per
question, verdicts as the exam allows. The same services as the API (exams.answer_online)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.db import release_connection, utcnow
from app.deps import CurrentUser, SessionDep
from app.models import User
from app.routing import OneTripRoute
from app.services import exams
from app.services.errors import NotFound, ServiceError
from app.web.csrf import csrf_valid
from app.web.i18n import UI, page_lang
from app.web.templating import page

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    user: User,
    exam_id: str,
    *,
    status: int = 200,
    question: int | None = None,
    typed: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    """The student's variant; after a refused submit, what they typed stays in its boxes."""
    view = exams.open_for_student(session, exam=exams.get_exam(session, exam_id), user=user)
    return page(
        request,
        "web/homework.html",
        user,
        status=status,
        canonical=f"/homework/{exam_id}",
        view=view,
        kept_question=question,
        typed=typed or {},
        error=error,
    )


@router.get("/homework/{exam_id}")
def homework(request: Request, exam_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """A homework or online exam as its student sees it (the variant is assigned on first opening)."""
    return _page(request, session, user, exam_id)


@router.post("/homework/{exam_id}/{question}")
async def answer(
    request: Request, exam_id: str, question: int, session: SessionDep, user: CurrentUser
) -> Response:
    """Answer one question. Stored: back to the page (a reload does not send it again). Refused
    (late, already submitted, unreadable in an exam, an expired form): the page with the reason
    and the answers as typed."""
    received = utcnow()
    form = await request.form()
    lang = page_lang(request, user)
    typed = await run_in_threadpool(_typed, session, user, exam_id, question, form)
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return await run_in_threadpool(
            _refused, request, session, user, exam_id, question, typed, 403, UI["form_expired"][lang]
        )
    answers = {name: text for name, text in typed.items() if text.strip()}
    if not answers:
        return await run_in_threadpool(
            _refused, request, session, user, exam_id, question, typed, 422, UI["nothing_typed"][lang]
        )
    try:
        await exams.answer_online(
            session,
            grader=request.app.state.grader,
            exam_id=exam_id,
            user=user,
            question=question,
            answers=answers,
            lang=lang,
            received=received,
        )
    except ServiceError as exc:
        await run_in_threadpool(session.rollback)
        message = f"{UI['not_stored'][lang]}: {exc.message}"
        return await run_in_threadpool(
            _refused, request, session, user, exam_id, question, typed, exc.status, message
        )
    return RedirectResponse(f"/homework/{exam_id}#q{question}", status_code=303)


def _typed(session: Session, user: User, exam_id: str, question: int, form: FormData) -> dict[str, str]:
    """The form's boxes of this question's parts (unknown question: NotFound)."""
    view = exams.open_for_student(session, exam=exams.get_exam(session, exam_id), user=user)
    q = next((q for q in view["questions"] if q["number"] == question), None)
    if q is None:
        raise NotFound(f"no question {question} in {exam_id}")
    release_connection(session)  # held across the awaits that follow, it could deadlock (app/routing.py)
    return {p["name"]: str(form.get(p["name"], ""))[:10_000] for p in q["parts"]}


def _refused(
    request: Request,
    session: Session,
    user: User,
    exam_id: str,
    question: int,
    typed: dict[str, str],
    status: int,
    message: str,
) -> Response:
    return _page(
        request, session, user, exam_id, status=status, question=question, typed=typed, error=message
    )
