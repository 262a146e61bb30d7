"""Instructor and TA pages for exams: the list, and an exam's statistics with server-drawn charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.deps import SessionDep, StaffUser
from app.models import Exam
from app.services import exams
from app.web import charts
from app.web.templating import page

router = APIRouter(include_in_schema=False)


@router.get("/exams")
def exam_list(request: Request, session: SessionDep, user: StaffUser) -> Response:
    rows = list(session.scalars(select(Exam).order_by(Exam.created_at.desc()).limit(200)))
    return page(request, "web/exams.html", user, exams=rows)


@router.get("/exams/{exam_id}")
def exam_stats(request: Request, exam_id: str, session: SessionDep, user: StaffUser) -> Response:
    exam = exams.get_exam(session, exam_id)
    st = exams.statistics(session, exam)
    chart = charts.bar_chart(
        [
            (f"Q{q['question']}", q["mean_score"] / q["points"] if q["mean_score"] is not None else 0.0)
            for q in st["questions"]
        ],
        title="mean score per question",
    )
    return page(request, "web/exam_stats.html", user, exam=exam, st=st, chart=chart)
