"""Check a student's answers to an instance and record the attempt of a known user."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import InstanceRecord, User
from app.services import attempts, instances
from app.services.errors import Invalid
from app.services.grading import Grader


def check_answers(
    session: Session,
    *,
    grader: Grader,
    record: InstanceRecord,
    user: User | None,
    answers: dict[str, str],
    lang: str,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Grade every part; store the attempt (committed) before returning the verdicts."""
    # A blank header is no key: otherwise every client sending `Idempotency-Key:` would share one.
    idempotency_key = (idempotency_key or "").strip() or None
    if user is not None and idempotency_key is not None:
        earlier = attempts.find_by_key(session, user=user, key=idempotency_key)
        if earlier is not None:
            if earlier.instance_id != record.id or earlier.answers != answers:
                raise Invalid(
                    "Idempotency-Key: already used for a different request", field="Idempotency-Key"
                )
            return _replay(earlier)
    inst = instances.build(record)
    known = {q.name for q in inst.parts}
    for name in answers:
        if name not in known:
            raise Invalid(
                f"answers.{name}: no such part (parts: {', '.join(sorted(known))})", field=f"answers.{name}"
            )
    result = grader.grade(inst, answers, lang)
    body = attempts.result_to_json(result)
    if user is not None:
        body["attempt_id"] = attempts.record_attempt(
            session,
            user=user,
            record=record,
            answers=answers,
            result=result,
            lang=lang,
            idempotency_key=idempotency_key,
        )
    return body


def _replay(attempt: Any) -> dict[str, Any]:
    parts = {k: {kk: vv for kk, vv in v.items() if kk != "reason"} for k, v in attempt.parts.items()}
    return {"score": attempt.score, "parts": parts, "attempt_id": attempt.id}
