"""A JSONL backup of users, instances and attempts that round-trips (import is idempotent)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine, make_session_factory
from app.models import Attempt, InstanceRecord, User

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


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def export_jsonl(database_url: str, out: TextIO) -> dict[str, int]:
    """Write one JSON object per line: users, then instances, then attempts."""
    engine = make_engine(database_url)
    counts = {"users": 0, "instances": 0, "attempts": 0}
    with make_session_factory(engine)() as s:
        names = {uid: name for uid, name in s.execute(select(User.id, User.name))}
        for u in s.scalars(select(User).order_by(User.id)):
            out.write(
                json.dumps(
                    {"kind": "user", **{f: _plain(getattr(u, f)) for f in USER_FIELDS}}, ensure_ascii=False
                )
                + "\n"
            )
            counts["users"] += 1
        for i in s.scalars(select(InstanceRecord).order_by(InstanceRecord.created_at, InstanceRecord.id)):
            row = {f: _plain(getattr(i, f)) for f in INSTANCE_FIELDS}
            row["created_by"] = names.get(i.created_by) if i.created_by else None
            out.write(json.dumps({"kind": "instance", **row}, ensure_ascii=False) + "\n")
            counts["instances"] += 1
        for a in s.scalars(select(Attempt).order_by(Attempt.id)):
            row = {f: _plain(getattr(a, f)) for f in ATTEMPT_FIELDS}
            row["user"] = names[a.user_id]
            row["graded_by"] = names.get(a.graded_by) if a.graded_by else None
            out.write(json.dumps({"kind": "attempt", **row}, ensure_ascii=False) + "\n")
            counts["attempts"] += 1
    engine.dispose()
    return counts


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def import_jsonl(database_url: str, lines: Iterable[str]) -> dict[str, int]:
    """Restore a backup; rows already present (same user name, instance id, attempt key) are skipped."""
    engine = make_engine(database_url)
    added = {"users": 0, "instances": 0, "attempts": 0, "skipped": 0}
    with make_session_factory(engine)() as s:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                kind = row.pop("kind")
            except (ValueError, KeyError) as exc:
                raise ValueError(f"line {n}: not a backup record ({exc})") from None
            if kind == "user":
                added["users" if _import_user(s, row) else "skipped"] += 1
            elif kind == "instance":
                added["instances" if _import_instance(s, row) else "skipped"] += 1
            elif kind == "attempt":
                added["attempts" if _import_attempt(s, row) else "skipped"] += 1
            else:
                raise ValueError(f"line {n}: unknown record kind {kind!r}")
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
