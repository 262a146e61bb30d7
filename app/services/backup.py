"""A JSONL backup of users, instances, attempts, exams and exam work that round-trips (import is idempotent)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.db import make_engine, make_session_factory
from app.models import (
    Attempt,
    Exam,
    ExamAssignment,
    ExamQuestion,
    ExamSubmission,
    ExamVariant,
    InstanceRecord,
    User,
)

# Password hashes are exported so a restore keeps logins working: treat the file as a secret.
USER_FIELDS = ("name", "display_name", "role", "password_hash", "active", "lang", "created_at")
INSTANCE_FIELDS = ("id", "problem", "version", "seed", "params", "created_at")
ATTEMPT_FIELDS = (
    "instance_id",
    "problem",
    "answers",
    "parts",
    "score",
    "idempotency_key",
    "lang",
    "created_at",
    "needs_manual",
    "manual_score",
    "manual_comment",
    "graded_at",
)
EXAM_FIELDS = (
    "id",
    "title",
    "seed",
    "lang",
    "spec",
    "kind",
    "opens_at",
    "due_at",
    "time_limit_minutes",
    "created_at",
    "warnings",
)
SUBMISSION_FIELDS = (
    "student",
    "answers",
    "results",
    "score",
    "max_score",
    "late",
    "needs_manual",
    "created_at",
)
KINDS = ("users", "instances", "attempts", "exams", "exam_assignments", "exam_submissions")


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def export_jsonl(database_url: str, out: TextIO) -> dict[str, int]:
    """Write one JSON object per line: users, instances, attempts, exams, assignments, submissions."""
    engine = make_engine(database_url)
    counts = dict.fromkeys(KINDS, 0)

    def emit(kind: str, counter: str, row: dict[str, Any]) -> None:
        out.write(json.dumps({"kind": kind, **row}, ensure_ascii=False) + "\n")
        counts[counter] += 1

    def fields(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
        return {f: _plain(getattr(obj, f)) for f in names}

    with make_session_factory(engine)() as s:
        users = {uid: name for uid, name in s.execute(select(User.id, User.name))}

        def name(uid: int | None) -> str | None:
            return users.get(uid) if uid else None

        for u in s.scalars(select(User).order_by(User.id)):
            emit("user", "users", fields(u, USER_FIELDS))
        for i in s.scalars(select(InstanceRecord).order_by(InstanceRecord.created_at, InstanceRecord.id)):
            emit("instance", "instances", {**fields(i, INSTANCE_FIELDS), "created_by": name(i.created_by)})
        for a in s.scalars(select(Attempt).order_by(Attempt.id)):
            row = {**fields(a, ATTEMPT_FIELDS), "user": users[a.user_id], "graded_by": name(a.graded_by)}
            emit("attempt", "attempts", row)
        codes: dict[int, str] = {}
        exams = select(Exam).options(selectinload(Exam.variants).selectinload(ExamVariant.questions))
        for e in s.scalars(exams.order_by(Exam.created_at, Exam.id)):
            row = fields(e, EXAM_FIELDS)
            row["exam_kind"] = row.pop("kind")  # "kind" names the record
            row["created_by"] = name(e.created_by)
            row["variants"] = [
                {
                    "index": v.index,
                    "code": v.code,
                    "assigned_to": name(v.assigned_to),
                    "questions": [
                        {"number": q.number, "instance_id": q.instance_id, "points": q.points}
                        for q in v.questions
                    ],
                }
                for v in e.variants
            ]
            codes.update((v.id, v.code) for v in e.variants)
            emit("exam", "exams", row)
        for a in s.scalars(select(ExamAssignment).order_by(ExamAssignment.id)):
            row = {"exam_id": a.exam_id, "user": users[a.user_id], "code": codes[a.variant_id]}
            emit("exam_assignment", "exam_assignments", {**row, "started_at": _plain(a.started_at)})
        for sub in s.scalars(select(ExamSubmission).order_by(ExamSubmission.id)):
            row = {**fields(sub, SUBMISSION_FIELDS), "exam_id": sub.exam_id, "code": codes[sub.variant_id]}
            emit("exam_submission", "exam_submissions", {**row, "user": name(sub.user_id)})
    engine.dispose()
    return counts


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def import_jsonl(database_url: str, lines: Iterable[str]) -> dict[str, int]:
    """Restore a backup; rows already present (same user name, instance id, attempt key) are skipped."""
    engine = make_engine(database_url)
    added = {**dict.fromkeys(KINDS, 0), "skipped": 0}
    importers = {
        "user": ("users", _import_user),
        "instance": ("instances", _import_instance),
        "attempt": ("attempts", _import_attempt),
        "exam": ("exams", _import_exam),
        "exam_assignment": ("exam_assignments", _import_assignment),
        "exam_submission": ("exam_submissions", _import_submission),
    }
    with make_session_factory(engine)() as s:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                kind = row.pop("kind")
            except (ValueError, KeyError) as exc:
                raise ValueError(f"line {n}: not a backup record ({exc})") from None
            if kind not in importers:
                raise ValueError(f"line {n}: unknown record kind {kind!r}")
            counter, importer = importers[kind]
            try:
                added[counter if importer(s, row) else "skipped"] += 1
            except (KeyError, TypeError) as exc:
                raise ValueError(f"line {n}: a {kind} record without {exc}") from None
            s.flush()
        s.commit()
    engine.dispose()
    return added


def _user_id(s: Session, name: str | None) -> int | None:
    return s.scalar(select(User.id).where(User.name == name)) if name else None


def _import_user(s: Session, row: dict[str, Any]) -> bool:
    if _user_id(s, row["name"]) is not None:
        return False
    s.add(User(**{**row, "created_at": _dt(row.get("created_at"))}))
    return True


def _import_instance(s: Session, row: dict[str, Any]) -> bool:
    if s.get(InstanceRecord, row["id"]) is not None:
        return False
    creator = row.pop("created_by", None)
    s.add(
        InstanceRecord(
            **{**row, "created_at": _dt(row.get("created_at")), "created_by": _user_id(s, creator)}
        )
    )
    return True


def _import_attempt(s: Session, row: dict[str, Any]) -> bool:
    uid = _user_id(s, row.pop("user"))
    if uid is None:
        raise ValueError("attempt of an unknown user: users must come first in the file")
    created = _dt(row["created_at"])
    exists = s.scalar(
        select(Attempt.id).where(
            Attempt.user_id == uid, Attempt.instance_id == row["instance_id"], Attempt.created_at == created
        )
    )
    if exists is not None:
        return False
    grader = row.pop("graded_by", None)
    s.add(
        Attempt(
            **{**row, "user_id": uid, "created_at": created, "graded_at": _dt(row.get("graded_at"))},
            graded_by=_user_id(s, grader),
        )
    )
    return True


def _variant_id(s: Session, exam_id: str, code: str) -> int:
    vid = s.scalar(select(ExamVariant.id).where(ExamVariant.exam_id == exam_id, ExamVariant.code == code))
    if vid is None:
        raise ValueError(
            f"variant {code!r} of exam {exam_id!r} is unknown: exams must come first in the file"
        )
    return vid


def _import_exam(s: Session, row: dict[str, Any]) -> bool:
    if s.get(Exam, row["id"]) is not None:
        return False
    variants = row.pop("variants")
    row["kind"] = row.pop("exam_kind")
    creator = row.pop("created_by", None)
    dates = {k: _dt(row.get(k)) for k in ("opens_at", "due_at", "created_at")}
    exam = Exam(**{**row, **dates}, created_by=_user_id(s, creator))
    for v in variants:
        exam.variants.append(
            ExamVariant(
                index=v["index"],
                code=v["code"],
                assigned_to=_user_id(s, v.get("assigned_to")),
                questions=[ExamQuestion(**q) for q in v["questions"]],
            )
        )
    s.add(exam)
    return True


def _import_assignment(s: Session, row: dict[str, Any]) -> bool:
    uid = _user_id(s, row["user"])
    if uid is None:
        raise ValueError("assignment of an unknown user: users must come first in the file")
    exists = s.scalar(
        select(ExamAssignment.id).where(
            ExamAssignment.exam_id == row["exam_id"], ExamAssignment.user_id == uid
        )
    )
    if exists is not None:
        return False
    s.add(
        ExamAssignment(
            exam_id=row["exam_id"],
            user_id=uid,
            variant_id=_variant_id(s, row["exam_id"], row["code"]),
            started_at=_dt(row["started_at"]),
        )
    )
    return True


def _import_submission(s: Session, row: dict[str, Any]) -> bool:
    created = _dt(row["created_at"])
    exists = s.scalar(
        select(ExamSubmission.id).where(
            ExamSubmission.exam_id == row["exam_id"],
            ExamSubmission.student == row["student"],
            ExamSubmission.created_at == created,
        )
    )
    if exists is not None:
        return False
    fields = {f: row[f] for f in SUBMISSION_FIELDS}
    s.add(
        ExamSubmission(
            **{**fields, "created_at": created},
            exam_id=row["exam_id"],
            variant_id=_variant_id(s, row["exam_id"], row["code"]),
            user_id=_user_id(s, row.get("user")),
        )
    )
    return True
