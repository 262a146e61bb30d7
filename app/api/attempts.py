"""Recorded attempts: the caller's own, any user's (staff), and manual grading of short answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.deps import CurrentUser, SessionDep, StaffUser
from app.routing import OneTripRoute
from app.schemas.attempts import AttemptList, AttemptPublic, ManualGrade
from app.services import attempts, users

router = APIRouter(route_class=OneTripRoute, tags=["attempts"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]  # bounded: SQLite integers are 64-bit


@router.get("/me/attempts", response_model=AttemptList)
def my_attempts(
    session: SessionDep,
    user: CurrentUser,
    problem: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The caller's attempts, newest first."""
    rows, total = attempts.list_attempts(session, user=user, problem=problem, limit=limit, offset=offset)
    return {"data": [attempts.attempt_json(a) for a in rows], "count": total}


@router.get("/attempts", response_model=AttemptList)
def all_attempts(
    session: SessionDep,
    staff: StaffUser,
    user: Annotated[str | None, Query(max_length=64)] = None,
    problem: Annotated[str | None, Query(max_length=64)] = None,
    ungraded: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Any user's attempts (ta/instructor); `ungraded=true` lists short answers waiting for a TA."""
    who = users.get_user_by_name(session, user) if user else None
    rows, total = attempts.list_attempts(
        session, user=who, problem=problem, ungraded=ungraded, limit=limit, offset=offset
    )
    names = users.names_by_id(session, {a.user_id for a in rows})
    return {
        "data": [{**attempts.attempt_json(a), "user": names.get(a.user_id)} for a in rows],
        "count": total,
    }


@router.post("/attempts/{attempt_id}/grade", response_model=AttemptPublic)
def grade_attempt(
    # Bounded like the column: a larger int is an OverflowError in the SQLite driver (a 500), not a 404.
    attempt_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ManualGrade,
    session: SessionDep,
    staff: StaffUser,
) -> dict[str, Any]:
    """Score a hand-graded attempt, a share (`score`, 0..1) or `points` out of its rubric's total,
    with a comment the student will see."""
    a = attempts.grade_manually(
        session,
        attempt_id=attempt_id,
        grader=staff,
        score=body.score,
        points=body.points,
        comment=body.comment,
    )
    return {**attempts.attempt_json(a), "user": users.names_by_id(session, {a.user_id}).get(a.user_id)}
