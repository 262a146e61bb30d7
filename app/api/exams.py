"""Mock exams: build, print (HTML, PDF, LaTeX), answer keys, submissions (JSON or CSV), grades."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.attempts import Limit, Offset
from app.api.lang import pick_lang
from app.db import release_connection, utcnow
from app.deps import CurrentUser, SessionDep, SettingsDep, StaffUser
from app.models import Exam, ExamSubmission
from app.routing import OneTripRoute
from app.schemas.exams import (
    ExamCreate,
    ExamList,
    ExamPublic,
    ManualPartGrade,
    OnlineAnswer,
    SubmissionCreate,
    SubmissionDetail,
    SubmissionList,
    SubmissionResult,
)
from app.schemas.instances import PreviewResponse, QuestionPreviewRequest
from app.services import exam_render, exams
from app.services.csvtext import decode_upload
from app.services.errors import Invalid

router = APIRouter(route_class=OneTripRoute, tags=["exams"])


def get_exam(session: SessionDep, exam_id: Annotated[str, Path(max_length=64)], staff: StaffUser) -> Exam:
    exam = exams.get_exam(session, exam_id)
    release_connection(session)  # none held between this thread trip and the route's (app/deps.py)
    return exam


ExamDep = Annotated[Exam, Depends(get_exam)]


def get_submission(
    exam: ExamDep,
    session: SessionDep,
    # Bounded like the column: a larger int is an OverflowError in the SQLite driver (a 500), not a 404.
    submission_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> ExamSubmission:
    """A submission of the exam in the path (staff, as the exam); another exam's is a 404."""
    sub = exams.get_submission(session, exam=exam, submission_id=submission_id)
    release_connection(session)
    return sub


SubmissionDep = Annotated[ExamSubmission, Depends(get_submission)]


def _public(exam: Exam) -> dict[str, Any]:
    return {
        "id": exam.id,
        "title": exam.title,
        "lang": exam.lang,
        "kind": exam.kind,
        "variants": [{"code": v.code} for v in exam.variants],
        "questions": len(exam.variants[0].questions) if exam.variants else 0,
        "warnings": exam.warnings or [],
    }


@router.get("/exams", response_model=ExamList)
def exam_list(
    session: SessionDep,
    staff: StaffUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Every exam, newest first, a page at a time (`count`: all of them): a script finds ids here."""
    rows, total = exams.list_exams(session, limit=limit, offset=offset)
    return {"data": rows, "count": total}


@router.post("/exams", status_code=201, response_model=ExamPublic)
def create_exam(body: ExamCreate, session: SessionDep, staff: StaffUser) -> dict[str, Any]:
    """Build an exam: N variants, each with its own instances, seeds derived from one exam seed."""
    exam = exams.create_from_spec(session, body, staff)
    return _public(exam)


@router.get("/exams/{exam_id}", response_model=ExamPublic)
def read_exam(exam: ExamDep) -> dict[str, Any]:
    return _public(exam)


_FILE = re.compile(r"^([A-Za-z0-9]{1,16})\.(pdf|html|tex|json)$")


@router.get("/exams/{exam_id}/variants/{filename}")
def variant_file(
    exam: ExamDep, filename: str, session: SessionDep, settings: SettingsDep, lang: str | None = None
) -> Response:
    """One variant, print-ready: CODE.html, CODE.pdf or CODE.tex; CODE.json: its questions' families,
    instances and part names, what a script needs to write the variant's rows of a class CSV."""
    m = _FILE.match(filename)
    if m is None:
        raise Invalid(
            "filename: CODE.pdf, CODE.html, CODE.tex or CODE.json", field="filename", location="path"
        )
    variant = exams.get_variant(exam, m.group(1))
    if m.group(2) == "json":
        return JSONResponse(exams.variant_map(session, variant))
    return _output(session, settings, exam, [variant], m.group(2), lang, f"{exam.id}-{variant.code}")


# A whole class at once took 138 s for 300 variants (3778 pages): past a proxy's 60 s. A part of
# the bundle is fetched a range at a time; the exam's page links parts of about 50 variants.
VariantRange = Annotated[
    str | None,
    Query(
        max_length=32,
        description="variants N-M (numbers from 1 in printed order, both included) or N: a part of the "
        "bundle; default all",
    ),
]


def _stem(exam: Exam, name: str, variants: str | None, chosen: list[Any]) -> str:
    if variants is None:
        return f"{exam.id}-{name}"
    return f"{exam.id}-{name}-{chosen[0].index + 1}-{chosen[-1].index + 1}"


@router.get("/exams/{exam_id}/bundle.{ext}")
def bundle(
    exam: ExamDep,
    ext: str,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    variants: VariantRange = None,
) -> Response:
    """Every variant in one file, for printing the whole class (double-sided: each variant starts
    on a right-hand page); `?variants=1-50` a part of it."""
    if ext not in ("pdf", "html", "tex"):
        raise Invalid("ext: pdf, html or tex", field="ext", location="path")
    chosen = exam_render.variant_range(exam, variants)
    return _output(session, settings, exam, chosen, ext, lang, _stem(exam, "all", variants, chosen))


@router.get("/exams/{exam_id}/answer-key.{ext}")
def answer_key(
    exam: ExamDep, ext: str, session: SessionDep, lang: str | None = None, variants: VariantRange = None
) -> Response:
    """Every variant's answers and worked solutions; `?variants=1-50` a part of them."""
    if ext not in ("pdf", "html"):
        # A path, not a body: ["path", "ext"] (it said ["body", "ext"]). No .tex: the key's numbers
        # are rounded for reading in its HTML and PDF (docs/api.md).
        raise Invalid("ext: pdf or html (the answer key has no .tex)", field="ext", location="path")
    lang = _lang(lang)
    chosen = exam_render.variant_range(exam, variants)
    if ext == "html":
        return HTMLResponse(exam_render.answer_key_html(session, exam, lang, chosen))
    name = _stem(exam, "answer-key", variants, chosen)
    return _pdf(exam_render.answer_key_pdf(session, exam, lang, chosen), f"{name}.pdf")


def _lang(lang: str | None) -> str | None:
    if lang is not None and lang not in ("zh", "en", "both"):
        raise Invalid("lang: zh, en or both", field="lang", location="query")
    return lang


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _output(
    session: Any, settings: Any, exam: Exam, variants: list[Any], ext: str, lang: str | None, stem: str
) -> Response:
    lang = _lang(lang)
    offset = settings.course_utc_offset_hours  # opening and due times on page 1, on the course's clock
    if ext == "html":
        return HTMLResponse(exam_render.paper_html(session, exam, variants, lang, utc_offset_hours=offset))
    if ext == "tex":
        return PlainTextResponse(
            exam_render.paper_tex(session, exam, variants, lang, utc_offset_hours=offset),
            media_type="application/x-tex; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.tex"'},
        )
    return _pdf(exam_render.paper_pdf(session, exam, variants, lang, utc_offset_hours=offset), f"{stem}.pdf")


def _result(exam: Exam, s: ExamSubmission) -> dict[str, Any]:
    code = next(v.code for v in exam.variants if v.id == s.variant_id)
    return {
        "id": s.id,  # GET .../submissions/{id} reads it back
        "student": s.student,
        "code": code,
        "score": s.score,
        "max_score": s.max_score,
        "late": s.late,
        "pending_manual": s.needs_manual,
        "items": exams.result_items(s),
    }


@router.post(
    "/exams/{exam_id}/submissions",
    response_model=SubmissionResult | list[SubmissionResult],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": SubmissionCreate.model_json_schema()},
                "text/csv": {
                    "schema": {"type": "string", "description": "student,code,question,part,answer"}
                },
            },
            "required": True,
        }
    },
)
async def submit(exam: ExamDep, request: Request, session: SessionDep, user: StaffUser) -> Any:
    """Grade one student's answers (JSON) or a whole class (text/csv: student,code,question,part,answer)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    # Reading and storing block: in threads. The grading pool's part is awaited here with no thread
    # held: a class's worth of slow answers would otherwise hold the worker's request threads.
    is_csv = ctype in ("text/csv", "application/csv")
    fallback = pick_lang(request, None, user)
    checked = await run_in_threadpool(_check_submission, exam, session, is_csv, raw, fallback)
    graded = await exams.grade_in_turn(request.app.state.grader, checked)
    results = await run_in_threadpool(_store, exam, session, checked, graded)
    return results if is_csv else results[0]


def _check_submission(
    exam: Exam, session: Session, is_csv: bool, raw: bytes, fallback_lang: str
) -> exams.CheckedSubmissions:
    if is_csv:
        text = decode_upload(raw, field="csv")  # GB18030 too, as the page's upload: Excel on Chinese Windows
        lang = exams.feedback_lang(exam, None, fallback_lang)
        checked = exams.check_class_csv(session, exam=exam, text=text, lang=lang)
    else:
        try:
            body = SubmissionCreate.model_validate_json(raw.removeprefix(b"\xef\xbb\xbf"))  # as /instances
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from None
        checked = exams.check_submission(
            session,
            exam=exam,
            student=body.student,
            code=body.code,
            answers=body.answers,
            lang=exams.feedback_lang(exam, body.lang, fallback_lang),
        )
    release_connection(session)  # nothing is written before the grading is done
    return checked


def _store(
    exam: Exam, session: Session, checked: exams.CheckedSubmissions, graded: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [_result(exam, s) for s in exams.store_submissions(session, checked, graded)]


@router.get("/exams/{exam_id}/submissions", response_model=SubmissionList)
def submission_list(
    exam: ExamDep,
    session: SessionDep,
    student: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The submission that counts of each student (grades.csv's rows), newest first, a page at a time
    (`count`: all of them); `student=NAME`: that student's alone. A script reads back what it sent."""
    rows, total = exams.list_submissions(
        session, exam=exam, student=student or None, limit=limit, offset=offset
    )
    return {"data": rows, "count": total}


@router.get("/exams/{exam_id}/submissions/{submission_id}", response_model=SubmissionDetail)
def read_submission(exam: ExamDep, sub: SubmissionDep, session: SessionDep) -> dict[str, Any]:
    """One submission in full: the answers as typed, each part's verdict and hand grade, and whether
    another paper of the student (`superseded_by`) counts in its place."""
    return exams.submission_record(session, exam=exam, sub=sub)


@router.get("/exams/{exam_id}/grades.csv")
def grades(
    exam: ExamDep,
    session: SessionDep,
    excel: Annotated[
        bool, Query(description="start with a UTF-8 BOM, so Excel reads Chinese names right")
    ] = False,
) -> Response:
    """One row per student (newest submission): each question's score, total, maximum, late, pending.
    Plain UTF-8 for scripts; `?excel=true` adds the byte-order mark without which Excel on Chinese
    Windows reads the file as GBK and garbles the names."""
    return PlainTextResponse(
        ("\ufeff" if excel else "") + exams.grades_csv(session, exam),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{exam.id}-grades.csv"'},
    )


@router.get("/exams/{exam_id}/stats")
def stats(exam: ExamDep, session: SessionDep) -> dict[str, Any]:
    """Per question mean score, commonest wrong answers and matched misconceptions; per-student totals."""
    return exams.statistics(session, exam)


@router.get("/exams/{exam_id}/mine")
def my_exam(
    exam_id: Annotated[str, Path(max_length=64)], session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    """A student's own variant of a homework or online exam (assigned on first opening)."""
    return exams.open_for_student(session, exam=exams.get_exam(session, exam_id), user=user)


@router.post("/exams/{exam_id}/mine/answers")
async def my_answers(
    exam_id: Annotated[str, Path(max_length=64)],
    body: OnlineAnswer,
    session: SessionDep,
    user: CurrentUser,
    request: Request,
) -> dict[str, Any]:
    """Answer one question online (exam mode: once per part, verdicts hidden until it closes).
    A whole class answers at once in an online exam: the grading pool is awaited with no request
    thread held (like a check)."""
    return await exams.answer_online(
        session,
        grader=request.app.state.grader,
        exam_id=exam_id,
        user=user,
        question=body.question,
        answers=body.answers,
        lang=body.lang,
        received=utcnow(),  # on time or late as it arrived, however long grading and retries take
        fallback_lang=pick_lang(request, None, user),
    )


@router.post("/exams/{exam_id}/mine/preview", response_model=PreviewResponse)
async def my_preview(
    exam_id: Annotated[str, Path(max_length=64)],
    body: QuestionPreviewRequest,
    session: SessionDep,
    user: CurrentUser,
    request: Request,
) -> dict[str, Any]:
    """How an answer to a question of the caller's own variant is read (typeset), or where it fails
    to parse: the practice page's live preview, for homework and exams. Not graded, not stored."""

    def question() -> Any:
        inst = exams.my_question(
            session, exam=exams.get_exam(session, exam_id), user=user, question=body.question
        )
        release_connection(session)
        return inst

    inst = await run_in_threadpool(question)
    result: dict[str, Any] = await request.app.state.grader.preview(
        inst, body.part, body.text, pick_lang(request, body.lang, user)
    )
    return result


@router.get("/exams/{exam_id}/manual")
def manual(exam: ExamDep, session: SessionDep, request: Request, user: StaffUser) -> list[dict[str, Any]]:
    """Short-answer parts of this exam waiting for a TA, each with its question (`statement`) and the
    outline and rubric to grade it by (`guide`, in the caller's language)."""
    return exams.manual_queue(session, exam, pick_lang(request, None, user))


@router.post("/exams/{exam_id}/submissions/{submission_id}/grade")
def grade_part(
    exam: ExamDep,
    submission_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ManualPartGrade,
    session: SessionDep,
) -> dict[str, Any]:
    """Score one hand-graded part of a submission, a share (`score`, 0..1) or `points` out of what
    the part is worth, with a comment; with `if_waiting`, a part graded meanwhile (another TA) is a
    409 and keeps its grade."""
    sub = exams.grade_manual_part(
        session,
        exam=exam,
        submission_id=submission_id,
        question=body.question,
        part=body.part,
        score=body.score,
        points=body.points,
        comment=body.comment,
        if_waiting=body.if_waiting,
    )
    return _result(exam, sub)
