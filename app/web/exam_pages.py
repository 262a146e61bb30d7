"""Instructor and TA pages for exams: the list, the builder, an exam's downloads, class CSV grading and
statistics with server-drawn charts. The pages call the same services as the API."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.db import release_connection
from app.deps import SessionDep, SettingsDep, StaffUser
from app.models import Exam
from app.routing import OneTripRoute
from app.schemas.exams import ExamCreate, ExamItem
from app.services import attempts, exam_render, exams
from app.services.catalogue import list_problems
from app.services.csvtext import decode_upload
from app.services.errors import Conflict, Invalid, NotFound, Said, in_chinese
from app.settings import Settings
from app.web import charts
from app.web.csrf import csrf_valid, verify_csrf
from app.web.grading import FORM_EXPIRED, NOT_WAITING, graded_already, typed_share
from app.web.i18n import UI, page_lang
from app.web.templating import page

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)


class _ManualGrade(BaseModel):
    csrf_token: str = Field(default="", max_length=100)
    submission: int = Field(ge=1, le=2**31 - 1)
    question: int = Field(ge=1, le=60)
    part: str = Field(min_length=1, max_length=64)
    # Read here, with a message a form can show: points out of what the part is worth; a share
    # (`score`, 0..1) from a form rendered before grades were typed in points.
    points: str | None = Field(default=None, max_length=20)
    score: str | None = Field(default=None, max_length=20)
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
    # Each with its kind, language, creation time and number of variants, counted in the query: a
    # mock exam built again under the same title was told apart by nothing (and each row loaded its
    # variants to count them).
    rows, _ = exams.list_exams(session, limit=200, offset=0)
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


class _NotATime(ValueError):
    pass


def _local_time(text: str, offset_hours: float) -> str | None:
    """A datetime-local value ("2026-12-05T14:00") is the course's wall clock: make it UTC."""
    if not text.strip():
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _NotATime(text) from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    return naive.astimezone(UTC).isoformat()


# Each field of the spec as the builder shows it, to name an error where the TA sees it: an item's
# by its row (the form's "#", 第 N 题) and column, the others by their label.
_FIELDS = {
    "title": {"zh": "标题", "en": "Title"},
    "kind": {"zh": "类型", "en": "Kind"},
    "lang": {"zh": "语言", "en": "Language"},
    "variants": {"zh": "套数", "en": "Variants"},
    "seed": {"zh": "随机种子", "en": "Seed"},
    "opens_at": {"zh": "开放时间", "en": "Opens"},
    "due_at": {"zh": "截止时间", "en": "Due"},
    "time_limit_minutes": {"zh": "限时", "en": "Time limit"},
    "items": {"zh": "题目", "en": "Questions"},
}
_COLUMNS = {
    "problem": {"zh": "题型或标签", "en": "family or tag"},
    "tag": {"zh": "题型或标签", "en": "family or tag"},
    "count": {"zh": "数量", "en": "count"},
    "difficulty": {"zh": "难度", "en": "difficulty"},
    "concepts": {"zh": "标签选项", "en": "tag options"},
    "auto_only": {"zh": "标签选项", "en": "tag options"},
    "points": {"zh": "分值", "en": "points"},
    "params": {"zh": "固定参数", "en": "fixed params"},
}

# json's words for params that cannot be read, said to the TA in the page's language (its English,
# with a position counted in lines and columns, followed the Chinese row name).
_JSON_WHY = [
    (
        "Expecting property name enclosed in double quotes",
        "键名要放在双引号里",
        "a key must be in double quotes",
    ),
    ("Expecting value", "此处应是一个值", "a value is expected here"),
    ("Expecting ',' delimiter", "缺少逗号", "a comma is missing"),
    ("Expecting ':' delimiter", "缺少冒号", "a colon is missing"),
    ("Unterminated string", "字符串缺少结尾的双引号", "a string is not closed"),
    ("Extra data", "值的后面还有多余的内容", "something follows the value"),
    ("Invalid control character", "字符串里有控制字符", "a control character is inside a string"),
    ("Invalid \\", "无效的转义", "an invalid escape"),
    ("Illegal trailing comma", "末尾多了逗号", "a trailing comma"),
]


def _json_said(exc: json.JSONDecodeError) -> Said:
    why = next(((zh, en) for start, zh, en in _JSON_WHY if exc.msg.startswith(start)), None)
    at = exc.pos + 1
    if why is None:
        return {"zh": f"不是合法的 JSON（第 {at} 个字符处）", "en": f"not valid JSON (at character {at})"}
    return {
        "zh": f"不是合法的 JSON，第 {at} 个字符处{why[0]}",
        "en": f"not valid JSON, {why[1]} (at character {at})",
    }


def _where(loc: tuple[str | int, ...], rows: list[int], lang: str) -> str:
    """A spec's location as the builder shows it: `items.5.params.num_classes` is 第 6 题的固定参数
    （num_classes） (items skip the empty rows: the index was neither the row nor counted from 1)."""
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        i = loc[1]
        row = rows[i] + 1 if i < len(rows) else i + 1
        field = str(loc[2]) if len(loc) > 2 else ""
        column = _COLUMNS.get(field, {"zh": field, "en": field})[lang] if field else ""
        inner = ".".join(str(x) for x in loc[3:]) if field == "params" else ""  # a param's name
        if lang == "zh":
            return f"第 {row} 题" + (f"的{column}" if column else "") + (f"（{inner}）" if inner else "")
        return f"Question {row}" + (f", {column}" if column else "") + (f" ({inner})" if inner else "")
    named = _FIELDS.get(str(loc[0]), {}) if loc else {}
    return named.get(lang, ".".join(str(x) for x in loc))


def _line(loc: tuple[str | int, ...], said: Said, rows: list[int], lang: str) -> str:
    where = _where(loc, rows, lang)
    if not where:
        return said[lang]
    return f"{where}：{said[lang]}" if lang == "zh" else f"{where}: {said[lang]}"


def _schema_errors(exc: ValidationError) -> list[tuple[tuple[str | int, ...], Said]]:
    """pydantic's errors, each where it is and in both languages: a check of our own carries its
    field and words (ctx), pydantic's stock messages are translated."""
    found: list[tuple[tuple[str | int, ...], Said]] = []
    for e in exc.errors(include_url=False):
        loc, ctx = tuple(e["loc"]), e.get("ctx") or {}
        if isinstance(ctx.get("zh"), str) and isinstance(ctx.get("field"), str):
            if not loc or loc[-1] != ctx["field"]:  # a check across an item's fields names its field
                loc = (*loc, ctx["field"])
            found.append((loc, {"zh": ctx["zh"], "en": ctx["en"]}))
        else:
            en = e["msg"].removeprefix("Value error, ")
            found.append((loc, {"zh": in_chinese(en), "en": en}))
    return found


def _exam_body(
    form: dict[str, str], offset_hours: float
) -> tuple[dict[str, Any], list[tuple[tuple[str | int, ...], Said]], list[int]]:
    """The API's ExamCreate body from the builder's fields, the errors found reading them (where, and
    what in both languages), and the form row of each item."""
    errors: list[tuple[tuple[str | int, ...], Said]] = []
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
                except json.JSONDecodeError as exc:  # the row is still checked, as if it had none
                    errors.append((("items", len(items), "params"), _json_said(exc)))
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
        except _NotATime:
            text = repr(form[key].strip())
            said = {
                "zh": f"{text} 不是日期和时间（应为 YYYY-MM-DDTHH:MM）",
                "en": f"{text} is not a date and time (YYYY-MM-DDTHH:MM)",
            }
            errors.append(((key,), said))
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
    lang = page_lang(request, user)

    def refused(found: list[tuple[tuple[str | int, ...], Said]]) -> Response:
        # the exam's fields first, then row by row as on the form
        found = sorted(
            found, key=lambda e: (1, e[0][1]) if e[0][:1] == ("items",) and len(e[0]) > 1 else (0, 0)
        )
        lines = [_line(loc, said, rows, lang) for loc, said in found]
        return _builder(request, user, settings, form, lines, status=422)

    # Every error at once, each in the page's language, where the TA sees it: a row's bad JSON,
    # the schema's errors, and what the service finds in each row the schema takes (its params
    # checked by the family, its tag's families) — one row's error no longer hid the others'.
    spec: ExamCreate | None = None
    try:
        spec = ExamCreate.model_validate(body)
    except ValidationError as exc:
        unread = {loc for loc, _ in errors}  # a time that could not be read is not also missing
        errors += [(loc, said) for loc, said in _schema_errors(exc) if loc not in unread]
    for i, item in enumerate(body["items"]):
        try:  # a row with bad JSON is checked as if it had no params
            checked = ExamItem.model_validate(item).model_dump(exclude_none=True)
        except ValidationError:
            continue  # the schema's errors of the row are listed already
        errors += [(e.loc, e.said) for e in exams.item_errors(i, checked)]
    if errors or spec is None:
        return refused(errors)
    try:
        exam = exams.create_from_spec(session, spec, user)
    except exams.SpecInvalid as exc:
        session.rollback()
        return refused([(e.loc, e.said) for e in exc.errors])
    except Invalid as exc:
        session.rollback()
        return _builder(request, user, settings, form, exc.lines(lang), status=422)
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
    # Over the papers graded in full; a question's answers waiting for a TA are said beside its bar
    # (they drew a 1% bar as zeros), and one with none graded yet has no percentage at all.
    waiting = "{n} 份待评" if lang == "zh" else "{n} pending"
    chart = charts.bar_chart(
        [
            (
                f"Q{q['question']}" + (" · " + waiting.format(n=q["pending"]) if q["pending"] else ""),
                q["mean_score"] / q["points"] if q["mean_score"] is not None else None,
            )
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
        # A large class's bundle in parts: one request of the whole took minutes (past a proxy's timeout).
        parts=exam_render.parts(len(exam.variants)) if len(exam.variants) > exam_render.PART_SIZE else [],
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
    try:
        worth = exams.hand_graded_worth(
            session, exam=exam, submission_id=form.submission, question=form.question, part=form.part
        )
    except NotFound:  # no such paper in this exam
        return refused(404, NOT_WAITING[lang])
    except Invalid:  # a paper, but no such part of it graded by hand
        return refused(422, NOT_WAITING[lang])
    # The TA's points (or a share, from a form older than points) come back in that answer's form,
    # with the message, when they are not a grade.
    score = typed_share(form.points, form.score, worth, lang)
    if isinstance(score, str):
        return refused(422, score)
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
        return refused(409, graded_already(exc.score, exc.worth, lang))
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
