"""Instructor and TA pages for exams: the list, the builder, an exam's downloads, class CSV grading and
statistics with server-drawn charts. The pages call the same services as the API."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.db import release_connection
from app.deps import SessionDep, SettingsDep, StaffUser
from app.models import Exam
from app.routing import OneTripRoute
from app.schemas.exams import ExamCreate
from app.services import attempts, exams
from app.services.catalogue import list_problems
from app.services.csvtext import decode_upload
from app.services.errors import Conflict, Invalid, NotFound
from app.settings import Settings
from app.web import charts
from app.web.csrf import csrf_valid, verify_csrf
from app.web.grading import FORM_EXPIRED, NOT_WAITING, SCORE_HELP, graded_already, read_score
from app.web.i18n import UI, page_lang
from app.web.templating import page

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)


class _ManualGrade(BaseModel):
    csrf_token: str = Field(default="", max_length=100)
    submission: int = Field(ge=1, le=2**31 - 1)
    question: int = Field(ge=1, le=60)
    part: str = Field(min_length=1, max_length=64)
    score: str = Field(max_length=20)  # read here, with a message a form can show
    comment: str = Field(
        default="", max_length=10_000
    )  # a browser sends 5000 characters' line breaks as CRLF


ManualForm = Annotated[_ManualGrade, Form()]

ITEM_ROWS = 10  # item rows of the builder form; an empty row is ignored
MAX_CSV_BYTES = 1_000_000
CSV_TOO_LARGE = {
    "zh": "CSV 超过 1 MB，没有批改；请分成几个文件上传。",
    "en": "The CSV is over 1 MB: nothing was graded; split it into smaller files.",
}


@router.get("/exams")
def exam_list(request: Request, session: SessionDep, user: StaffUser) -> Response:
    rows = list(session.scalars(select(Exam).order_by(Exam.created_at.desc()).limit(200)))
    waiting = attempts.list_attempts(session, ungraded=True, limit=0)[1]  # practice short answers
    return page(request, "web/exams.html", user, exams=rows, waiting=waiting)


def _builder(
    request: Request, user: Any, settings: Any, form: dict[str, str], errors: list[str], status: int = 200
) -> Response:
    lang = page_lang(request, user)
    fams = [f for f in list_problems() if f["id"] != "custom.answer"]
    tags = sorted({t for f in fams for t in f["tags"]})
    return page(
        request,
        "web/exam_new.html",
        user,
        status=status,
        families=[(f["id"], f["title"][lang]) for f in fams],
        tags=tags,
        rows=range(ITEM_ROWS),
        form=form,
        errors=errors,
        utc_offset=settings.course_utc_offset_hours,
    )


@router.get("/exams/new")
def exam_new(request: Request, user: StaffUser, settings: SettingsDep) -> Response:
    form = {
        "title": "",
        "kind": "paper",
        "lang": "both",
        "variants": "3",
        "seed": str(secrets.randbelow(10**6)),
        # On for a paper made here: variants a class sits side by side should be equally hard. The
        # API's default stays off, so a spec written before the option builds the same exam.
        "same_form": "on",
    }
    form |= {"item0.source": "", "item0.points": "1"}
    return _builder(request, user, settings, form, [])


def _local_time(text: str, offset_hours: float) -> str | None:
    """A datetime-local value ("2026-12-05T14:00") is the course's wall clock: make it UTC."""
    if not text.strip():
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)", field="time") from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    return naive.astimezone(UTC).isoformat()


# The builder's column of each item field, to name a row's error as the form shows it.
_COLUMNS = {
    "problem": ("题型或标签", "Family or tag"),
    "tag": ("题型或标签", "Family or tag"),
    "count": ("数量", "Count"),
    "difficulty": ("难度", "Difficulty"),
    "concepts": ("标签选项", "Tag options"),
    "auto_only": ("标签选项", "Tag options"),
    "points": ("分值", "Points"),
    "params": ("固定参数", "Fixed params"),
}


def _in_rows(message: str, rows: list[int], zh: bool) -> str:
    """An error about `items.N.field` named by the form's row and column: items skip the empty
    rows, so the API's index was neither the row number nor counted from 1 (`items.5.count` for
    row 6, in English on a Chinese page)."""

    def name(m: re.Match[str]) -> str:
        i = int(m.group(1))
        row = rows[i] + 1 if i < len(rows) else i + 1
        field, _, rest = (m.group(2) or "").partition(".")
        column = _COLUMNS.get(field, (field, field))[0 if zh else 1]
        where = f"第 {row} 行" if zh else f"row {row}"
        return " ".join(x for x in (where, column if field else "", rest) if x)

    named = re.sub(r"items\.(\d+)(?:\.([\w.]+))?", name, message)
    return _in_chinese(named) if zh else named


# pydantic's words for the errors the builder's fields can have, said in Chinese on a zh page (its
# rows' names were Chinese, the rest English: "第 2 行 固定参数 num_classes: Input should be ...").
_ZH_WORDS = [
    (r"Value error, ", ""),
    (r"Input should be greater than or equal to (\S+)", r"应不小于 \1"),
    (r"Input should be less than or equal to (\S+)", r"应不大于 \1"),
    (r"Input should be greater than (\S+)", r"应大于 \1"),
    (r"Input should be less than (\S+)", r"应小于 \1"),
    (r"Input should be a valid integer[^;]*", "应是整数"),
    (r"Input should be a valid number[^;]*", "应是数"),
    (r"Input should be a valid datetime[^;]*", "应是日期时间"),
    (r"String should have at least (\d+) characters?", r"至少 \1 个字符"),
    (r"String should have at most (\d+) characters?", r"最多 \1 个字符"),
    (r"List should have at least (\d+) items?[^;]*", r"至少 \1 项"),
    (r"Field required", "必填"),
    (r"Input should be ([^;]+)", r"应是 \1"),
    (r"not JSON \(", "不是合法的 JSON（"),
    (r"is not a date and time", "不是日期时间"),
]


def _in_chinese(message: str) -> str:
    for english, chinese in _ZH_WORDS:
        message = re.sub(english, chinese, message)
    return message


def _exam_body(form: dict[str, str], offset_hours: float) -> tuple[dict[str, Any], list[str], list[int]]:
    """The API's ExamCreate body from the builder's fields, the errors found reading them, and the
    form row of each item."""
    errors: list[str] = []
    items: list[dict[str, Any]] = []
    rows: list[int] = []
    for n in range(ITEM_ROWS):
        source = form.get(f"item{n}.source", "").strip()
        if not source:
            continue
        item: dict[str, Any] = {}
        if source.startswith("tag:"):
            item["tag"] = source[4:]
            if form.get(f"item{n}.count", "").strip():
                item["count"] = form[f"item{n}.count"].strip()
            lo, hi = form.get(f"item{n}.low", "").strip(), form.get(f"item{n}.high", "").strip()
            if lo or hi:
                item["difficulty"] = [lo or "1", hi or "3"]
            for flag in ("concepts", "auto_only"):  # a checkbox: sent only when ticked
                if form.get(f"item{n}.{flag}"):
                    item[flag] = True
        else:
            item["problem"] = source
            raw = form.get(f"item{n}.params", "").strip()
            if raw:
                try:
                    item["params"] = json.loads(raw)
                except ValueError as exc:
                    errors.append(f"items.{len(items)}.params: not JSON ({exc})")
        if form.get(f"item{n}.points", "").strip():
            item["points"] = form[f"item{n}.points"].strip()
        items.append(item)
        rows.append(n)
    body: dict[str, Any] = {"title": form.get("title", ""), "items": items}
    for key in ("kind", "lang", "variants", "seed", "time_limit_minutes"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    body["same_form"] = bool(form.get("same_form"))  # a checkbox: sent only when ticked
    for key in ("opens_at", "due_at"):
        try:
            if (when := _local_time(form.get(key, ""), offset_hours)) is not None:
                body[key] = when
        except Invalid as exc:
            errors.append(f"{key}: {exc.message}")
    return body, errors, rows


def _form_dict(form: FormData) -> dict[str, str]:
    return {k: v[:20_000] for k, v in form.items() if isinstance(v, str)}


@router.post("/exams/new")
async def exam_create(
    request: Request, session: SessionDep, user: StaffUser, settings: SettingsDep
) -> Response:
    """Build an exam from the form; on any error the page comes back with every field as typed."""
    form = _form_dict(await request.form())
    # Posing every variant's instances and storing them blocks: off the event loop.
    return await run_in_threadpool(_create_from_form, request, session, user, settings, form)


def _create_from_form(
    request: Request, session: Session, user: Any, settings: Settings, form: dict[str, str]
) -> Response:
    verify_csrf(request, form.get("csrf_token"))
    body, errors, rows = _exam_body(form, settings.course_utc_offset_hours)
    zh = page_lang(request, user) == "zh"
    # Every error at once: a row's bad JSON no longer hid the other rows' errors until a resubmit.
    try:
        spec = ExamCreate.model_validate(body)
    except ValidationError as exc:
        errors += [
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors(include_url=False)
        ]
    if errors:
        return _builder(request, user, settings, form, [_in_rows(e, rows, zh) for e in errors], status=422)
    try:
        exam = exams.create_from_spec(session, spec, user)
    except Invalid as exc:
        session.rollback()
        return _builder(request, user, settings, form, [_in_rows(exc.message, rows, zh)], status=422)
    return RedirectResponse(f"/exams/{exam.id}", status_code=303)


def _exam_page(
    request: Request,
    session: SessionDep,
    user: Any,
    exam: Exam,
    *,
    status: int = 200,
    csv_text: str = "",
    csv_errors: list[str] | None = None,
    graded: int | None = None,
    grade_error: str | None = None,
    grade_form: _ManualGrade | None = None,
) -> Response:
    lang = page_lang(request, user)
    st = exams.statistics(session, exam)
    queue = exams.manual_queue(session, exam, lang)
    # A TA's score and comment come back in their answer's form; an answer no longer waiting (graded
    # by a colleague) has none, and they are shown beside the message instead: never lost.
    in_queue = grade_form is not None and any(
        (i["submission"], i["question"], i["part"])
        == (grade_form.submission, grade_form.question, grade_form.part)
        for i in queue
    )
    chart = charts.bar_chart(
        [
            (f"Q{q['question']}", q["mean_score"] / q["points"] if q["mean_score"] is not None else 0.0)
            for q in st["questions"]
        ],
        title="各题平均得分率" if lang == "zh" else "mean score per question",
    )
    return page(
        request,
        "web/exam_stats.html",
        user,
        status=status,
        exam=exam,
        st=st,
        chart=chart,
        csv_text=csv_text,
        csv_errors=csv_errors or [],
        graded=graded,
        queue=queue,
        grade_error=grade_error,
        grade_form=grade_form if in_queue else None,
        kept_grade=None if in_queue else grade_form,
    )


@router.get("/exams/{exam_id}")
def exam_stats(request: Request, exam_id: str, session: SessionDep, user: StaffUser) -> Response:
    return _exam_page(request, session, user, exams.get_exam(session, exam_id))


@router.post("/exams/{exam_id}/manual")
def exam_grade_part(
    request: Request, exam_id: str, session: SessionDep, user: StaffUser, form: ManualForm
) -> Response:
    """A TA scores one short answer from the page (the API's grade_manual_part); back to the queue.
    A grade given meanwhile (a second TA at the same moment, a form left open, Back and resend) is
    not overwritten: 409, and what this TA typed comes back with the message. Changing a given
    grade is deliberate, through the API. Every refusal (an expired form, an answer gone or not
    graded by hand too) brings the page back with the message and what was typed, as /grading does."""
    exam = exams.get_exam(session, exam_id)
    lang = page_lang(request, user)

    def refused(status: int, error: str) -> Response:
        return _exam_page(request, session, user, exam, status=status, grade_error=error, grade_form=form)

    if not csrf_valid(request, form.csrf_token):  # not even read: a forged post changes nothing
        return refused(403, FORM_EXPIRED[lang])
    score = read_score(form.score)
    if score is None:  # the TA's score and comment come back in that answer's form, with the message
        return refused(422, SCORE_HELP[lang])
    try:
        exams.grade_manual_part(
            session,
            exam=exam,
            submission_id=form.submission,
            question=form.question,
            part=form.part,
            score=score,
            comment=form.comment.replace("\r\n", "\n"),
            if_waiting=True,
        )
    except exams.GradedAlready as exc:
        return refused(409, graded_already(exc.score, lang))
    except exams.Superseded as exc:  # a correction replaced this answer meanwhile: grade the new one
        return refused(409, " ".join(exc.lines(lang)))
    except NotFound:  # no such paper in this exam
        return refused(404, NOT_WAITING[lang])
    except Invalid:  # a paper, but no such part of it graded by hand
        return refused(422, NOT_WAITING[lang])
    return RedirectResponse(f"/exams/{exam_id}#manual", status_code=303)


@router.post("/exams/{exam_id}/submissions")
async def exam_grade_csv(
    request: Request, exam_id: str, session: SessionDep, user: StaffUser, settings: SettingsDep
) -> Response:
    """Grade a whole class from a CSV file or pasted text: every row or none, errors line by line, in
    the page's language, and the text comes back with them to be fixed."""
    # Up to the body's own limit: pasted text over Starlette's 1 MiB a field was a bare 400, and lost.
    form = await request.form(max_part_size=settings.max_body_bytes)
    upload = form.get("csv_file")
    uploaded = (
        await upload.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) and upload.filename else None
    )
    # A class's worth of grading takes seconds. The reading and storing run in threads (on the
    # event loop they stalled every student); the pool's part is awaited with no thread held.
    checked = await run_in_threadpool(_check_class, request, exam_id, session, user, form, uploaded)
    if isinstance(checked, Response):
        return checked
    graded = await exams.grade_in_turn(request.app.state.grader, checked[0])
    return await run_in_threadpool(_store_class, request, session, user, *checked, graded)


def _check_class(
    request: Request, exam_id: str, session: Session, user: Any, form: FormData, uploaded: bytes | None
) -> tuple[exams.CheckedSubmissions, str] | Response:
    """The class's rows checked (and the text, to give back if storing is refused), or the page
    with the rows to fix."""
    exam = exams.get_exam(session, exam_id)
    lang = page_lang(request, user)
    text = str(form.get("csv_text", ""))
    if not csrf_valid(request, str(form.get("csrf_token", ""))):  # logged out in another tab: text kept
        return _exam_page(
            request, session, user, exam, status=403, csv_text=text, csv_errors=[UI["form_expired"][lang]]
        )
    if len(uploaded or b"") > MAX_CSV_BYTES or len(text.encode()) > MAX_CSV_BYTES:  # was cut short, graded
        return _exam_page(
            request, session, user, exam, status=422, csv_text=text, csv_errors=[CSV_TOO_LARGE[lang]]
        )
    try:
        if uploaded is not None:
            text = decode_upload(uploaded, field="csv")
        feedback = exams.feedback_lang(exam, None, lang)  # the students read it
        checked = exams.check_class_csv(session, exam=exam, text=text, lang=feedback)
    except Invalid as exc:
        session.rollback()
        errors = exc.lines(lang)
        return _exam_page(request, session, user, exam, status=422, csv_text=text, csv_errors=errors)
    release_connection(session)  # nothing is written before the grading is done
    return checked, text


def _store_class(
    request: Request,
    session: Session,
    user: Any,
    checked: exams.CheckedSubmissions,
    text: str,
    graded: list[dict[str, Any]],
) -> Response:
    try:
        subs = exams.store_submissions(session, checked, graded)
    except Conflict as exc:  # a student's answers changed meanwhile: the text comes back to send again
        session.rollback()
        errors = exc.lines(page_lang(request, user))
        return _exam_page(request, session, user, checked.exam, status=409, csv_text=text, csv_errors=errors)
    return _exam_page(request, session, user, checked.exam, graded=len(subs))
