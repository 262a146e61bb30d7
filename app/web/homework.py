"""A student's homework and online exams in the browser: the variant's questions, one form per
question, verdicts as the exam allows. The same services as the API (exams.answer_online)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.db import release_connection, utcnow
from app.deps import CurrentUser, OptionalUser, SessionDep
from app.models import User
from app.routing import OneTripRoute
from app.schemas.common import MAX_ANSWER_CHARS
from app.services import exams
from app.services.errors import NotFound, ServiceError
from app.web.csrf import csrf_valid, verify_csrf
from app.web.i18n import UI, page_lang
from app.web.templating import course_time, page

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
    part_errors: dict[str, str] | None = None,
    view: dict[str, Any] | None = None,
) -> Response:
    """The student's variant (`view`, when read already); after a refused submit, what they typed
    stays in its boxes."""
    if view is None:
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
        part_errors=part_errors or {},
        now_iso=utcnow().isoformat(),  # the countdown counts on the server's clock, not the phone's
    )


@router.get("/homework/{exam_id}")
def homework(request: Request, exam_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """A homework or online exam as its student sees it (the variant is assigned on first opening).
    A timed exam first says how long it lasts, and starts when the student says so; staff see
    the exam's own page (opening this one gave a TA a variant and a clock)."""
    exam = exams.get_exam(session, exam_id)
    if user.is_staff:
        return RedirectResponse(f"/exams/{exam_id}", status_code=303)
    lang = page_lang(request, user)
    if exams.opens_later(exam):
        message = UI["opens_at"][lang].format(when=course_time(request)(exam.opens_at))
        return page(
            request, "web/homework_start.html", user, status=403, exam=exam, message=message, start=False
        )
    if exam.kind != "paper" and exam.time_limit_minutes and not exams.has_started(session, exam, user):
        return page(request, "web/homework_start.html", user, exam=exam, message=None, start=True)
    return _page(request, session, user, exam_id)


@router.post("/homework/{exam_id}/start")
def start(
    request: Request, exam_id: str, session: SessionDep, user: CurrentUser, csrf_token: str = Form("")
) -> Response:
    """Start a timed exam: the variant is assigned and the clock runs from now."""
    verify_csrf(request, csrf_token)
    exam = exams.get_exam(session, exam_id)
    if user.is_staff:  # no variant and no clock for staff: the exam's own page
        return RedirectResponse(f"/exams/{exam_id}", status_code=303)
    try:
        exams.open_for_student(session, exam=exam, user=user)
    except exams.NotYetOpen:  # a Start page left open while the opening moved later: it says when
        pass
    return RedirectResponse(f"/homework/{exam_id}", status_code=303)


@router.post("/homework/{exam_id}/{question}")
async def answer(
    request: Request,
    exam_id: str,
    question: Annotated[int, Path(ge=1, le=60)],  # an exam has at most 60 questions
    session: SessionDep,
    user: OptionalUser,
) -> Response:
    """Answer one question. Stored: back to the page (a reload does not send it again). Refused
    (late, already submitted, unreadable in an exam, too long): the page with the reason and the
    answers as typed. Logged out or an expired form: not read, nothing written (see _not_read)."""
    received = utcnow()
    form = await request.form()
    lang = page_lang(request, user)
    if user is not None and user.is_staff:  # staff answer nothing here (no variant, no clock)
        return RedirectResponse(f"/exams/{exam_id}", status_code=303)
    if user is None or not csrf_valid(request, str(form.get("csrf_token", ""))):
        return await run_in_threadpool(_not_read, request, session, user, exam_id, question, form)
    typed, labels = await run_in_threadpool(_typed, session, user, exam_id, question, form)
    answers = {name: text for name, text in typed.items() if text.strip()}
    refusal: tuple[int, str] | None = None
    part_errors: dict[str, str] = {}
    if any(len(text) > MAX_ANSWER_CHARS for text in typed.values()):
        refusal = (422, UI["answer_too_long"][lang].format(n=MAX_ANSWER_CHARS))
    elif not answers:
        refusal = (422, UI["nothing_typed"][lang])
    else:

        async def send(answers: dict[str, str]) -> None:
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

        taken_note = ""
        try:
            try:
                await send(answers)
            except exams.AlreadySubmitted as exc:
                # Taken meanwhile (another tab): that part keeps what was taken, the others are
                # sent on their own (the whole answer was refused, the new parts with it).
                await run_in_threadpool(session.rollback)
                rest = {k: v for k, v in answers.items() if k not in exc.parts}
                taken = "、".join(
                    f"{_plain_label(labels, name, lang)}（{answers[name]}）" for name in exc.parts
                )
                taken_note = UI["taken_elsewhere"][lang].format(n=question, parts=taken)
                refusal = (exc.status, taken_note + (UI["rest_stored"][lang] if rest else ""))
                if rest:
                    await send(rest)
            if refusal is None:
                return RedirectResponse(f"/homework/{exam_id}#q{question}", status_code=303)
        except exams.TooLate as exc:  # kept, marked late: not "not stored"
            await run_in_threadpool(session.rollback)
            refusal = (exc.status, UI["too_late"][lang].format(deadline=course_time(request)(exc.deadline)))
        except exams.Unreadable as exc:  # each reading error goes under its own box
            await run_in_threadpool(session.rollback)
            refusal, part_errors = (exc.status, taken_note + UI["unreadable"][lang]), exc.parts
        except ServiceError as exc:
            await run_in_threadpool(session.rollback)
            refusal = (exc.status, f"{taken_note}{UI['not_stored'][lang]}: {'; '.join(exc.lines(lang))}")
    status, message = refusal
    return await run_in_threadpool(
        _page,
        request,
        session,
        user,
        exam_id,
        status=status,
        question=question,
        typed=typed,
        error=message,
        part_errors=part_errors,
    )


def _not_read(
    request: Request, session: Session, user: User | None, exam_id: str, question: int, form: FormData
) -> Response:
    """A post logged out or with an expired form: not graded, nothing stored, and no variant given
    out (a forged post must not even open, and so start the clock of, a timed exam). A student with
    the exam open gets its page back, the answers in the question's boxes and a fresh token: one
    press sends them (the page said "submit again" and had no button). Otherwise the answers are
    shown to copy, each named by its question and part label as the page showed them, and the
    message says what to do."""
    lang = page_lang(request, user)
    try:
        exam = exams.get_exam(session, exam_id)
    except NotFound:
        exam = None
    if user is not None and exam is not None and exams.has_started(session, exam, user):
        try:
            view = exams.open_for_student(session, exam=exam, user=user)
        except (NotFound, exams.NotYetOpen):  # a paper; an opening moved later since
            view = None
        q = next((q for q in view["questions"] if q["number"] == question), None) if view else None
        if view is not None and q is not None and not view["closed"] and not _takes(view, q, form):
            typed = {
                p["name"]: str(form.get(p["name"])) for p in q["parts"] if form.get(p["name"]) is not None
            }
            return _page(
                request,
                session,
                user,
                exam_id,
                status=403,
                question=question,
                typed=typed,
                error=UI["form_expired"][lang],
                view=view,
            )
    sent = {k: v for k, v in form.multi_items() if k != "csrf_token" and isinstance(v, str)}
    return page(
        request,
        "web/homework_kept.html",
        user,
        status=401 if user is None else 403,
        canonical=f"/homework/{exam_id}",
        exam_id=exam_id,
        sent=sent,
        question=question,
        labels=exams.part_labels(session, exam=exam, number=question, user=user) if exam else {},
        message=UI["logged_out" if user is None else "form_expired_copy"][lang],
    )


def _takes(view: dict[str, Any], q: dict[str, Any], form: FormData) -> bool:
    """Does the form hold text for a part the exam has taken (another tab sent it)? Its box shows
    what was taken: the text is shown to copy instead."""
    return view["kind"] == "exam" and any(str(form.get(name) or "").strip() for name in q["submitted"])


def _plain_label(labels: dict[str, dict[str, str]], name: str, lang: str) -> str:
    """A part's label for a plain-text message; the part's name where the label holds math."""
    label = labels.get(name, {}).get(lang, "")
    return label if label and "$" not in label else name


def _typed(
    session: Session, user: User, exam_id: str, question: int, form: FormData
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The form's boxes of this question's open parts (unknown question: NotFound), and each part's
    label. A part an exam has taken already is disabled on the page and not sent: it is left out,
    not blanked."""
    view = exams.open_for_student(session, exam=exams.get_exam(session, exam_id), user=user)
    q = next((q for q in view["questions"] if q["number"] == question), None)
    if q is None:
        raise NotFound(f"no question {question} in {exam_id}")
    release_connection(session)  # held across the awaits that follow, it could deadlock (app/routing.py)
    typed = {p["name"]: str(form.get(p["name"])) for p in q["parts"] if form.get(p["name"]) is not None}
    return typed, {p["name"]: p["label"] for p in q["parts"]}
