"""Record checks as attempts (committed before the response) and read them back."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Engine, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.db import refuse_nul, utcnow
from app.models import Attempt, InstanceRecord, User
from app.services.errors import Invalid, NotFound, Unauthenticated
from app.services.handgrades import PointsOutOfRange, share_of
from app.services.instances import build, full_marks
from problems import GradeResult


def result_to_json(result: GradeResult) -> dict[str, Any]:
    """Return the check response body: score and each part's verdict."""
    return {
        "score": result.score,
        "parts": {
            # Built field by field: dataclasses.asdict deep-copies every value, a measurable cost per check.
            name: {
                "correct": r.correct,
                "score": r.score,
                "feedback": r.feedback,
                "interpreted": r.interpreted,
                "misconception": r.misconception,
            }
            for name, r in result.parts.items()
        },
    }


_BY_KEY = select(Attempt).where(
    Attempt.user_id == bindparam("user_id"), Attempt.idempotency_key == bindparam("key")
)


def find_by_key(session: Session, *, user: User, key: str) -> Attempt | None:
    """The attempt a user stored under an Idempotency-Key, if any (statement built once: every
    retried check runs it)."""
    return session.scalar(_BY_KEY, {"user_id": user.id, "key": key})


# Built once, values bound per call: building it with .values() coerced every value into the
# statement and keyed the cache on them, which cost more than the INSERT itself (measured).
_INSERT_ATTEMPT = insert(Attempt.__table__)
_INSERT_ATTEMPT_RETURNING = _INSERT_ATTEMPT.returning(Attempt.__table__.c.id)
# The columns of a new attempt (record_attempt's row), in the order bound on SQLite.
_ROW = (
    "user_id", "instance_id", "problem", "answers", "parts", "score", "idempotency_key", "lang", "needs_manual",
    "created_at",
)  # fmt: skip


@lru_cache
def _sqlite_insert(dialect: Dialect) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """The attempt INSERT for the SQLite driver itself, and each column type's own conversion
    (JSON to text, the UTC time, booleans), as SQLAlchemy would bind them."""
    columns = [Attempt.__table__.c[name] for name in _ROW]
    sql = f"INSERT INTO attempts ({', '.join(_ROW)}) VALUES ({', '.join('?' for _ in _ROW)})"
    return sql, [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def _insert_committed(session: Session, row: dict[str, Any]) -> int:
    """INSERT the attempt, commit, and return its id.

    On SQLite, when the session has only read so far (or nothing: the caller and the instance were
    cached), it is one call of the driver in autocommit mode: the database's write lock is taken
    and freed inside one call into SQLite. As INSERT ... RETURNING and a COMMIT, the lock was held
    across Python code, where a thread waits for the GIL for milliseconds under load while the
    other worker process's writers sleep in SQLite's busy handler (both CPUs were 15 % idle during
    bench.http_bench's checks, 5 % after). And not through SQLAlchemy's execute, nor a session
    transaction begun for it alone: they cost 0.30 and 0.23 M instructions per attempt, the driver's
    call a tenth of the first (callgrind; a known user's check was 4.06 M). The conversions are the
    column types' own, and the errors SQLAlchemy's, so callers see what the other path raises."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        if not session.in_transaction() and isinstance(bind, Engine):
            raw = bind.raw_connection()  # one connection per request still: the session holds none
            try:
                return _sqlite_autocommit_insert(raw.driver_connection, bind.dialect, row, raw.invalidate)
            finally:
                raw.close()
        conn = session.connection()
        dbapi = conn.connection.driver_connection
        if isinstance(dbapi, sqlite3.Connection) and _only_read(dbapi):
            attempt_id = _sqlite_autocommit_insert(dbapi, bind.dialect, row, conn.invalidate)
            session.commit()  # ends the session's (read) transaction
            return attempt_id
    attempt_id: int = session.execute(_INSERT_ATTEMPT_RETURNING, row).scalar_one()
    session.commit()
    return attempt_id


def _only_read(dbapi: sqlite3.Connection) -> bool:
    """No write pending on the connection (False when it is closed: SQLAlchemy's path reports that)."""
    try:
        return not dbapi.in_transaction
    except sqlite3.ProgrammingError:
        return False


def _sqlite_autocommit_insert(
    dbapi: Any, dialect: Dialect, row: dict[str, Any], invalidate: Callable[[], None]
) -> int:
    sql, convert = _sqlite_insert(dialect)
    values = [f(row[name]) if f else row[name] for name, f in zip(_ROW, convert, strict=True)]
    refuse_nul(sql, values)
    try:
        level = dbapi.isolation_level
        dbapi.isolation_level = None  # autocommit; the id comes back as lastrowid, no RETURNING
        try:
            attempt_id: int = dbapi.execute(sql, values).lastrowid
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # a closed connection has no level
                dbapi.isolation_level = level
    except sqlite3.Error as exc:
        # As SQLAlchemy's own execute does: a connection that is gone is not pooled again, and the
        # error says so (a 503, app/errors.py), not a 500.
        gone = dialect.is_disconnect(exc, dbapi, None)
        if gone:
            invalidate()
        raise DBAPIError.instance(sql, values, exc, sqlite3.Error, connection_invalidated=gone) from exc
    return attempt_id


def record_attempt(
    session: Session,
    *,
    user: User,
    record: InstanceRecord,
    answers: dict[str, str],
    result: GradeResult,
    lang: str,
    idempotency_key: str | None,
    verdicts: dict[str, Any] | None = None,
) -> int:
    """Store the attempt, commit, and return its id. The caller has looked the Idempotency-Key up
    already; a copy of the same request that raced it here gets the first one's id.

    One prepared INSERT (_insert_committed) rather than the ORM's unit of work: nothing of the new
    row is read back here, and the flush machinery was a fifth of a check's CPU (measured).
    `verdicts` are the response's parts (result_to_json) when the caller has built them already.
    """
    verdicts = verdicts if verdicts is not None else result_to_json(result)["parts"]
    row = {
        "user_id": user.id,
        "instance_id": record.id,
        "problem": record.problem,
        "answers": dict(answers),
        "parts": {name: {**p, "reason": result.parts[name].reason} for name, p in verdicts.items()},
        "score": result.score,
        "idempotency_key": idempotency_key,
        "lang": lang,
        "needs_manual": any(r.reason == "manual" for r in result.parts.values()),
        "created_at": utcnow(),
    }
    try:
        attempt_id = _insert_committed(session, row)
    except IntegrityError:
        # Two copies of the same retried request raced; the other one was stored first.
        session.rollback()
        existing = find_by_key(session, user=user, key=idempotency_key) if idempotency_key else None
        if existing is not None:
            return existing.id
        if session.get(User, user.id) is None:
            # Deleted since its token was read (the check route remembers the token's owner for a
            # while: users.CheckCallers): no attempt of nobody, and no 500 for it either.
            raise Unauthenticated("this account no longer exists") from None
        raise
    return attempt_id


def last_answers(session: Session, *, user: User, instance_id: str) -> dict[str, str] | None:
    """The answers of a user's latest attempt at an instance, as typed (None: never attempted)."""
    answers: dict[str, str] | None = session.scalar(
        select(Attempt.answers)
        .where(Attempt.user_id == user.id, Attempt.instance_id == instance_id)
        .order_by(Attempt.created_at.desc(), Attempt.id.desc())
        .limit(1)
    )
    return answers


def attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "instance_id": a.instance_id,
        "problem": a.problem,
        "score": a.score,
        "answers": a.answers,
        "parts": {k: {kk: vv for kk, vv in v.items() if kk != "reason"} for k, v in a.parts.items()},
        "created_at": a.created_at.isoformat(),
        "needs_manual": a.needs_manual,
        "manual_score": a.manual_score,
        "manual_comment": a.manual_comment,
    }


def list_attempts(
    session: Session,
    *,
    user: User | None = None,
    problem: str | None = None,
    ungraded: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    oldest_first: bool = False,
) -> tuple[list[Attempt], int]:
    """Attempts newest first (or oldest: a TA's queue), filtered; returns the page and the total count."""
    q = select(Attempt)
    if user is not None:
        q = q.where(Attempt.user_id == user.id)
    if problem is not None:
        q = q.where(Attempt.problem == problem)
    if ungraded is not None:
        q = q.where(Attempt.needs_manual.is_(True))
        q = q.where(Attempt.graded_at.is_(None) if ungraded else Attempt.graded_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = list(
        session.scalars(
            q.order_by(
                *(
                    (Attempt.created_at, Attempt.id)
                    if oldest_first
                    else (Attempt.created_at.desc(), Attempt.id.desc())
                )
            )
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


def grade_manually(
    session: Session,
    *,
    attempt_id: int,
    grader: User,
    score: float | None = None,
    points: float | None = None,
    comment: str,
) -> Attempt:
    """A TA scores a hand-graded attempt with a comment the student sees: a share (`score`, 0..1), or
    `points` out of its full marks (its rubric's points in all: instances.full_marks)."""
    if (score is None) == (points is None):
        raise Invalid("give either score (a share, 0 to 1) or points, not both", field="score")
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound(f"no attempt {attempt_id}")
    if not attempt.needs_manual:
        raise Invalid("attempt: this attempt has no part to grade by hand", field="attempt")
    if points is not None:
        record = session.get(InstanceRecord, attempt.instance_id)
        worth = full_marks(build(record)) if record is not None else 1.0
        score = share_of(points, worth)
        if score is None:
            what = {"zh": "这道题", "en": "this question"}
            raise PointsOutOfRange(points, worth, what)
    if not 0.0 <= score <= 1.0:
        raise Invalid("score: a number from 0 to 1", field="score")
    attempt.manual_score = score
    attempt.manual_comment = comment
    attempt.graded_by = grader.id
    attempt.graded_at = utcnow()
    # The attempt's score becomes the mean over parts with the manual parts at the TA's score.
    parts = dict(attempt.parts)
    for name, p in parts.items():
        if p.get("reason") == "manual":
            parts[name] = {
                **p,
                "score": score,
                "correct": score >= 1.0,
                "feedback": comment,  # no comment now is none: not an earlier grade's (as on exams)
            }
    attempt.parts = parts
    attempt.score = sum(float(p["score"]) for p in parts.values()) / len(parts) if parts else score
    session.commit()
    return attempt
